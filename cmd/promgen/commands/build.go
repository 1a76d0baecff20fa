package commands

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sre-tools/promgen/internal/generate"
	"github.com/sre-tools/promgen/internal/lint"
	"github.com/sre-tools/promgen/internal/rulecheck"
	"github.com/sre-tools/promgen/spec"
)

func buildCommand(cfg Config) *cli.Command {
	return &cli.Command{
		Name:  "build",
		Usage: "write every artifact to --out: rule files and promtool tests, prometheus.yml, alertmanager.yml with its notification templates and routing tests, Grafana dashboards, compose fragments, the Kubernetes target",
		Description: "Validates the whole spec, renders every file in memory, validates the rules with rulefmt and\n" +
			"promgen lint and the compose fragments with compose-go, then replaces --out in one step. --out may\n" +
			"hold only what promgen wrote (listed in its .promgen-manifest): a folder holding anything else is\n" +
			"refused, its files named, and nothing is changed. On any\n" +
			"error nothing is written (lint warnings are printed and do not fail). With --check nothing is\n" +
			"written either: it prints a unified diff and fails when --out differs from what the spec produces.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Value: cfg.out(), Usage: "output folder: promgen replaces what it wrote there before (listed in its .promgen-manifest) and refuses a folder holding anything else"},
			&cli.StringFlag{Name: "compose-base", Value: cfg.composeBase(), Usage: "compose file the fragments are merged over to validate them"},
			&cli.BoolFlag{Name: "check", Usage: "write nothing; fail with a diff when --out is stale"},
			fileFlag(),
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return cli.Exit(fmt.Sprintf("%s build: no arguments, got %q (the spec file is -f FILE)", cfg.name(), c.Args().Slice()), exitUsage)
			}
			if err := setEmpty(c, "file", "out"); err != nil {
				return err
			}
			cfg, err := withFile(c, cfg, true)
			if err != nil {
				return err
			}
			rc := &rulecheck.Checker{}
			files, err := generate.Build(c.Context, cfg.targets(), generate.Options{ComposeBase: cfg.composeBaseOf(c), Rules: rc})
			if err != nil {
				return cli.Exit(specError(cfg, err), 1)
			}
			out := c.String("out")
			// Lint errors fail the build: promtool would accept these rules,
			// but they break alerting in production.
			if problems := lintSpec(cfg, files, out, rc); len(problems) > 0 {
				if err := lint.WriteText(c.App.ErrWriter, problems); err != nil {
					return err
				}
				if lint.HasErrors(problems) {
					return cli.Exit("build failed, nothing written: lint errors above", 1)
				}
			}
			if c.Bool("check") {
				diff, err := generate.Diff(out, files)
				if err != nil {
					return err
				}
				if diff != "" {
					fmt.Fprint(c.App.Writer, diff)
					return cli.Exit(fmt.Sprintf("%s is stale: run `promgen build` and commit the result", out), 1)
				}
				fmt.Fprintf(c.App.Writer, "%s is up to date (%d files)\n", out, len(files))
				return nil
			}
			if err := generate.Write(out, files); err != nil {
				return fmt.Errorf("write %s: %w", out, err)
			}
			fmt.Fprintf(c.App.Writer, "wrote %d files to %s\n", len(files), out)
			return nil
		},
	}
}

// problems counts n problems in words.
func problems(n int) string {
	if n == 1 {
		return "1 problem"
	}
	return fmt.Sprintf("%d problems", n)
}

// specError lists every problem of a failed build on its own line, under
// the spec's origin: for a YAML spec, the file, line and column.
func specError(cfg Config, err error) string {
	each := flatten(err)
	var b strings.Builder
	fmt.Fprintf(&b, "build failed, nothing written (%s):", problems(len(each)))
	for _, e := range each {
		var fe *spec.FieldError
		switch {
		case errors.As(e, &fe) && cfg.doc != nil:
			fmt.Fprintf(&b, "\n  %s: %s", cfg.doc.Where(e), e)
		case errors.As(e, &fe):
			fmt.Fprintf(&b, "\n  %s: %s", cfg.Origin, e)
		default:
			fmt.Fprintf(&b, "\n  %s", e)
		}
	}
	return b.String()
}

// flatten unpacks errors.Join trees into their leaves.
func flatten(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, flatten(e)...)
	}
	return out
}
