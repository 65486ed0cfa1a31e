package cli

import (
	"github.com/spf13/cobra"
)

func newCompletionCmd(g *Global) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `Print the completion script for the given shell to stdout.

Load it in the current shell or install it where your shell looks for
completions; the repository also ships pre-generated scripts in completions/.`,
		Example: `  # bash, current shell
  source <(ims completion bash)

  # zsh, installed for every new shell
  ims completion zsh > "${fpath[1]}/_ims"

  # fish
  ims completion fish > ~/.config/fish/completions/ims.fish

  # PowerShell
  ims completion powershell | Out-String | Invoke-Expression`,
		Args:                  cobra.ExactArgs(1),
		ValidArgs:             []string{"bash", "zsh", "fish", "powershell"},
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			out := g.IO.Out
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, true)
			case "zsh":
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(out)
			}
			return usageErrorf("unsupported shell %q: want bash, zsh, fish or powershell", args[0])
		},
	}
}
