// Package sbecodec encodes internal/market events as ims SBE messages and
// decodes them back. It is the bridge the relay (encode) and tail (decode)
// use between the normalized events and the generated flyweights in
// sbe/imssbe.
//
// Append functions add one complete message (header included) to dst and
// return the extended slice; they allocate only when dst lacks capacity, so
// a caller that reuses its batch buffer encodes without allocating. Decode
// functions read one message starting at msg[0] into a caller's event,
// reusing its slices; they check the whole message against msg first and
// never read past it.
//
// The market types and the ims schema share their enum values (ExchangeID,
// Channel, KlineInterval, Side, ...), so enums are copied as numbers and
// values the schema does not name survive a round trip.
package sbecodec

import (
	"errors"
	"fmt"
	"slices"

	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/sbe/imssbe"
	"github.com/ims-dev/ims/sbe/sbert"
)

// Encoded sizes (header included) of the fixed-size messages.
const (
	TradeSize       = imssbe.HeaderLength + imssbe.TradeBlockLength
	AggTradeSize    = imssbe.HeaderLength + imssbe.AggTradeBlockLength
	KlineSize       = imssbe.HeaderLength + imssbe.KlineBlockLength
	BookTickerSize  = imssbe.HeaderLength + imssbe.BookTickerBlockLength
	TickerSize      = imssbe.HeaderLength + imssbe.TickerBlockLength
	MarkPriceSize   = imssbe.HeaderLength + imssbe.MarkPriceBlockLength
	LiquidationSize = imssbe.HeaderLength + imssbe.LiquidationBlockLength
	IndexPriceSize  = imssbe.HeaderLength + imssbe.IndexPriceBlockLength
	TradeBarSize    = imssbe.HeaderLength + imssbe.TradeBarBlockLength
	DataBarSize     = imssbe.HeaderLength + imssbe.DataBarBlockLength
)

// MaxLevels is the most price levels one side of a depth message holds
// (the groupSizeEncoding numInGroup maximum).
const MaxLevels = 65534

// MaxDetail is the longest Status detail text in bytes.
const MaxDetail = 65534

const (
	groupHeader = 4  // groupSizeEncoding
	levelSize   = 18 // price + quantity
	varHeader   = 2  // varStringEncoding length
)

// Errors of the encoders.
var (
	ErrTooManyLevels = errors.New("sbecodec: more than 65534 levels on one side of the book")
	ErrDetailTooLong = errors.New("sbecodec: status detail longer than 65534 bytes")
)

// DepthUpdateSize is the encoded size of ev.
func DepthUpdateSize(ev *market.DepthUpdate) int {
	return imssbe.HeaderLength + imssbe.DepthUpdateBlockLength + 2*groupHeader + levelSize*(len(ev.Bids)+len(ev.Asks))
}

// DepthSnapshotSize is the encoded size of ev.
func DepthSnapshotSize(ev *market.DepthSnapshot) int {
	return imssbe.HeaderLength + imssbe.DepthSnapshotBlockLength + 2*groupHeader + levelSize*(len(ev.Bids)+len(ev.Asks))
}

// StatusSize is the encoded size of ev.
func StatusSize(ev *market.Status) int {
	return imssbe.HeaderLength + imssbe.StatusBlockLength + varHeader + len(ev.Detail)
}

// extend grows dst by n bytes and returns it and the new n bytes.
func extend(dst []byte, n int) (out, msg []byte) {
	dst = slices.Grow(dst, n)
	start := len(dst)
	dst = dst[:start+n]
	return dst, dst[start:]
}

func boolean(b bool) imssbe.BooleanType {
	if b {
		return imssbe.BooleanTypeTrue
	}
	return imssbe.BooleanTypeFalse
}

// The wrap calls below cannot fail: msg is exactly the message's size.

// AppendTrade appends ev as a Trade message (template 301).
func AppendTrade(dst []byte, ev *market.Trade) []byte {
	dst, msg := extend(dst, TradeSize)
	var m imssbe.Trade
	_ = m.WrapAndApplyHeader(msg, 0)
	m.SetEventTime(ev.EventTime)
	m.SetReceiveTime(ev.ReceiveTime)
	m.SetExchangeID(imssbe.ExchangeID(ev.Exchange))
	*m.SymbolIDArray() = ev.Symbol
	m.SetTradeID(ev.TradeID)
	m.Price().Set(ev.Price.Mantissa, ev.Price.Scale)
	m.Quantity().Set(ev.Quantity.Mantissa, ev.Quantity.Scale)
	m.SetTradeTime(ev.TradeTime)
	m.SetBuyerIsMaker(boolean(ev.BuyerIsMaker))
	m.SetTradeType(imssbe.TradeType(ev.Type))
	return dst
}

// AppendAggTrade appends ev as an AggTrade message (template 302).
func AppendAggTrade(dst []byte, ev *market.AggTrade) []byte {
	dst, msg := extend(dst, AggTradeSize)
	var m imssbe.AggTrade
	_ = m.WrapAndApplyHeader(msg, 0)
	m.SetEventTime(ev.EventTime)
	m.SetReceiveTime(ev.ReceiveTime)
	m.SetExchangeID(imssbe.ExchangeID(ev.Exchange))
	*m.SymbolIDArray() = ev.Symbol
	m.SetAggTradeID(ev.AggTradeID)
	m.Price().Set(ev.Price.Mantissa, ev.Price.Scale)
	m.Quantity().Set(ev.Quantity.Mantissa, ev.Quantity.Scale)
	m.SetFirstTradeID(ev.FirstTradeID)
	m.SetLastTradeID(ev.LastTradeID)
	m.SetTradeTime(ev.TradeTime)
	m.SetBuyerIsMaker(boolean(ev.BuyerIsMaker))
	return dst
}

// AppendKline appends ev as a Kline message (template 303).
func AppendKline(dst []byte, ev *market.Kline) []byte {
	dst, msg := extend(dst, KlineSize)
	var m imssbe.Kline
	_ = m.WrapAndApplyHeader(msg, 0)
	m.SetEventTime(ev.EventTime)
	m.SetReceiveTime(ev.ReceiveTime)
	m.SetExchangeID(imssbe.ExchangeID(ev.Exchange))
	*m.SymbolIDArray() = ev.Symbol
	m.SetInterval(imssbe.KlineInterval(ev.Interval))
	m.SetOpenTime(ev.OpenTime)
	m.SetCloseTime(ev.CloseTime)
	m.SetFirstTradeID(ev.FirstTradeID)
	m.SetLastTradeID(ev.LastTradeID)
	m.Open().Set(ev.Open.Mantissa, ev.Open.Scale)
	m.High().Set(ev.High.Mantissa, ev.High.Scale)
	m.Low().Set(ev.Low.Mantissa, ev.Low.Scale)
	m.Close().Set(ev.Close.Mantissa, ev.Close.Scale)
	m.Volume().Set(ev.Volume.Mantissa, ev.Volume.Scale)
	m.QuoteVolume().Set(ev.QuoteVolume.Mantissa, ev.QuoteVolume.Scale)
	m.SetTradeCount(ev.TradeCount)
	m.TakerBuyVolume().Set(ev.TakerBuyVolume.Mantissa, ev.TakerBuyVolume.Scale)
	m.TakerBuyQuoteVolume().Set(ev.TakerBuyQuoteVolume.Mantissa, ev.TakerBuyQuoteVolume.Scale)
	m.SetClosed(boolean(ev.Closed))
	return dst
}

// AppendBookTicker appends ev as a BookTicker message (template 304).
func AppendBookTicker(dst []byte, ev *market.BookTicker) []byte {
	dst, msg := extend(dst, BookTickerSize)
	var m imssbe.BookTicker
	_ = m.WrapAndApplyHeader(msg, 0)
	m.SetEventTime(ev.EventTime)
	m.SetReceiveTime(ev.ReceiveTime)
	m.SetExchangeID(imssbe.ExchangeID(ev.Exchange))
	*m.SymbolIDArray() = ev.Symbol
	m.SetUpdateID(ev.UpdateID)
	m.SetTransactionTime(ev.TransactionTime)
	m.BidPrice().Set(ev.BidPrice.Mantissa, ev.BidPrice.Scale)
	m.BidQty().Set(ev.BidQty.Mantissa, ev.BidQty.Scale)
	m.AskPrice().Set(ev.AskPrice.Mantissa, ev.AskPrice.Scale)
	m.AskQty().Set(ev.AskQty.Mantissa, ev.AskQty.Scale)
	return dst
}

// AppendDepthUpdate appends ev as a DepthUpdate message (template 305). It
// fails, appending nothing, when a side has more than MaxLevels levels.
func AppendDepthUpdate(dst []byte, ev *market.DepthUpdate) ([]byte, error) {
	if len(ev.Bids) > MaxLevels || len(ev.Asks) > MaxLevels {
		return dst, ErrTooManyLevels
	}
	dst, msg := extend(dst, DepthUpdateSize(ev))
	var m imssbe.DepthUpdate
	_ = m.WrapAndApplyHeader(msg, 0)
	m.SetEventTime(ev.EventTime)
	m.SetReceiveTime(ev.ReceiveTime)
	m.SetExchangeID(imssbe.ExchangeID(ev.Exchange))
	*m.SymbolIDArray() = ev.Symbol
	m.SetTransactionTime(ev.TransactionTime)
	m.SetFirstUpdateID(ev.FirstUpdateID)
	m.SetLastUpdateID(ev.LastUpdateID)
	m.SetPrevLastUpdateID(ev.PrevLastUpdateID)
	// Entries by index, in explicit loops rather than a generic helper: the
	// accessors inline to two 8-byte and two 1-byte stores per level. The
	// level slices are copied to locals so that the stores into msg,
	// which might alias *ev as far as the compiler knows, do not force it
	// to reload them on every level.
	lv := ev.Bids
	bids, _ := m.PutBids(len(lv))
	for i := range lv {
		l, e := &lv[i], bids.Entry(i)
		e.Price().Set(l.Price.Mantissa, l.Price.Scale)
		e.Quantity().Set(l.Quantity.Mantissa, l.Quantity.Scale)
	}
	lv = ev.Asks
	asks, _ := m.PutAsks(len(lv))
	for i := range lv {
		l, e := &lv[i], asks.Entry(i)
		e.Price().Set(l.Price.Mantissa, l.Price.Scale)
		e.Quantity().Set(l.Quantity.Mantissa, l.Quantity.Scale)
	}
	return dst, nil
}

// AppendDepthSnapshot appends ev as a DepthSnapshot message (template 306).
// It fails, appending nothing, when a side has more than MaxLevels levels.
func AppendDepthSnapshot(dst []byte, ev *market.DepthSnapshot) ([]byte, error) {
	if len(ev.Bids) > MaxLevels || len(ev.Asks) > MaxLevels {
		return dst, ErrTooManyLevels
	}
	dst, msg := extend(dst, DepthSnapshotSize(ev))
	var m imssbe.DepthSnapshot
	_ = m.WrapAndApplyHeader(msg, 0)
	m.SetEventTime(ev.EventTime)
	m.SetReceiveTime(ev.ReceiveTime)
	m.SetExchangeID(imssbe.ExchangeID(ev.Exchange))
	*m.SymbolIDArray() = ev.Symbol
	m.SetSource(imssbe.SnapshotSource(ev.Source))
	m.SetTransactionTime(ev.TransactionTime)
	m.SetLastUpdateID(ev.LastUpdateID)
	// The level slices are copied to locals so that the stores into msg,
	// which might alias *ev as far as the compiler knows, do not force it
	// to reload them on every level.
	lv := ev.Bids
	bids, _ := m.PutBids(len(lv))
	for i := range lv {
		l, e := &lv[i], bids.Entry(i)
		e.Price().Set(l.Price.Mantissa, l.Price.Scale)
		e.Quantity().Set(l.Quantity.Mantissa, l.Quantity.Scale)
	}
	lv = ev.Asks
	asks, _ := m.PutAsks(len(lv))
	for i := range lv {
		l, e := &lv[i], asks.Entry(i)
		e.Price().Set(l.Price.Mantissa, l.Price.Scale)
		e.Quantity().Set(l.Quantity.Mantissa, l.Quantity.Scale)
	}
	return dst, nil
}

// AppendTicker appends ev as a Ticker message (template 307).
func AppendTicker(dst []byte, ev *market.Ticker) []byte {
	dst, msg := extend(dst, TickerSize)
	var m imssbe.Ticker
	_ = m.WrapAndApplyHeader(msg, 0)
	m.SetEventTime(ev.EventTime)
	m.SetReceiveTime(ev.ReceiveTime)
	m.SetExchangeID(imssbe.ExchangeID(ev.Exchange))
	*m.SymbolIDArray() = ev.Symbol
	m.SetKind(imssbe.TickerKind(ev.Kind))
	m.PriceChange().Set(ev.PriceChange.Mantissa, ev.PriceChange.Scale)
	m.PriceChangePercent().Set(ev.PriceChangePercent.Mantissa, ev.PriceChangePercent.Scale)
	m.WeightedAvgPrice().Set(ev.WeightedAvgPrice.Mantissa, ev.WeightedAvgPrice.Scale)
	m.LastPrice().Set(ev.LastPrice.Mantissa, ev.LastPrice.Scale)
	m.LastQty().Set(ev.LastQty.Mantissa, ev.LastQty.Scale)
	m.OpenPrice().Set(ev.OpenPrice.Mantissa, ev.OpenPrice.Scale)
	m.HighPrice().Set(ev.HighPrice.Mantissa, ev.HighPrice.Scale)
	m.LowPrice().Set(ev.LowPrice.Mantissa, ev.LowPrice.Scale)
	m.Volume().Set(ev.Volume.Mantissa, ev.Volume.Scale)
	m.QuoteVolume().Set(ev.QuoteVolume.Mantissa, ev.QuoteVolume.Scale)
	m.BidPrice().Set(ev.BidPrice.Mantissa, ev.BidPrice.Scale)
	m.BidQty().Set(ev.BidQty.Mantissa, ev.BidQty.Scale)
	m.AskPrice().Set(ev.AskPrice.Mantissa, ev.AskPrice.Scale)
	m.AskQty().Set(ev.AskQty.Mantissa, ev.AskQty.Scale)
	m.SetOpenTime(ev.OpenTime)
	m.SetCloseTime(ev.CloseTime)
	m.SetFirstTradeID(ev.FirstTradeID)
	m.SetLastTradeID(ev.LastTradeID)
	m.SetTradeCount(ev.TradeCount)
	return dst
}

// AppendMarkPrice appends ev as a MarkPrice message (template 308).
func AppendMarkPrice(dst []byte, ev *market.MarkPrice) []byte {
	dst, msg := extend(dst, MarkPriceSize)
	var m imssbe.MarkPrice
	_ = m.WrapAndApplyHeader(msg, 0)
	m.SetEventTime(ev.EventTime)
	m.SetReceiveTime(ev.ReceiveTime)
	m.SetExchangeID(imssbe.ExchangeID(ev.Exchange))
	*m.SymbolIDArray() = ev.Symbol
	m.MarkPrice().Set(ev.MarkPrice.Mantissa, ev.MarkPrice.Scale)
	m.IndexPrice().Set(ev.IndexPrice.Mantissa, ev.IndexPrice.Scale)
	m.EstimatedSettlePrice().Set(ev.EstimatedSettlePrice.Mantissa, ev.EstimatedSettlePrice.Scale)
	m.FundingRate().Set(ev.FundingRate.Mantissa, ev.FundingRate.Scale)
	m.SetNextFundingTime(ev.NextFundingTime)
	return dst
}

// AppendLiquidation appends ev as a Liquidation message (template 309).
func AppendLiquidation(dst []byte, ev *market.Liquidation) []byte {
	dst, msg := extend(dst, LiquidationSize)
	var m imssbe.Liquidation
	_ = m.WrapAndApplyHeader(msg, 0)
	m.SetEventTime(ev.EventTime)
	m.SetReceiveTime(ev.ReceiveTime)
	m.SetExchangeID(imssbe.ExchangeID(ev.Exchange))
	*m.SymbolIDArray() = ev.Symbol
	m.SetSide(imssbe.Side(ev.Side))
	m.SetOrderType(imssbe.OrderType(ev.OrderType))
	m.SetTimeInForce(imssbe.TimeInForce(ev.TimeInForce))
	m.SetStatus(imssbe.OrderStatus(ev.Status))
	m.Price().Set(ev.Price.Mantissa, ev.Price.Scale)
	m.Quantity().Set(ev.Quantity.Mantissa, ev.Quantity.Scale)
	m.AveragePrice().Set(ev.AveragePrice.Mantissa, ev.AveragePrice.Scale)
	m.LastFilledQty().Set(ev.LastFilledQty.Mantissa, ev.LastFilledQty.Scale)
	m.FilledQty().Set(ev.FilledQty.Mantissa, ev.FilledQty.Scale)
	m.SetTradeTime(ev.TradeTime)
	return dst
}

// AppendIndexPrice appends ev as an IndexPrice message (template 310).
func AppendIndexPrice(dst []byte, ev *market.IndexPrice) []byte {
	dst, msg := extend(dst, IndexPriceSize)
	var m imssbe.IndexPrice
	_ = m.WrapAndApplyHeader(msg, 0)
	m.SetEventTime(ev.EventTime)
	m.SetReceiveTime(ev.ReceiveTime)
	m.SetExchangeID(imssbe.ExchangeID(ev.Exchange))
	*m.SymbolIDArray() = ev.Symbol
	m.IndexPrice().Set(ev.Price.Mantissa, ev.Price.Scale)
	return dst
}

// AppendStatus appends ev as a Status message (template 320). It fails,
// appending nothing, when the detail is longer than MaxDetail bytes.
func AppendStatus(dst []byte, ev *market.Status) ([]byte, error) {
	if len(ev.Detail) > MaxDetail {
		return dst, ErrDetailTooLong
	}
	dst, msg := extend(dst, StatusSize(ev))
	var m imssbe.Status
	_ = m.WrapAndApplyHeader(msg, 0)
	m.SetEventTime(ev.EventTime)
	m.SetReceiveTime(ev.ReceiveTime)
	m.SetExchangeID(imssbe.ExchangeID(ev.Exchange))
	*m.SymbolIDArray() = ev.Symbol
	m.SetChannel(imssbe.Channel(ev.Channel))
	m.SetKind(imssbe.StatusKind(ev.Kind))
	m.SetGapFrom(ev.GapFrom)
	m.SetGapTo(ev.GapTo)
	_ = m.SetDetailString(ev.Detail)
	return dst, nil
}

// AppendTradeBar appends ev as the original system's TradeBar (template
// 205): symbol, trade time (µs), price and quantity. The symbol is written
// as the event holds it (upper case), not lower-cased as the original live
// path did.
func AppendTradeBar(dst []byte, ev *market.Trade) []byte {
	dst, msg := extend(dst, TradeBarSize)
	var m imssbe.TradeBar
	_ = m.WrapAndApplyHeader(msg, 0)
	m.SetMessageType(imssbe.MessageTypeTradeBar)
	*m.SymbolIDArray() = ev.Symbol
	m.SetDateTime(ev.TradeTime)
	m.Price().Set(ev.Price.Mantissa, ev.Price.Scale)
	m.Volume().Set(ev.Quantity.Mantissa, ev.Quantity.Scale)
	return dst
}

// AppendDataBar appends ev as the original system's DataBar (template 204):
// symbol, open time (µs), open, high, low, close and base volume.
func AppendDataBar(dst []byte, ev *market.Kline) []byte {
	dst, msg := extend(dst, DataBarSize)
	var m imssbe.DataBar
	_ = m.WrapAndApplyHeader(msg, 0)
	m.SetMessageType(imssbe.MessageTypeDataBar)
	*m.SymbolIDArray() = ev.Symbol
	m.SetDateTime(ev.OpenTime)
	m.OpenPrice().Set(ev.Open.Mantissa, ev.Open.Scale)
	m.HighPrice().Set(ev.High.Mantissa, ev.High.Scale)
	m.LowPrice().Set(ev.Low.Mantissa, ev.Low.Scale)
	m.ClosePrice().Set(ev.Close.Mantissa, ev.Close.Scale)
	m.Volume().Set(ev.Volume.Mantissa, ev.Volume.Scale)
	return dst
}

// BoolError reports a BooleanType field holding neither 0 nor 1.
type BoolError struct {
	Message, Field string
	Value          uint8
}

func (e *BoolError) Error() string {
	return fmt.Sprintf("%s: %s holds %d, not a BooleanType (0 or 1)", e.Message, e.Field, e.Value)
}

func decodeBool(v imssbe.BooleanType, msg, field string) (bool, error) {
	switch v {
	case imssbe.BooleanTypeFalse:
		return false, nil
	case imssbe.BooleanTypeTrue:
		return true, nil
	}
	return false, &BoolError{Message: msg, Field: field, Value: uint8(v)}
}

// One converter per composite type (not a generic one) so the accessors
// inline.
func decP(d imssbe.DecimalPrice) market.Decimal {
	return market.Decimal{Mantissa: d.Num(), Scale: d.Scale()}
}
func decQ(d imssbe.DecimalQty) market.Decimal {
	return market.Decimal{Mantissa: d.Num(), Scale: d.Scale()}
}
func decV(d imssbe.DecimalVolume) market.Decimal {
	return market.Decimal{Mantissa: d.Num(), Scale: d.Scale()}
}
func decO(d imssbe.DecimalOptional) market.Decimal {
	return market.Decimal{Mantissa: d.Num(), Scale: d.Scale()}
}

// DecodeTrade reads the Trade message at msg[0:] into ev.
func DecodeTrade(msg []byte, ev *market.Trade) error {
	var m imssbe.Trade
	if err := m.WrapForDecodeHeader(msg, 0); err != nil {
		return err
	}
	maker, err := decodeBool(m.BuyerIsMaker(), "Trade", "buyerIsMaker")
	if err != nil {
		return err
	}
	*ev = market.Trade{
		Header:       market.Header{Exchange: market.ExchangeID(m.ExchangeID()), Symbol: *m.SymbolIDArray(), EventTime: m.EventTime(), ReceiveTime: m.ReceiveTime()},
		TradeID:      m.TradeID(),
		Price:        decP(m.Price()),
		Quantity:     decQ(m.Quantity()),
		TradeTime:    m.TradeTime(),
		BuyerIsMaker: maker,
		Type:         market.TradeType(m.TradeType()),
	}
	return nil
}

// DecodeAggTrade reads the AggTrade message at msg[0:] into ev.
func DecodeAggTrade(msg []byte, ev *market.AggTrade) error {
	var m imssbe.AggTrade
	if err := m.WrapForDecodeHeader(msg, 0); err != nil {
		return err
	}
	maker, err := decodeBool(m.BuyerIsMaker(), "AggTrade", "buyerIsMaker")
	if err != nil {
		return err
	}
	*ev = market.AggTrade{
		Header:       market.Header{Exchange: market.ExchangeID(m.ExchangeID()), Symbol: *m.SymbolIDArray(), EventTime: m.EventTime(), ReceiveTime: m.ReceiveTime()},
		AggTradeID:   m.AggTradeID(),
		Price:        decP(m.Price()),
		Quantity:     decQ(m.Quantity()),
		FirstTradeID: m.FirstTradeID(),
		LastTradeID:  m.LastTradeID(),
		TradeTime:    m.TradeTime(),
		BuyerIsMaker: maker,
	}
	return nil
}

// DecodeKline reads the Kline message at msg[0:] into ev.
func DecodeKline(msg []byte, ev *market.Kline) error {
	var m imssbe.Kline
	if err := m.WrapForDecodeHeader(msg, 0); err != nil {
		return err
	}
	closed, err := decodeBool(m.Closed(), "Kline", "closed")
	if err != nil {
		return err
	}
	*ev = market.Kline{
		Header:              market.Header{Exchange: market.ExchangeID(m.ExchangeID()), Symbol: *m.SymbolIDArray(), EventTime: m.EventTime(), ReceiveTime: m.ReceiveTime()},
		Interval:            market.KlineInterval(m.Interval()),
		OpenTime:            m.OpenTime(),
		CloseTime:           m.CloseTime(),
		FirstTradeID:        m.FirstTradeID(),
		LastTradeID:         m.LastTradeID(),
		Open:                decP(m.Open()),
		High:                decP(m.High()),
		Low:                 decP(m.Low()),
		Close:               decP(m.Close()),
		Volume:              decQ(m.Volume()),
		QuoteVolume:         decQ(m.QuoteVolume()),
		TradeCount:          m.TradeCount(),
		TakerBuyVolume:      decQ(m.TakerBuyVolume()),
		TakerBuyQuoteVolume: decQ(m.TakerBuyQuoteVolume()),
		Closed:              closed,
	}
	return nil
}

// DecodeBookTicker reads the BookTicker message at msg[0:] into ev.
func DecodeBookTicker(msg []byte, ev *market.BookTicker) error {
	var m imssbe.BookTicker
	if err := m.WrapForDecodeHeader(msg, 0); err != nil {
		return err
	}
	*ev = market.BookTicker{
		Header:          market.Header{Exchange: market.ExchangeID(m.ExchangeID()), Symbol: *m.SymbolIDArray(), EventTime: m.EventTime(), ReceiveTime: m.ReceiveTime()},
		UpdateID:        m.UpdateID(),
		TransactionTime: m.TransactionTime(),
		BidPrice:        decP(m.BidPrice()),
		BidQty:          decQ(m.BidQty()),
		AskPrice:        decP(m.AskPrice()),
		AskQty:          decQ(m.AskQty()),
	}
	return nil
}

// DecodeDepthUpdate reads the DepthUpdate message at msg[0:] into ev,
// reusing the capacity of ev.Bids and ev.Asks.
func DecodeDepthUpdate(msg []byte, ev *market.DepthUpdate) error {
	var m imssbe.DepthUpdate
	if err := m.WrapForDecodeHeader(msg, 0); err != nil {
		return err
	}
	ev.Header = market.Header{Exchange: market.ExchangeID(m.ExchangeID()), Symbol: *m.SymbolIDArray(), EventTime: m.EventTime(), ReceiveTime: m.ReceiveTime()}
	ev.TransactionTime = m.TransactionTime()
	ev.FirstUpdateID = m.FirstUpdateID()
	ev.LastUpdateID = m.LastUpdateID()
	ev.PrevLastUpdateID = m.PrevLastUpdateID()
	// Filled through locals, as in AppendDepthUpdate.
	bids := m.BidsEntries()
	lv := slices.Grow(ev.Bids[:0], bids.Count())[:bids.Count()]
	for i := range lv {
		e := bids.Entry(i)
		lv[i] = market.Level{Price: decP(e.Price()), Quantity: decQ(e.Quantity())}
	}
	ev.Bids = lv
	asks := m.AsksEntries()
	lv = slices.Grow(ev.Asks[:0], asks.Count())[:asks.Count()]
	for i := range lv {
		e := asks.Entry(i)
		lv[i] = market.Level{Price: decP(e.Price()), Quantity: decQ(e.Quantity())}
	}
	ev.Asks = lv
	return nil
}

// DecodeDepthSnapshot reads the DepthSnapshot message at msg[0:] into ev,
// reusing the capacity of ev.Bids and ev.Asks.
func DecodeDepthSnapshot(msg []byte, ev *market.DepthSnapshot) error {
	var m imssbe.DepthSnapshot
	if err := m.WrapForDecodeHeader(msg, 0); err != nil {
		return err
	}
	ev.Header = market.Header{Exchange: market.ExchangeID(m.ExchangeID()), Symbol: *m.SymbolIDArray(), EventTime: m.EventTime(), ReceiveTime: m.ReceiveTime()}
	ev.Source = market.SnapshotSource(m.Source())
	ev.TransactionTime = m.TransactionTime()
	ev.LastUpdateID = m.LastUpdateID()
	// Filled through locals, as in AppendDepthUpdate.
	bids := m.BidsEntries()
	lv := slices.Grow(ev.Bids[:0], bids.Count())[:bids.Count()]
	for i := range lv {
		e := bids.Entry(i)
		lv[i] = market.Level{Price: decP(e.Price()), Quantity: decQ(e.Quantity())}
	}
	ev.Bids = lv
	asks := m.AsksEntries()
	lv = slices.Grow(ev.Asks[:0], asks.Count())[:asks.Count()]
	for i := range lv {
		e := asks.Entry(i)
		lv[i] = market.Level{Price: decP(e.Price()), Quantity: decQ(e.Quantity())}
	}
	ev.Asks = lv
	return nil
}

// DecodeTicker reads the Ticker message at msg[0:] into ev.
func DecodeTicker(msg []byte, ev *market.Ticker) error {
	var m imssbe.Ticker
	if err := m.WrapForDecodeHeader(msg, 0); err != nil {
		return err
	}
	*ev = market.Ticker{
		Header:             market.Header{Exchange: market.ExchangeID(m.ExchangeID()), Symbol: *m.SymbolIDArray(), EventTime: m.EventTime(), ReceiveTime: m.ReceiveTime()},
		Kind:               market.TickerKind(m.Kind()),
		PriceChange:        decO(m.PriceChange()),
		PriceChangePercent: decO(m.PriceChangePercent()),
		WeightedAvgPrice:   decO(m.WeightedAvgPrice()),
		LastPrice:          decO(m.LastPrice()),
		LastQty:            decO(m.LastQty()),
		OpenPrice:          decO(m.OpenPrice()),
		HighPrice:          decO(m.HighPrice()),
		LowPrice:           decO(m.LowPrice()),
		Volume:             decO(m.Volume()),
		QuoteVolume:        decO(m.QuoteVolume()),
		BidPrice:           decO(m.BidPrice()),
		BidQty:             decO(m.BidQty()),
		AskPrice:           decO(m.AskPrice()),
		AskQty:             decO(m.AskQty()),
		OpenTime:           m.OpenTime(),
		CloseTime:          m.CloseTime(),
		FirstTradeID:       m.FirstTradeID(),
		LastTradeID:        m.LastTradeID(),
		TradeCount:         m.TradeCount(),
	}
	return nil
}

// DecodeMarkPrice reads the MarkPrice message at msg[0:] into ev.
func DecodeMarkPrice(msg []byte, ev *market.MarkPrice) error {
	var m imssbe.MarkPrice
	if err := m.WrapForDecodeHeader(msg, 0); err != nil {
		return err
	}
	*ev = market.MarkPrice{
		Header:               market.Header{Exchange: market.ExchangeID(m.ExchangeID()), Symbol: *m.SymbolIDArray(), EventTime: m.EventTime(), ReceiveTime: m.ReceiveTime()},
		MarkPrice:            decP(m.MarkPrice()),
		IndexPrice:           decO(m.IndexPrice()),
		EstimatedSettlePrice: decO(m.EstimatedSettlePrice()),
		FundingRate:          decO(m.FundingRate()),
		NextFundingTime:      m.NextFundingTime(),
	}
	return nil
}

// DecodeLiquidation reads the Liquidation message at msg[0:] into ev.
func DecodeLiquidation(msg []byte, ev *market.Liquidation) error {
	var m imssbe.Liquidation
	if err := m.WrapForDecodeHeader(msg, 0); err != nil {
		return err
	}
	*ev = market.Liquidation{
		Header:        market.Header{Exchange: market.ExchangeID(m.ExchangeID()), Symbol: *m.SymbolIDArray(), EventTime: m.EventTime(), ReceiveTime: m.ReceiveTime()},
		Side:          market.Side(m.Side()),
		OrderType:     market.OrderType(m.OrderType()),
		TimeInForce:   market.TimeInForce(m.TimeInForce()),
		Status:        market.OrderStatus(m.Status()),
		Price:         decP(m.Price()),
		Quantity:      decQ(m.Quantity()),
		AveragePrice:  decP(m.AveragePrice()),
		LastFilledQty: decQ(m.LastFilledQty()),
		FilledQty:     decQ(m.FilledQty()),
		TradeTime:     m.TradeTime(),
	}
	return nil
}

// DecodeIndexPrice reads the IndexPrice message at msg[0:] into ev.
func DecodeIndexPrice(msg []byte, ev *market.IndexPrice) error {
	var m imssbe.IndexPrice
	if err := m.WrapForDecodeHeader(msg, 0); err != nil {
		return err
	}
	*ev = market.IndexPrice{
		Header: market.Header{Exchange: market.ExchangeID(m.ExchangeID()), Symbol: *m.SymbolIDArray(), EventTime: m.EventTime(), ReceiveTime: m.ReceiveTime()},
		Price:  decP(m.IndexPrice()),
	}
	return nil
}

// DecodeStatus reads the Status message at msg[0:] into ev. The detail
// text allocates only when it differs from ev.Detail.
func DecodeStatus(msg []byte, ev *market.Status) error {
	var m imssbe.Status
	if err := m.WrapForDecodeHeader(msg, 0); err != nil {
		return err
	}
	ev.Header = market.Header{Exchange: market.ExchangeID(m.ExchangeID()), Symbol: *m.SymbolIDArray(), EventTime: m.EventTime(), ReceiveTime: m.ReceiveTime()}
	ev.Channel = market.Channel(m.Channel())
	ev.Kind = market.StatusKind(m.Kind())
	ev.GapFrom = m.GapFrom()
	ev.GapTo = m.GapTo()
	if d := m.Detail(); string(d) != ev.Detail {
		ev.Detail = string(d)
	}
	return nil
}

// upper upper-cases ASCII letters in place, as the original decoder did
// with the symbols of TradeBar and DataBar.
func upper(s *market.Symbol) {
	for i, c := range s {
		if c >= 'a' && c <= 'z' {
			s[i] = c - ('a' - 'A')
		}
	}
}

// DecodeTradeBar reads the original system's TradeBar at msg[0:] into ev:
// Symbol (upper-cased, as the original decoder did), TradeTime, Price and
// Quantity; every other field is zeroed.
func DecodeTradeBar(msg []byte, ev *market.Trade) error {
	var m imssbe.TradeBar
	if err := m.WrapForDecodeHeader(msg, 0); err != nil {
		return err
	}
	*ev = market.Trade{
		Header:    market.Header{Symbol: *m.SymbolIDArray()},
		Price:     decP(m.Price()),
		Quantity:  decV(m.Volume()),
		TradeTime: m.DateTime(),
	}
	upper(&ev.Symbol)
	return nil
}

// DecodeDataBar reads the original system's DataBar at msg[0:] into ev:
// Symbol (upper-cased), OpenTime, Open, High, Low, Close and Volume; every
// other field is zeroed (Closed is true: the original sent closed candles
// only).
func DecodeDataBar(msg []byte, ev *market.Kline) error {
	var m imssbe.DataBar
	if err := m.WrapForDecodeHeader(msg, 0); err != nil {
		return err
	}
	*ev = market.Kline{
		Header:   market.Header{Symbol: *m.SymbolIDArray()},
		OpenTime: m.DateTime(),
		Open:     decP(m.OpenPrice()),
		High:     decP(m.HighPrice()),
		Low:      decP(m.LowPrice()),
		Close:    decP(m.ClosePrice()),
		Volume:   decV(m.Volume()),
		Closed:   true,
	}
	upper(&ev.Symbol)
	return nil
}

// Events holds one reusable value of every market event; Decode fills the
// one the message carries. Keep one Events per consumer goroutine and
// decode every message into it: the depth slices keep their capacity, so
// steady-state decoding does not allocate.
type Events struct {
	Trade         market.Trade
	AggTrade      market.AggTrade
	Kline         market.Kline
	BookTicker    market.BookTicker
	DepthUpdate   market.DepthUpdate
	DepthSnapshot market.DepthSnapshot
	Ticker        market.Ticker
	MarkPrice     market.MarkPrice
	Liquidation   market.Liquidation
	IndexPrice    market.IndexPrice
	Status        market.Status
}

// Decode reads the ims market-data message at msg[0:] (templates 301-320)
// into the matching field of e and returns its template id (for example
// imssbe.TradeTemplateID: e.Trade was filled). Other templates, including
// the original control and bar messages, give an *sbert.UnknownTemplateError.
func (e *Events) Decode(msg []byte) (uint16, error) {
	h, err := imssbe.ReadHeader(msg)
	if err != nil {
		return 0, err
	}
	switch h.TemplateID {
	case imssbe.TradeTemplateID:
		err = DecodeTrade(msg, &e.Trade)
	case imssbe.AggTradeTemplateID:
		err = DecodeAggTrade(msg, &e.AggTrade)
	case imssbe.KlineTemplateID:
		err = DecodeKline(msg, &e.Kline)
	case imssbe.BookTickerTemplateID:
		err = DecodeBookTicker(msg, &e.BookTicker)
	case imssbe.DepthUpdateTemplateID:
		err = DecodeDepthUpdate(msg, &e.DepthUpdate)
	case imssbe.DepthSnapshotTemplateID:
		err = DecodeDepthSnapshot(msg, &e.DepthSnapshot)
	case imssbe.TickerTemplateID:
		err = DecodeTicker(msg, &e.Ticker)
	case imssbe.MarkPriceTemplateID:
		err = DecodeMarkPrice(msg, &e.MarkPrice)
	case imssbe.LiquidationTemplateID:
		err = DecodeLiquidation(msg, &e.Liquidation)
	case imssbe.IndexPriceTemplateID:
		err = DecodeIndexPrice(msg, &e.IndexPrice)
	case imssbe.StatusTemplateID:
		err = DecodeStatus(msg, &e.Status)
	default:
		return h.TemplateID, &sbert.UnknownTemplateError{Schema: "ims market data", Header: h}
	}
	return h.TemplateID, err
}

// Header returns the common header of the event e.Decode last filled for
// templateID, or false for a template Decode does not handle.
func (e *Events) Header(templateID uint16) (*market.Header, bool) {
	switch templateID {
	case imssbe.TradeTemplateID:
		return &e.Trade.Header, true
	case imssbe.AggTradeTemplateID:
		return &e.AggTrade.Header, true
	case imssbe.KlineTemplateID:
		return &e.Kline.Header, true
	case imssbe.BookTickerTemplateID:
		return &e.BookTicker.Header, true
	case imssbe.DepthUpdateTemplateID:
		return &e.DepthUpdate.Header, true
	case imssbe.DepthSnapshotTemplateID:
		return &e.DepthSnapshot.Header, true
	case imssbe.TickerTemplateID:
		return &e.Ticker.Header, true
	case imssbe.MarkPriceTemplateID:
		return &e.MarkPrice.Header, true
	case imssbe.LiquidationTemplateID:
		return &e.Liquidation.Header, true
	case imssbe.IndexPriceTemplateID:
		return &e.IndexPrice.Header, true
	case imssbe.StatusTemplateID:
		return &e.Status.Header, true
	}
	return nil, false
}
