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
		name := p.text(b, e)
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
			f.Time = p.optTime(b, t, fE)
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
			f.Result = rawValue(b, t.v[fResult])
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
		f.Code = p.reqInt(b, src, fCode, "error")
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
func rawValue(b []byte, s span) []byte {
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

func (p *Parser) header(h *market.Header, b []byte, t *table, what string) {
	h.Exchange = p.exchange
	h.ReceiveTime = p.recv
	p.symbol(&h.Symbol, b, t, fs, what)
	h.EventTime = p.reqTime(b, t, fE, what)
}

func (p *Parser) parseTrade(b []byte, t *table) error {
	const what = "trade"
	if err := p.require(t, reqTrade, what); err != nil {
		return err
	}
	ev := &p.trade
	p.header(&ev.Header, b, t, what)
	ev.TradeID = p.reqInt(b, t, ft, what)
	ev.Price = p.reqDec(b, t, fp, what)
	ev.Quantity = p.reqDec(b, t, fq, what)
	ev.TradeTime = p.reqTime(b, t, fT, what)
	ev.BuyerIsMaker = p.reqBool(b, t, fm, what)
	ev.Type = market.TradeTypeMarket
	if p.futures {
		ev.Type = market.TradeTypeUnknown
		if s, ok := t.get(fX); ok {
			switch string(p.text(b, s)) {
			case "MARKET":
				ev.Type = market.TradeTypeMarket
			case "INSURANCE_FUND":
				ev.Type = market.TradeTypeInsuranceFund
			case "ADL":
				ev.Type = market.TradeTypeADL
			}
		}
	}
	if p.err != nil {
		return p.err
	}
	return p.event(source.KindTrade, market.ChannelTrade, what)
}

func (p *Parser) parseAggTrade(b []byte, t *table) error {
	const what = "aggTrade"
	if err := p.require(t, reqAggTrade, what); err != nil {
		return err
	}
	ev := &p.aggTrade
	p.header(&ev.Header, b, t, what)
	ev.AggTradeID = p.optInt(b, t, fa, -1, what)
	ev.Price = p.reqDec(b, t, fp, what)
	ev.Quantity = p.reqDec(b, t, fq, what)
	ev.FirstTradeID = p.reqInt(b, t, ff, what)
	ev.LastTradeID = p.reqInt(b, t, fl, what)
	ev.TradeTime = p.reqTime(b, t, fT, what)
	ev.BuyerIsMaker = p.reqBool(b, t, fm, what)
	if p.err != nil {
		return p.err
	}
	return p.event(source.KindAggTrade, market.ChannelAggTrade, what)
}

func (p *Parser) parseKline(b []byte, t *table) error {
	const what = "kline"
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
		p.symbol(&ev.Symbol, b, t, fs, what)
	} else {
		p.symbol(&ev.Symbol, b, k, fs, what)
	}
	ev.EventTime = p.reqTime(b, t, fE, what)
	iv, ok := market.ParseKlineInterval(p.text(b, k.v[fi]))
	if !ok {
		return p.malformed(int(k.v[fi].start), "kline: unknown interval")
	}
	ev.Interval = iv
	ev.OpenTime = p.reqTime(b, k, ft, what)
	ev.CloseTime = p.reqTime(b, k, fT, what)
	ev.FirstTradeID = p.reqInt(b, k, ff, what)
	ev.LastTradeID = p.reqInt(b, k, fL, what)
	ev.Open = p.reqDec(b, k, fo, what)
	ev.High = p.reqDec(b, k, fh, what)
	ev.Low = p.reqDec(b, k, fl, what)
	ev.Close = p.reqDec(b, k, fc, what)
	ev.Volume = p.reqDec(b, k, fv, what)
	ev.QuoteVolume = p.reqDec(b, k, fq, what)
	ev.TradeCount = p.reqInt(b, k, fn, what)
	ev.TakerBuyVolume = p.reqDec(b, k, fV, what)
	ev.TakerBuyQuoteVolume = p.reqDec(b, k, fQ, what)
	ev.Closed = p.reqBool(b, k, fx, what)
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
	if err := p.require(t, reqBookTicker, what); err != nil {
		return err
	}
	ev := &p.bookTicker
	ev.Exchange = p.exchange
	ev.ReceiveTime = p.recv
	p.symbol(&ev.Symbol, b, t, fs, what)
	ev.EventTime = p.optTime(b, t, fE)
	ev.TransactionTime = p.optTime(b, t, fT)
	ev.UpdateID = p.reqInt(b, t, fu, what)
	ev.BidPrice = p.reqDec(b, t, fb, what)
	ev.BidQty = p.reqDec(b, t, fB, what)
	ev.AskPrice = p.reqDec(b, t, fa, what)
	ev.AskQty = p.reqDec(b, t, fA, what)
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
	if err := p.require(t, reqDepth, what); err != nil {
		return err
	}
	if err := p.levels(t, what); err != nil {
		return err
	}
	ev := &p.depth
	p.header(&ev.Header, b, t, what)
	ev.TransactionTime = p.optTime(b, t, fT)
	ev.FirstUpdateID = p.reqInt(b, t, fU, what)
	ev.LastUpdateID = p.reqInt(b, t, fu, what)
	ev.PrevLastUpdateID = 0
	if p.futures {
		ev.PrevLastUpdateID = p.reqInt(b, t, fPu, what)
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
	if err := p.require(t, reqDepth, what); err != nil {
		return err
	}
	if err := p.levels(t, what); err != nil {
		return err
	}
	ev := &p.snapshot
	p.header(&ev.Header, b, t, what)
	ev.Source = market.SnapshotPartial
	ev.TransactionTime = p.optTime(b, t, fT)
	ev.LastUpdateID = p.reqInt(b, t, fu, what)
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
	ev.EventTime = p.optTime(b, t, fE)
	ev.Source = market.SnapshotPartial
	ev.TransactionTime = p.optTime(b, t, fT)
	ev.LastUpdateID = p.reqInt(b, t, fLastUpdateID, what)
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
	if err := p.require(t, req, what); err != nil {
		return err
	}
	ev := &p.ticker
	p.header(&ev.Header, b, t, what)
	ev.Kind = kind
	ev.LastPrice = p.reqDec(b, t, fc, what)
	ev.OpenPrice = p.reqDec(b, t, fo, what)
	ev.HighPrice = p.reqDec(b, t, fh, what)
	ev.LowPrice = p.reqDec(b, t, fl, what)
	ev.Volume = p.reqDec(b, t, fv, what)
	ev.QuoteVolume = p.reqDec(b, t, fq, what)
	if kind == market.TickerFull {
		ev.PriceChange = p.reqDec(b, t, fp, what)
		ev.PriceChangePercent = p.reqDec(b, t, fP, what)
		ev.WeightedAvgPrice = p.reqDec(b, t, fw, what)
		ev.LastQty = p.reqDec(b, t, fQ, what)
		ev.BidPrice = p.optDec(b, t, fb, what)
		ev.BidQty = p.optDec(b, t, fB, what)
		ev.AskPrice = p.optDec(b, t, fa, what)
		ev.AskQty = p.optDec(b, t, fA, what)
		ev.OpenTime = p.reqTime(b, t, fO, what)
		ev.CloseTime = p.reqTime(b, t, fC, what)
		ev.FirstTradeID = p.reqInt(b, t, fF, what)
		ev.LastTradeID = p.reqInt(b, t, fL, what)
		ev.TradeCount = p.reqInt(b, t, fn, what)
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
	if err := p.require(t, reqMarkPrice, what); err != nil {
		return err
	}
	ev := &p.markPrice
	p.header(&ev.Header, b, t, what)
	ev.MarkPrice = p.reqDec(b, t, fp, what)
	ev.IndexPrice = p.optDec(b, t, fi, what)
	ev.EstimatedSettlePrice = p.optDec(b, t, fP, what)
	ev.FundingRate = p.optDec(b, t, fr, what)
	ev.NextFundingTime = p.optTime(b, t, fT)
	if p.err != nil {
		return p.err
	}
	return p.event(source.KindMarkPrice, market.ChannelMarkPrice, what)
}

func (p *Parser) parseForceOrder(b []byte, t *table) error {
	const what = "forceOrder"
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
	p.symbol(&ev.Symbol, b, o, fs, what)
	ev.EventTime = p.reqTime(b, t, fE, what)
	ev.Side = market.SideUnknown
	switch string(p.optText(b, o, fS)) {
	case "BUY":
		ev.Side = market.SideBuy
	case "SELL":
		ev.Side = market.SideSell
	}
	ev.OrderType = market.OrderTypeUnknown
	switch string(p.optText(b, o, fo)) {
	case "LIMIT":
		ev.OrderType = market.OrderTypeLimit
	case "MARKET":
		ev.OrderType = market.OrderTypeMarket
	}
	ev.TimeInForce = market.TimeInForceUnknown
	switch string(p.optText(b, o, ff)) {
	case "GTC":
		ev.TimeInForce = market.TimeInForceGTC
	case "IOC":
		ev.TimeInForce = market.TimeInForceIOC
	case "FOK":
		ev.TimeInForce = market.TimeInForceFOK
	case "GTX":
		ev.TimeInForce = market.TimeInForceGTX
	case "GTD":
		ev.TimeInForce = market.TimeInForceGTD
	}
	ev.Status = market.OrderStatusUnknown
	switch string(p.optText(b, o, fX)) {
	case "NEW":
		ev.Status = market.OrderStatusNew
	case "PARTIALLY_FILLED":
		ev.Status = market.OrderStatusPartiallyFilled
	case "FILLED":
		ev.Status = market.OrderStatusFilled
	case "CANCELED":
		ev.Status = market.OrderStatusCanceled
	case "EXPIRED":
		ev.Status = market.OrderStatusExpired
	}
	ev.Price = p.reqDec(b, o, fp, what)
	ev.Quantity = p.reqDec(b, o, fq, what)
	ev.AveragePrice = p.optDec(b, o, fAp, what)
	ev.LastFilledQty = p.optDec(b, o, fl, what)
	ev.FilledQty = p.optDec(b, o, fz, what)
	ev.TradeTime = p.reqTime(b, o, fT, what)
	if p.err != nil {
		return p.err
	}
	return p.event(source.KindLiquidation, market.ChannelLiquidation, what)
}

func (p *Parser) parseIndexPrice(b []byte, t *table) error {
	const what = "indexPrice"
	if err := p.require(t, reqIndexPrice, what); err != nil {
		return err
	}
	ev := &p.indexPrice
	ev.Exchange = p.exchange
	ev.ReceiveTime = p.recv
	p.symbol(&ev.Symbol, b, t, fi, what)
	ev.EventTime = p.reqTime(b, t, fE, what)
	ev.Price = p.reqDec(b, t, fp, what)
	if p.err != nil {
		return p.err
	}
	return p.event(source.KindIndexPrice, market.ChannelIndexPrice, what)
}

// Field getters. Each records the first failure in p.err (the event name
// and the field make the kind) and returns a zero value, so extraction code
// reads straight through and checks p.err once.

func (p *Parser) fail(s span, what, field, problem string) {
	if p.err == nil {
		if problem == "missing" {
			p.err = p.malformed(int(s.start), what+": missing "+field)
			return
		}
		p.err = p.malformed(int(s.start), what+": "+field+": "+problem)
	}
}

// text returns a string span's content, decoding escapes into a scratch
// buffer when needed. Non-strings give nil.
func (p *Parser) text(b []byte, s span) []byte {
	switch s.kind {
	case vString:
		return b[s.start:s.end]
	case vStringEsc:
		out, ok := unescape(p.scratch[:0], b[s.start:s.end])
		if !ok {
			return nil
		}
		return out
	}
	return nil
}

func (p *Parser) optText(b []byte, t *table, f int) []byte {
	s, ok := t.get(f)
	if !ok {
		return nil
	}
	return p.text(b, s)
}

func (p *Parser) symbol(dst *market.Symbol, b []byte, t *table, f int, what string) {
	s, ok := t.get(f)
	if !ok {
		p.fail(s, what, slotNames[f], "missing")
		*dst = market.Symbol{}
		return
	}
	v := p.text(b, s)
	if v == nil || !dst.Set(v) {
		p.fail(s, what, slotNames[f], "invalid symbol")
		*dst = market.Symbol{}
	}
}

func (p *Parser) reqDec(b []byte, t *table, f int, what string) market.Decimal {
	s, ok := t.get(f)
	if !ok {
		p.fail(s, what, slotNames[f], "missing")
		return market.NullDecimal
	}
	d, ok := p.decimalSpan(b, s)
	if !ok {
		p.fail(s, what, slotNames[f], "invalid decimal")
		return market.NullDecimal
	}
	return d
}

// optDec is reqDec for optional fields: absent, null and "" are NullDecimal.
func (p *Parser) optDec(b []byte, t *table, f int, what string) market.Decimal {
	s, ok := t.get(f)
	if !ok || (s.kind == vString && s.start == s.end) {
		return market.NullDecimal
	}
	d, ok := p.decimalSpan(b, s)
	if !ok {
		p.fail(s, what, slotNames[f], "invalid decimal")
		return market.NullDecimal
	}
	return d
}

func (p *Parser) reqInt(b []byte, t *table, f int, what string) int64 {
	s, ok := t.get(f)
	if !ok {
		p.fail(s, what, slotNames[f], "missing")
		return 0
	}
	if s.kind != vNumber {
		p.fail(s, what, slotNames[f], "not a number")
		return 0
	}
	if !s.isInt {
		p.fail(s, what, slotNames[f], "not an int64")
		return 0
	}
	return s.num
}

func (p *Parser) optInt(b []byte, t *table, f int, def int64, what string) int64 {
	if _, ok := t.get(f); !ok {
		return def
	}
	return p.reqInt(b, t, f, what)
}

func (p *Parser) reqTime(b []byte, t *table, f int, what string) int64 {
	v := p.reqInt(b, t, f, what)
	us, ok := p.micros(v)
	if !ok {
		p.fail(t.v[f], what, slotNames[f], "time out of range")
		return 0
	}
	return us
}

// optTime returns 0 for an absent time; a present bad one is an error.
func (p *Parser) optTime(b []byte, t *table, f int) int64 {
	if _, ok := t.get(f); !ok {
		return 0
	}
	return p.reqTime(b, t, f, "time")
}

func (p *Parser) micros(v int64) (int64, bool) {
	if p.unit == Microsecond {
		return v, true
	}
	if v > math.MaxInt64/1000 || v < math.MinInt64/1000 {
		return 0, false
	}
	return v * 1000, true
}

func (p *Parser) reqBool(b []byte, t *table, f int, what string) bool {
	s, ok := t.get(f)
	switch {
	case !ok:
		p.fail(s, what, slotNames[f], "missing")
	case s.kind == vTrue:
		return true
	case s.kind != vFalse:
		p.fail(s, what, slotNames[f], "not a boolean")
	}
	return false
}
