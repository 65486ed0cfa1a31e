//go:build race

package watch

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// allocation counts through pooled code (zstd) are not meaningful.
const raceEnabled = true
