package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newVersionCmd(g *Global) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the ims version, commit and build date",
		Example: "  ims version\n  ims --version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintln(g.IO.Out, g.Build.String())
			return err
		},
	}
}
