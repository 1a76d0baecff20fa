package commands

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/sre-tools/promgen/spec/yamlspec"
)

func initCommand(cfg Config) *cli.Command {
	return &cli.Command{
		Name:      "init",
		Usage:     "write a commented starter YAML spec for one service (default " + yamlspec.FileNames[0] + "); never overwrites",
		ArgsUsage: "[FILE]",
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return cli.Exit(fmt.Sprintf("%s init: one file at most, got %d", cfg.name(), c.NArg()), exitUsage)
			}
			path := c.Args().First()
			if path == "" {
				path = yamlspec.FileNames[0]
			}
			// O_EXCL: a file that appears meanwhile is not overwritten either.
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if errors.Is(err, fs.ErrExist) {
				return cli.Exit(fmt.Sprintf("%s init: %s exists: not overwritten (remove it, or name another file)", cfg.name(), path), 1)
			}
			if err != nil {
				return cli.Exit(fmt.Sprintf("%s init: %v", cfg.name(), err), 1)
			}
			_, err = f.Write(yamlspec.Starter)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				// Nothing half-written.
				os.Remove(path)
				return cli.Exit(fmt.Sprintf("%s init: write %s: %v", cfg.name(), path, err), 1)
			}
			fmt.Fprintf(c.App.Writer, "wrote %s: edit it, then run `%s build` and `%s lint`\n", path, cfg.name(), cfg.name())
			return nil
		},
	}
}
