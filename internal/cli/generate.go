package cli

//go:generate go run ./docgen -docs ../../docs/cli -completions ../../completions
