// Command ims relays Binance market data through Apache Iggy as SBE and
// carries the tools around that job.
package main

import (
	"os"

	"github.com/ims-dev/ims/internal/cli"
)

// Set by the release build through -ldflags "-X main.version=... -X main.commit=... -X main.date=...".
var (
	version = ""
	commit  = ""
	date    = ""
)

func main() {
	os.Exit(cli.Main(cli.BuildInfo{Version: version, Commit: commit, Date: date}, os.Args[1:]))
}
