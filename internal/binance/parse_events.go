package binance

import (
	"math"

	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/source"
)

// bit returns the presence mask of slots.
func bit(slots ...int) uint64 {
	var m uint64
	for _, s := range slots {
		m |= 1 << uint(s)
	}
	return m
}

// Required fields per event, as presence masks (computed once; read-only).
var (
	reqTrade       = bit(fE, fs, ft, fp, fq, fT, fm)
	reqAggTrade    = bit(fE, fs, fp, fq, ff, fl, fT, fm)
	reqKline       = bit(fE, fk)
	reqKlineInner  = bit(ft, fT, fi, ff, fL, fo, fc, fh, fl, fv, fn, fx, fq, fV, fQ)
	reqBookTicker  = bit(fu, fs, fb, fB, fa, fA)
	reqDepth       = bit(fE, fs, fU, fu, fb, fa)
	reqSpotPartial = bit(fLastUpdateID, fBids, fAsks)
	reqMini        = bit(fE, fs, fc, fo, fh, fl, fv, fq)
	reqTicker      = bit(fE, fs, fp, fP, fw, fc, fQ, fo, fh, fl, fv, fq, fO, fC, fF, fL, fn)
	reqMarkPrice   = bit(fE, fs, fp)
	reqForceOrder  = bit(fE, fo)
	reqForceInner  = bit(fs, fS, fq, fp, fT)
	reqIndexPrice  = bit(fE, fi, fp)
)

// interpret maps the scanned object t (of frame b) to the frame's result.
func (p *Parser) interpret(b []byte, t *table) error {
	f := &p.frame
	if e, ok := t.get(fe); ok {
		name := p.text(e)
		if name == nil {
			return p.malformed(int(e.start), "frame: e is not a string")
		}
		switch string(name) {
		case "trade":
			return p.parseTrade(b, t)
		case "aggTrade":
			return p.parseAggTrade(b, t)
		case "kline":
			return p.parseKline(b, t)
		case "bookTicker":
			return p.parseBookTicker(b, t)
		case "depthUpdate":
			if f.HasStream && f.Stream.Channel == market.ChannelPartialDepth {
				return p.parseFuturesPartial(b, t)
			}
			return p.parseDepth(b, t)
		case "24hrMiniTicker":
			return p.parseTicker(b, t, market.TickerMini)
		case "24hrTicker":
			return p.parseTicker(b, t, market.TickerFull)
		case "markPriceUpdate":
			return p.parseMarkPrice(b, t)
		case "forceOrder":
			return p.parseForceOrder(b, t)
		case "indexPriceUpdate":
			return p.parseIndexPrice(b, t)
		case "serverShutdown":
			f.Type = FrameShutdown
			p.what = "serverShutdown"
			f.Time = p.optTime(t, fE)
			return p.err
		default:
			if len(name) > 32 {
				name = name[:32]
			}
			return p.unsupported(int(e.start), "event: unsupported type "+string(name))
		}
	}
	switch {
	case t.has(fResult) || (t.has(fID) && !t.has(fCode) && !t.has(fError)):
		f.Type = FrameResponse
		if t.has(fResult) {
			f.Result = rawValue(b, &t.v[fResult])
		}
		p.frameID(b, t)
		return nil
	case t.has(fCode) || t.has(fError):
		f.Type = FrameError
		src := t
		if t.has(fError) {
			if s := t.v[fError]; s.kind == vObject {
				src = &p.inner
			}
		}
		p.what = "error"
		f.Code = p.reqInt(src, fCode)
		if m, ok := src.get(fMsg); ok && (m.kind == vString || m.kind == vStringEsc) {
			f.Msg = b[m.start:m.end]
		}
		p.frameID(b, t)
		return p.err
	case t.has(fLastUpdateID):
		return p.parseSpotPartial(b, t)
	case t.present&reqBookTicker == reqBookTicker:
		return p.parseBookTicker(b, t)
	}
	return p.malformed(0, "frame: unrecognized (no e, result or code)")
}

// rawValue returns the JSON text of a span (strings with their quotes).
func rawValue(b []byte, s *span) []byte {
	switch s.kind {
	case vString, vStringEsc:
		return b[s.start-1 : s.end+1]
	case 0:
		return nil
	}
	return b[s.start:s.end]
}

func (p *Parser) frameID(b []byte, t *table) {
	f := &p.frame
	s, ok := t.get(fID)
	if !ok {
		return
	}
	if s.kind == vNumber && s.isInt {
		f.ID, f.HasID = s.num, true
		return
	}
	f.RawID = rawValue(b, s)
}

// event marks the frame as carrying an event of kind k from channel ch,
// after checking the stream (if any) agrees.
func (p *Parser) event(k source.Kind, ch market.Channel, what string) error {
	f := &p.frame
	if f.HasStream && f.Stream.Control == ControlNone && f.Stream.Channel != ch {
		return p.malformed(0, what+": does not match stream channel "+f.Stream.Channel.String())
	}
	f.Type = FrameEvent
	f.Event.Kind = k
	f.Event.Channel = ch
	return nil
}

func (p *Parser) require(t *table, mask uint64, what string) error {
	if missing := mask &^ t.present; missing != 0 {
		for s := 0; s < nSlots; s++ {
			if missing&(1<<uint(s)) != 0 {
				return p.malformed(0, what+": missing "+slotNames[s])
			}
		}
	}
	return nil
}

func (p *Parser) header(h *market.Header, t *table) {
	h.Exchange = p.exchange
	h.ReceiveTime = p.recv
	p.symbol(&h.Symbol, t, fs)
	h.EventTime = p.reqTime(t, fE)
}

func (p *Parser) parseTrade(b []byte, t *table) error {
	const what = "trade"
	p.what = what
	if err := p.require(t, reqTrade, what); err != nil {
		return err
	}
	ev := &p.trade
	p.header(&ev.Header, t)
	ev.TradeID = p.reqInt(t, ft)
	ev.Price = p.reqDec(t, fp)
	ev.Quantity = p.reqDec(t, fq)
	ev.TradeTime = p.reqTime(t, fT)
	ev.BuyerIsMaker = p.reqBool(t, fm)
	ev.Type = market.TradeTypeMarket
	if p.futures {
		ev.Type = market.TradeTypeUnknown
		if s, ok := t.get(fX); ok {
			ev.Type = tradeTypeOf(p.text(s))
		}
	}
	if p.err != nil {
		return p.err
	}
	return p.event(source.KindTrade, market.ChannelTrade, what)
}

func (p *Parser) parseAggTrade(b []byte, t *table) error {
	const what = "aggTrade"
	p.what = what
	if err := p.require(t, reqAggTrade, what); err != nil {
		return err
	}
	ev := &p.aggTrade
	p.header(&ev.Header, t)
	ev.AggTradeID = p.optInt(t, fa, -1)
	ev.Price = p.reqDec(t, fp)
	ev.Quantity = p.reqDec(t, fq)
	ev.FirstTradeID = p.reqInt(t, ff)
	ev.LastTradeID = p.reqInt(t, fl)
	ev.TradeTime = p.reqTime(t, fT)
	ev.BuyerIsMaker = p.reqBool(t, fm)
	if p.err != nil {
		return p.err
	}
	return p.event(source.KindAggTrade, market.ChannelAggTrade, what)
}

func (p *Parser) parseKline(b []byte, t *table) error {
	const what = "kline"
	p.what = what
	if err := p.require(t, reqKline, what); err != nil {
		return err
	}
	if t.v[fk].kind != vObject {
		return p.malformed(int(t.v[fk].start), "kline: k is not an object")
	}
	k := &p.inner
	if err := p.require(k, reqKlineInner, "kline: k"); err != nil {
		return err
	}
	ev := &p.kline
	ev.Exchange = p.exchange
	ev.ReceiveTime = p.recv
	if t.has(fs) {
		p.symbol(&ev.Symbol, t, fs)
	} else {
		p.symbol(&ev.Symbol, k, fs)
	}
	ev.EventTime = p.reqTime(t, fE)
	iv, ok := market.ParseKlineInterval(p.text(&k.v[fi]))
	if !ok {
		return p.malformed(int(k.v[fi].start), "kline: unknown interval")
	}
	ev.Interval = iv
	ev.OpenTime = p.reqTime(k, ft)
	ev.CloseTime = p.reqTime(k, fT)
	ev.FirstTradeID = p.reqInt(k, ff)
	ev.LastTradeID = p.reqInt(k, fL)
	ev.Open = p.reqDec(k, fo)
	ev.High = p.reqDec(k, fh)
	ev.Low = p.reqDec(k, fl)
	ev.Close = p.reqDec(k, fc)
	ev.Volume = p.reqDec(k, fv)
	ev.QuoteVolume = p.reqDec(k, fq)
	ev.TradeCount = p.reqInt(k, fn)
	ev.TakerBuyVolume = p.reqDec(k, fV)
	ev.TakerBuyQuoteVolume = p.reqDec(k, fQ)
	ev.Closed = p.reqBool(k, fx)
	if p.err != nil {
		return p.err
	}
	f := &p.frame
	if f.HasStream && f.Stream.Channel == market.ChannelKline && f.Stream.Interval != iv {
		return p.malformed(int(k.v[fi].start), "kline: interval does not match stream")
	}
	return p.event(source.KindKline, market.ChannelKline, what)
}

func (p *Parser) parseBookTicker(b []byte, t *table) error {
	const what = "bookTicker"
	p.what = what
	if err := p.require(t, reqBookTicker, what); err != nil {
		return err
	}
	ev := &p.bookTicker
	ev.Exchange = p.exchange
	ev.ReceiveTime = p.recv
	p.symbol(&ev.Symbol, t, fs)
	ev.EventTime = p.optTime(t, fE)
	ev.TransactionTime = p.optTime(t, fT)
	ev.UpdateID = p.reqInt(t, fu)
	ev.BidPrice = p.reqDec(t, fb)
	ev.BidQty = p.reqDec(t, fB)
	ev.AskPrice = p.reqDec(t, fa)
	ev.AskQty = p.reqDec(t, fA)
	if p.err != nil {
		return p.err
	}
	return p.event(source.KindBookTicker, market.ChannelBookTicker, what)
}

func (p *Parser) levels(t *table, what string) error {
	if t.v[fb].kind != vArray || t.v[fa].kind != vArray {
		return p.malformed(0, what+": b and a must be level arrays")
	}
	return nil
}

func (p *Parser) parseDepth(b []byte, t *table) error {
	const what = "depthUpdate"
	p.what = what
	if err := p.require(t, reqDepth, what); err != nil {
		return err
	}
	if err := p.levels(t, what); err != nil {
		return err
	}
	ev := &p.depth
	p.header(&ev.Header, t)
	ev.TransactionTime = p.optTime(t, fT)
	ev.FirstUpdateID = p.reqInt(t, fU)
	ev.LastUpdateID = p.reqInt(t, fu)
	ev.PrevLastUpdateID = 0
	if p.futures {
		ev.PrevLastUpdateID = p.reqInt(t, fPu)
	}
	ev.Bids, ev.Asks = p.bids, p.asks
	if p.err != nil {
		return p.err
	}
	return p.event(source.KindDepthUpdate, market.ChannelDepth, what)
}

// parseFuturesPartial maps a futures partial-depth frame (a depthUpdate
// carrying the top N levels) to a snapshot.
func (p *Parser) parseFuturesPartial(b []byte, t *table) error {
	const what = "partialDepth"
	p.what = what
	if err := p.require(t, reqDepth, what); err != nil {
		return err
	}
	if err := p.levels(t, what); err != nil {
		return err
	}
	ev := &p.snapshot
	p.header(&ev.Header, t)
	ev.Source = market.SnapshotPartial
	ev.TransactionTime = p.optTime(t, fT)
	ev.LastUpdateID = p.reqInt(t, fu)
	ev.Bids, ev.Asks = p.bids, p.asks
	if p.err != nil {
		return p.err
	}
	return p.event(source.KindDepthSnapshot, market.ChannelPartialDepth, what)
}

// parseSpotPartial maps a spot partial-depth frame ({lastUpdateId, bids,
// asks}, no symbol) to a snapshot; the symbol comes from the stream name.
func (p *Parser) parseSpotPartial(b []byte, t *table) error {
	const what = "partialDepth"
	p.what = what
	if err := p.require(t, reqSpotPartial, what); err != nil {
		return err
	}
	if t.v[fBids].kind != vArray || t.v[fAsks].kind != vArray {
		return p.malformed(0, what+": bids and asks must be level arrays")
	}
	f := &p.frame
	if !f.HasStream || f.Stream.Symbol.IsZero() {
		return p.malformed(0, what+": no stream name to take the symbol from (use combined streams)")
	}
	ev := &p.snapshot
	ev.Exchange = p.exchange
	ev.ReceiveTime = p.recv
	ev.Symbol = f.Stream.Symbol
	ev.EventTime = p.optTime(t, fE)
	ev.Source = market.SnapshotPartial
	ev.TransactionTime = p.optTime(t, fT)
	ev.LastUpdateID = p.reqInt(t, fLastUpdateID)
	ev.Bids, ev.Asks = p.bids, p.asks
	if p.err != nil {
		return p.err
	}
	return p.event(source.KindDepthSnapshot, market.ChannelPartialDepth, what)
}

func (p *Parser) parseTicker(b []byte, t *table, kind market.TickerKind) error {
	what, req, ch := "ticker", reqTicker, market.ChannelTicker
	if kind == market.TickerMini {
		what, req, ch = "miniTicker", reqMini, market.ChannelMiniTicker
	}
	p.what = what
	if err := p.require(t, req, what); err != nil {
		return err
	}
	ev := &p.ticker
	p.header(&ev.Header, t)
	ev.Kind = kind
	ev.LastPrice = p.reqDec(t, fc)
	ev.OpenPrice = p.reqDec(t, fo)
	ev.HighPrice = p.reqDec(t, fh)
	ev.LowPrice = p.reqDec(t, fl)
	ev.Volume = p.reqDec(t, fv)
	ev.QuoteVolume = p.reqDec(t, fq)
	if kind == market.TickerFull {
		ev.PriceChange = p.reqDec(t, fp)
		ev.PriceChangePercent = p.reqDec(t, fP)
		ev.WeightedAvgPrice = p.reqDec(t, fw)
		ev.LastQty = p.reqDec(t, fQ)
		ev.BidPrice = p.optDec(t, fb)
		ev.BidQty = p.optDec(t, fB)
		ev.AskPrice = p.optDec(t, fa)
		ev.AskQty = p.optDec(t, fA)
		ev.OpenTime = p.reqTime(t, fO)
		ev.CloseTime = p.reqTime(t, fC)
		ev.FirstTradeID = p.reqInt(t, fF)
		ev.LastTradeID = p.reqInt(t, fL)
		ev.TradeCount = p.reqInt(t, fn)
	} else {
		ev.PriceChange = market.NullDecimal
		ev.PriceChangePercent = market.NullDecimal
		ev.WeightedAvgPrice = market.NullDecimal
		ev.LastQty = market.NullDecimal
		ev.BidPrice, ev.BidQty = market.NullDecimal, market.NullDecimal
		ev.AskPrice, ev.AskQty = market.NullDecimal, market.NullDecimal
		ev.OpenTime, ev.CloseTime = 0, 0
		ev.FirstTradeID, ev.LastTradeID, ev.TradeCount = 0, 0, 0
	}
	if p.err != nil {
		return p.err
	}
	return p.event(source.KindTicker, ch, what)
}

func (p *Parser) parseMarkPrice(b []byte, t *table) error {
	const what = "markPrice"
	p.what = what
	if err := p.require(t, reqMarkPrice, what); err != nil {
		return err
	}
	ev := &p.markPrice
	p.header(&ev.Header, t)
	ev.MarkPrice = p.reqDec(t, fp)
	ev.IndexPrice = p.optDec(t, fi)
	ev.EstimatedSettlePrice = p.optDec(t, fP)
	ev.FundingRate = p.optDec(t, fr)
	ev.NextFundingTime = p.optTime(t, fT)
	if p.err != nil {
		return p.err
	}
	return p.event(source.KindMarkPrice, market.ChannelMarkPrice, what)
}

func (p *Parser) parseForceOrder(b []byte, t *table) error {
	const what = "forceOrder"
	p.what = what
	if err := p.require(t, reqForceOrder, what); err != nil {
		return err
	}
	if t.v[fo].kind != vObject {
		return p.malformed(int(t.v[fo].start), "forceOrder: o is not an object")
	}
	o := &p.inner
	if err := p.require(o, reqForceInner, "forceOrder: o"); err != nil {
		return err
	}
	ev := &p.liquidation
	ev.Exchange = p.exchange
	ev.ReceiveTime = p.recv
	p.symbol(&ev.Symbol, o, fs)
	ev.EventTime = p.reqTime(t, fE)
	ev.Side = sideOf(p.optText(o, fS))
	ev.OrderType = orderTypeOf(p.optText(o, fo))
	ev.TimeInForce = timeInForceOf(p.optText(o, ff))
	ev.Status = orderStatusOf(p.optText(o, fX))
	ev.Price = p.reqDec(o, fp)
	ev.Quantity = p.reqDec(o, fq)
	ev.AveragePrice = p.optDec(o, fAp)
	ev.LastFilledQty = p.optDec(o, fl)
	ev.FilledQty = p.optDec(o, fz)
	ev.TradeTime = p.reqTime(o, fT)
	if p.err != nil {
		return p.err
	}
	return p.event(source.KindLiquidation, market.ChannelLiquidation, what)
}

func (p *Parser) parseIndexPrice(b []byte, t *table) error {
	const what = "indexPrice"
	p.what = what
	if err := p.require(t, reqIndexPrice, what); err != nil {
		return err
	}
	ev := &p.indexPrice
	ev.Exchange = p.exchange
	ev.ReceiveTime = p.recv
	p.symbol(&ev.Symbol, t, fi)
	ev.EventTime = p.reqTime(t, fE)
	ev.Price = p.reqDec(t, fp)
	if p.err != nil {
		return p.err
	}
	return p.event(source.KindIndexPrice, market.ChannelIndexPrice, what)
}

// Enum fields map their text; anything else is Unknown.

func tradeTypeOf(s []byte) market.TradeType {
	switch string(s) {
	case "MARKET":
		return market.TradeTypeMarket
	case "INSURANCE_FUND":
		return market.TradeTypeInsuranceFund
	case "ADL":
		return market.TradeTypeADL
	}
	return market.TradeTypeUnknown
}

func sideOf(s []byte) market.Side {
	switch string(s) {
	case "BUY":
		return market.SideBuy
	case "SELL":
		return market.SideSell
	}
	return market.SideUnknown
}

func orderTypeOf(s []byte) market.OrderType {
	switch string(s) {
	case "LIMIT":
		return market.OrderTypeLimit
	case "MARKET":
		return market.OrderTypeMarket
	}
	return market.OrderTypeUnknown
}

func timeInForceOf(s []byte) market.TimeInForce {
	switch string(s) {
	case "GTC":
		return market.TimeInForceGTC
	case "IOC":
		return market.TimeInForceIOC
	case "FOK":
		return market.TimeInForceFOK
	case "GTX":
		return market.TimeInForceGTX
	case "GTD":
		return market.TimeInForceGTD
	}
	return market.TimeInForceUnknown
}

func orderStatusOf(s []byte) market.OrderStatus {
	switch string(s) {
	case "NEW":
		return market.OrderStatusNew
	case "PARTIALLY_FILLED":
		return market.OrderStatusPartiallyFilled
	case "FILLED":
		return market.OrderStatusFilled
	case "CANCELED":
		return market.OrderStatusCanceled
	case "EXPIRED":
		return market.OrderStatusExpired
	}
	return market.OrderStatusUnknown
}

// Field getters. They read p.b (the frame) and name p.what (the event) in
// errors. Each records the first failure in p.err and returns a zero value,
// so extraction code reads straight through and checks p.err once. The
// common cases (values decoded while scanning) are small enough to inline.

func (p *Parser) fail(s *span, field, problem string) {
	if p.err == nil {
		if problem == "missing" { // s is stale: no offset to report
			p.err = p.malformed(0, p.what+": missing "+field)
			return
		}
		p.err = p.malformed(int(s.start), p.what+": "+field+": "+problem)
	}
}

// text returns a string span's content, decoding escapes into a scratch
// buffer when needed. Non-strings give nil.
func (p *Parser) text(s *span) []byte {
	switch s.kind {
	case vString:
		return p.b[s.start:s.end]
	case vStringEsc:
		out, ok := unescape(p.scratch[:0], p.b[s.start:s.end])
		if !ok {
			return nil
		}
		return out
	}
	return nil
}

func (p *Parser) optText(t *table, f int) []byte {
	s, ok := t.get(f)
	if !ok {
		return nil
	}
	return p.text(s)
}

func (p *Parser) symbol(dst *market.Symbol, t *table, f int) {
	s, ok := t.get(f)
	if !ok {
		p.fail(s, slotNames[f], "missing")
		*dst = market.Symbol{}
		return
	}
	v := p.text(s)
	if v == nil || !setSymbol(dst, v) {
		p.fail(s, slotNames[f], "invalid symbol")
		*dst = market.Symbol{}
	}
}

// reqDec returns the decimal string field f.
func (p *Parser) reqDec(t *table, f int) market.Decimal {
	if s := &t.v[f]; s.isDec && t.present&(1<<uint(f)) != 0 {
		return market.Decimal{Mantissa: s.num, Scale: s.scale}
	}
	return p.reqDecSlow(t, f)
}

func (p *Parser) reqDecSlow(t *table, f int) market.Decimal {
	s, ok := t.get(f)
	if !ok {
		p.fail(s, slotNames[f], "missing")
		return market.NullDecimal
	}
	d, ok := p.decimalSpan(p.b, s)
	if !ok {
		p.fail(s, slotNames[f], "invalid decimal")
		return market.NullDecimal
	}
	return d
}

// optDec is reqDec for optional fields: absent, null and "" are NullDecimal.
func (p *Parser) optDec(t *table, f int) market.Decimal {
	if s := &t.v[f]; s.isDec && t.present&(1<<uint(f)) != 0 {
		return market.Decimal{Mantissa: s.num, Scale: s.scale}
	}
	return p.optDecSlow(t, f)
}

func (p *Parser) optDecSlow(t *table, f int) market.Decimal {
	s, ok := t.get(f)
	if !ok || (s.kind == vString && s.start == s.end) {
		return market.NullDecimal
	}
	d, ok := p.decimalSpan(p.b, s)
	if !ok {
		p.fail(s, slotNames[f], "invalid decimal")
		return market.NullDecimal
	}
	return d
}

// reqInt returns the integer field f.
func (p *Parser) reqInt(t *table, f int) int64 {
	if s := &t.v[f]; s.isInt && t.present&(1<<uint(f)) != 0 {
		return s.num
	}
	return p.reqIntSlow(t, f)
}

func (p *Parser) reqIntSlow(t *table, f int) int64 {
	s, ok := t.get(f)
	switch {
	case !ok:
		p.fail(s, slotNames[f], "missing")
	case s.kind != vNumber:
		p.fail(s, slotNames[f], "not a number")
	default:
		p.fail(s, slotNames[f], "not an int64")
	}
	return 0
}

func (p *Parser) optInt(t *table, f int, def int64) int64 {
	if _, ok := t.get(f); !ok {
		return def
	}
	return p.reqInt(t, f)
}

// reqTime returns the time field f in µs.
func (p *Parser) reqTime(t *table, f int) int64 {
	v := p.reqInt(t, f)
	if p.unit == Microsecond {
		return v
	}
	if v > math.MaxInt64/1000 || v < math.MinInt64/1000 {
		p.fail(&t.v[f], slotNames[f], "time out of range")
		return 0
	}
	return v * 1000
}

// optTime returns 0 for an absent time; a present bad one is an error.
func (p *Parser) optTime(t *table, f int) int64 {
	if _, ok := t.get(f); !ok {
		return 0
	}
	return p.reqTime(t, f)
}

func (p *Parser) reqBool(t *table, f int) bool {
	s, ok := t.get(f)
	switch {
	case !ok:
		p.fail(s, slotNames[f], "missing")
	case s.kind == vTrue:
		return true
	case s.kind != vFalse:
		p.fail(s, slotNames[f], "not a boolean")
	}
	return false
}
