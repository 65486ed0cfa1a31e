// Package sbe holds the SBE schemas of ims and the generator of their Go
// codecs: ims.xml (the ims schema, a superset of the original
// iggy-streaming-system messages) becomes package imssbe, and Binance's
// market-data stream schema stream_1_0.xml (a byte-for-byte copy from
// binance/binance-spot-api-docs, sbe/schemas/) becomes package binancesbe.
// Run go generate ./sbe after changing a schema or the generator, and commit
// the result; CI fails when the committed code differs from a fresh run.
package sbe

//go:generate go run ./sbegen -schema ims.xml -out imssbe -name ims -doc ../docs/sbe-ims.md
//go:generate go run ./sbegen -schema stream_1_0.xml -out binancesbe -name binance-stream -unit utcTimestampUs=us -exponent-attr https://developers.binance.com/docs/binance-spot-api-docs:exponent -doc ../docs/sbe-binance-stream.md

// Test schemas that exercise the generator's features beyond the two above.
//go:generate go run ./sbegen -schema sbegen/testdata/full.xml -out internal/fullsbe
//go:generate go run ./sbegen -schema sbegen/testdata/bigendian.xml -out internal/besbe
