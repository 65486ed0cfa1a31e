package market

// Header is what every event carries: where it came from and when.
type Header struct {
	Exchange ExchangeID
	Symbol   Symbol
	// EventTime is the exchange's event time in µs since the Unix epoch; 0
	// when the exchange sends none (spot bookTicker and partial depth).
	EventTime int64
	// ReceiveTime is the local wall clock in ns since the Unix epoch, taken
	// when the frame was read off the socket.
	ReceiveTime int64
}

// Trade is one trade (Binance @trade).
type Trade struct {
	Header
	TradeID      int64
	Price        Decimal
	Quantity     Decimal
	TradeTime    int64 // µs
	BuyerIsMaker bool
	Type         TradeType
}

// AggTrade is an aggregate trade (Binance @aggTrade).
type AggTrade struct {
	Header
	AggTradeID   int64
	Price        Decimal
	Quantity     Decimal
	FirstTradeID int64
	LastTradeID  int64
	TradeTime    int64 // µs
	BuyerIsMaker bool
}

// Kline is one candle update (Binance @kline_<interval>).
type Kline struct {
	Header
	Interval            KlineInterval
	OpenTime            int64 // µs
	CloseTime           int64 // µs
	FirstTradeID        int64
	LastTradeID         int64
	Open                Decimal
	High                Decimal
	Low                 Decimal
	Close               Decimal
	Volume              Decimal // base asset (COIN-M: contracts)
	QuoteVolume         Decimal // quote asset (COIN-M: base asset)
	TradeCount          int64
	TakerBuyVolume      Decimal
	TakerBuyQuoteVolume Decimal
	Closed              bool
}

// BookTicker is the best bid and ask (Binance @bookTicker).
type BookTicker struct {
	Header
	UpdateID        int64
	TransactionTime int64 // µs; 0 on spot
	BidPrice        Decimal
	BidQty          Decimal
	AskPrice        Decimal
	AskQty          Decimal
}

// Level is one order-book price level; Quantity zero removes it.
type Level struct {
	Price    Decimal
	Quantity Decimal
}

// DepthUpdate is an order-book diff (Binance @depth). Bids and Asks are
// reused between frames: keep their capacity, reset their length.
type DepthUpdate struct {
	Header
	TransactionTime  int64 // µs; 0 on spot
	FirstUpdateID    int64 // U
	LastUpdateID     int64 // u
	PrevLastUpdateID int64 // pu (futures); 0 on spot
	Bids             []Level
	Asks             []Level
}

// DepthSnapshot is a full or top-N book: a REST /depth reply or a partial
// depth stream frame.
type DepthSnapshot struct {
	Header
	Source          SnapshotSource
	TransactionTime int64 // µs; 0 when not sent
	LastUpdateID    int64
	Bids            []Level
	Asks            []Level
}

// Ticker is 24h rolling statistics (Binance @ticker or @miniTicker). Fields
// a mini ticker (or a market) does not send are NullDecimal / 0.
type Ticker struct {
	Header
	Kind               TickerKind
	PriceChange        Decimal
	PriceChangePercent Decimal
	WeightedAvgPrice   Decimal
	LastPrice          Decimal
	LastQty            Decimal
	OpenPrice          Decimal
	HighPrice          Decimal
	LowPrice           Decimal
	Volume             Decimal
	QuoteVolume        Decimal
	BidPrice           Decimal
	BidQty             Decimal
	AskPrice           Decimal
	AskQty             Decimal
	OpenTime           int64 // µs
	CloseTime          int64 // µs
	FirstTradeID       int64
	LastTradeID        int64
	TradeCount         int64
}

// MarkPrice is the futures mark price and funding (Binance @markPrice).
type MarkPrice struct {
	Header
	MarkPrice            Decimal
	IndexPrice           Decimal // NullDecimal when not sent
	EstimatedSettlePrice Decimal // NullDecimal when not sent
	FundingRate          Decimal // NullDecimal for delivery contracts
	NextFundingTime      int64   // µs; 0 for delivery contracts
}

// Liquidation is a forced order (Binance @forceOrder).
type Liquidation struct {
	Header
	Side          Side
	OrderType     OrderType
	TimeInForce   TimeInForce
	Status        OrderStatus
	Price         Decimal
	Quantity      Decimal
	AveragePrice  Decimal
	LastFilledQty Decimal
	FilledQty     Decimal
	TradeTime     int64 // µs
}

// IndexPrice is a COIN-M pair's index price (Binance @indexPrice); Symbol
// holds the pair.
type IndexPrice struct {
	Header
	Price Decimal
}

// Status is an in-band marker: connection state, staleness, sequence gaps.
// For gaps, GapFrom..GapTo is the missing id range, inclusive.
type Status struct {
	Header
	Channel Channel
	Kind    StatusKind
	GapFrom int64
	GapTo   int64
	Detail  string
}
