package commands

import (
	"embed"
	"fmt"

	"github.com/urfave/cli/v2"
)

// The bash and zsh scripts are urfave/cli's own, which it ships beside its
// code rather than in it; fish's it writes itself (App.ToFishCompletion).
// Each asks the command for its candidates with --generate-bash-completion.
//
//go:embed completion/bash completion/zsh
var completionScripts embed.FS

func completionCommand(cfg Config) *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Description: "bash: source <(" + cfg.name() + " completion bash)\n" +
			"zsh:  source <(" + cfg.name() + " completion zsh)\n" +
			"fish: " + cfg.name() + " completion fish | source",
		Action: func(c *cli.Context) error {
			shell := c.Args().First()
			if c.NArg() != 1 {
				return cli.Exit(fmt.Sprintf("%s completion: name one shell: bash, zsh or fish", cfg.name()), exitUsage)
			}
			switch shell {
			case "bash", "zsh":
				script, err := completionScripts.ReadFile("completion/" + shell)
				if err != nil {
					return err
				}
				// The scripts complete the program named PROG.
				_, err = fmt.Fprintf(c.App.Writer, "PROG=%s\n%s", cfg.name(), script)
				return err
			case "fish":
				script, err := c.App.ToFishCompletion()
				if err != nil {
					return err
				}
				_, err = fmt.Fprint(c.App.Writer, script)
				return err
			}
			return cli.Exit(fmt.Sprintf("%s completion: %q is not bash, zsh or fish", cfg.name(), shell), exitUsage)
		},
	}
}
