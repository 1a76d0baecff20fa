package commands

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sre-tools/promgen/internal/lint"
	"github.com/sre-tools/promgen/spec/yamlspec"
)

// fileFlag is -f, the YAML spec a command builds from.
func fileFlag() cli.Flag {
	return &cli.StringFlag{Name: "file", Aliases: []string{"f"}, TakesFile: true,
		Usage: "YAML spec (default: promgen.yaml found from here up to the repository root, else the built-in spec)"}
}

// withFile returns cfg building the YAML spec of -f, else the promgen.yaml
// found from the working folder up to the repository root, else cfg's own
// Outputs. need says the command cannot run without a spec.
func withFile(c *cli.Context, cfg Config, need bool) (Config, error) {
	path := c.String("file")
	if path == "" {
		found, err := lint.FindFile(".", yamlspec.FileNames)
		if err != nil {
			return cfg, cli.Exit(err, exitUsage)
		}
		// Shown as the user would write it.
		if wd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(wd, found); err == nil {
				found = rel
			}
		}
		path = found
	}
	if path == "" {
		if need && len(cfg.Outputs) == 0 {
			return cfg, cli.Exit(fmt.Sprintf("%s: no spec: no %s here or up to the repository root; write one with `%s init`, or pass -f FILE",
				cfg.name(), yamlspec.FileNames[0], cfg.name()), exitUsage)
		}
		return cfg, nil
	}
	doc, err := yamlspec.Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, cli.Exit(fmt.Sprintf("%s: -f: %v", cfg.name(), err), exitUsage)
	}
	if err != nil {
		each := flatten(err)
		lines := make([]string, len(each))
		for i, e := range each {
			lines[i] = "\n  " + e.Error()
		}
		return cfg, cli.Exit(fmt.Sprintf("spec file refused, nothing written (%s):%s", problems(len(each)), strings.Join(lines, "")), 1)
	}
	cfg.Origin, cfg.doc = path, doc
	cfg.Outputs = []Output{{Spec: doc.Spec}}
	return cfg, nil
}

// composeBaseOf is --compose-base, or for a YAML spec that does not set the
// flag its compose_base, relative to the file (none: the fragments are
// validated alone).
func (c Config) composeBaseOf(ctx *cli.Context) string {
	if c.doc == nil || ctx.IsSet("compose-base") {
		return ctx.String("compose-base")
	}
	if b := c.doc.File.ComposeBase; b != "" {
		return filepath.Join(c.doc.Dir(), b)
	}
	return ""
}
