package watch

import (
	"errors"
	"fmt"

	"github.com/ims-dev/ims/internal/market"
	"github.com/ims-dev/ims/internal/sbecodec"
	"github.com/ims-dev/ims/internal/source"
)

// ErrNoEvent is returned by AppendEvent for an event whose Kind names no
// event (KindNone, an unknown kind, or a nil pointer).
var ErrNoEvent = errors.New("watch: event carries no market event")

// AppendEvent appends ev, encoded as its ims SBE message (templates
// 301-320), to dst. It allocates only when dst lacks capacity. A Status
// whose detail is longer than the schema allows is encoded with the detail
// cut at sbecodec.MaxDetail bytes (the marker matters more than the text);
// a depth side with more than sbecodec.MaxLevels levels is an error and
// appends nothing.
func AppendEvent(dst []byte, ev *source.Event) ([]byte, error) {
	switch ev.Kind {
	case source.KindTrade:
		if ev.Trade != nil {
			return sbecodec.AppendTrade(dst, ev.Trade), nil
		}
	case source.KindAggTrade:
		if ev.AggTrade != nil {
			return sbecodec.AppendAggTrade(dst, ev.AggTrade), nil
		}
	case source.KindKline:
		if ev.Kline != nil {
			return sbecodec.AppendKline(dst, ev.Kline), nil
		}
	case source.KindBookTicker:
		if ev.BookTicker != nil {
			return sbecodec.AppendBookTicker(dst, ev.BookTicker), nil
		}
	case source.KindDepthUpdate:
		if ev.DepthUpdate != nil {
			return sbecodec.AppendDepthUpdate(dst, ev.DepthUpdate)
		}
	case source.KindDepthSnapshot:
		if ev.DepthSnapshot != nil {
			return sbecodec.AppendDepthSnapshot(dst, ev.DepthSnapshot)
		}
	case source.KindTicker:
		if ev.Ticker != nil {
			return sbecodec.AppendTicker(dst, ev.Ticker), nil
		}
	case source.KindMarkPrice:
		if ev.MarkPrice != nil {
			return sbecodec.AppendMarkPrice(dst, ev.MarkPrice), nil
		}
	case source.KindLiquidation:
		if ev.Liquidation != nil {
			return sbecodec.AppendLiquidation(dst, ev.Liquidation), nil
		}
	case source.KindIndexPrice:
		if ev.IndexPrice != nil {
			return sbecodec.AppendIndexPrice(dst, ev.IndexPrice), nil
		}
	case source.KindStatus:
		if ev.Status != nil {
			return appendStatus(dst, ev.Status)
		}
	default:
		return dst, fmt.Errorf("%w (kind %d)", ErrNoEvent, ev.Kind)
	}
	return dst, fmt.Errorf("%w (kind %s without its value)", ErrNoEvent, ev.Kind)
}

func appendStatus(dst []byte, st *market.Status) ([]byte, error) {
	if len(st.Detail) <= sbecodec.MaxDetail {
		return sbecodec.AppendStatus(dst, st)
	}
	// Cut on a rune boundary so the text stays valid UTF-8.
	n := sbecodec.MaxDetail
	for n > 0 && st.Detail[n]&0xC0 == 0x80 {
		n--
	}
	cut := *st
	cut.Detail = st.Detail[:n]
	return sbecodec.AppendStatus(dst, &cut)
}
