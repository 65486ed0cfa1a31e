package binance

// GenericOnly turns p's fast path off, so tests can compare the fast and
// generic paths frame by frame.
func GenericOnly(p *Parser) { p.generic = true }

// TakesFastPath reports whether the fast path accepts frame.
func TakesFastPath(p *Parser, frame []byte) bool {
	f := &p.frame
	f.HasStream = false
	p.recv, p.b = 1, frame
	return p.parseFast(frame)
}

// KnownEventName reports whether the fast path recognizes the "e" value at
// b[j] (followed by `","`).
func KnownEventName(b []byte, j int) bool {
	ev, _ := eventName(b, j)
	return ev != evNone
}
