package commands

import (
	"fmt"
	"os"
	"path"

	"github.com/urfave/cli/v2"

	"github.com/sre-tools/promgen/internal/generate"
	"github.com/sre-tools/promgen/internal/lint"
)

func lintCommand(cfg Config) *cli.Command {
	return &cli.Command{
		Name:      "lint",
		Usage:     "lint the spec, or the given Prometheus rule files",
		ArgsUsage: "[FILE...]",
		Description: "Without arguments, lints the rule files the spec produces, as they would be written under --out.\n" +
			"With files, lints those instead (promgen's or anyone's), using the spec's services as context.\n" +
			"Prints file:line: severity check-name: message; exits 1 when any problem is an error.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "text", Usage: "output format: text or json"},
			&cli.StringFlag{Name: "out", Value: "generated", Usage: "folder the spec's files are shown under"},
			&cli.StringFlag{Name: "compose-base", Value: "compose/docker-compose.yml", Usage: "compose file the fragments are merged over"},
		},
		Action: func(c *cli.Context) error {
			write := lint.WriteText
			switch c.String("format") {
			case "text":
			case "json":
				write = lint.WriteJSON
			default:
				return cli.Exit(fmt.Sprintf("--format: %q is not text or json", c.String("format")), 2)
			}
			var problems []lint.Problem
			if c.Args().Present() {
				var files []lint.File
				for _, p := range c.Args().Slice() {
					b, err := os.ReadFile(p)
					if err != nil {
						return cli.Exit(err, 2)
					}
					files = append(files, lint.File{Path: p, Content: b})
				}
				problems = lint.Lint(files, lint.Config{Services: services(cfg.Outputs...)})
			} else {
				built, err := generate.Build(c.Context, cfg.targets(), generate.Options{ComposeBase: c.String("compose-base")})
				if err != nil {
					return cli.Exit(specError(cfg, err), 1)
				}
				problems = lintSpec(cfg, built, c.String("out"))
			}
			if err := write(c.App.Writer, problems); err != nil {
				return err
			}
			if lint.HasErrors(problems) {
				return cli.Exit("", 1)
			}
			return nil
		},
	}
}

// lintSpec lints the rule files a build produced, each output on its own: a
// test profile repeats the same alerts, which would otherwise count as
// duplicates, and so does the Kubernetes target's rule files, linted apart
// too. Paths are shown as they are written under out.
func lintSpec(cfg Config, built generate.Files, out string) []lint.Problem {
	var problems []lint.Problem
	for _, o := range cfg.Outputs {
		for _, dir := range []string{path.Join(o.Dir, "rules"), path.Join(o.Dir, "kubernetes", "rules")} {
			var files []lint.File
			for _, p := range built.Paths() {
				if path.Dir(p) == dir {
					files = append(files, lint.File{Path: path.Join(out, p), Content: built[p]})
				}
			}
			if len(files) > 0 {
				problems = append(problems, lint.Lint(files, lint.Config{Services: services(o)})...)
			}
		}
	}
	return problems
}

// services tells lint what the spec knows of each service.
func services(outputs ...Output) []lint.Service {
	var out []lint.Service
	for _, o := range outputs {
		for _, s := range o.Spec.Services {
			out = append(out, lint.Service{Name: s.Name, Job: s.JobName(), MemoryLimitBytes: int64(s.Container.Memory.Limit)})
		}
	}
	return out
}
