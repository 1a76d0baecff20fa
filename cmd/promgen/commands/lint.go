package commands

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/urfave/cli/v2"

	"github.com/sre-tools/promgen/internal/generate"
	"github.com/sre-tools/promgen/internal/lint"
	"github.com/sre-tools/promgen/internal/rulecheck"
)

// exitFindings is promgen lint's exit status for findings at or above
// --fail-on; a usage, config or input error (nothing could be linted as
// asked) is exitUsage.
const exitFindings = 1

func lintCommand(cfg Config) *cli.Command {
	return &cli.Command{
		Name:      "lint",
		Usage:     "lint the spec, or the given Prometheus rule files, folders and globs",
		ArgsUsage: "[FILE|DIR|GLOB...]",
		Description: "Without arguments, lints the rule files the spec produces, as they would be written under --out,\n" +
			"with promgen's house conventions. With arguments, lints those rule files and PrometheusRule\n" +
			"manifests instead (promgen's or anyone's; folders recursively), with the policy of the config file\n" +
			"(--config, else .promgen-lint.yml in this folder or a parent up to the repository root) and the\n" +
			"spec's services as context. Prints file:line: severity check-name: message; exits 1 when a problem\n" +
			"is at least --fail-on, 2 on a usage, config or input error. See docs/lint.md.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "text", Usage: "output format: text, json or sarif"},
			&cli.StringFlag{Name: "fail-on", Value: "error", Usage: "least severity that fails the run: error, warning or info"},
			&cli.StringFlag{Name: "config", Usage: "lint config file (default: .promgen-lint.yml found from here up to the repository root)"},
			&cli.StringFlag{Name: "metadata", Usage: "metric metadata file: a saved Prometheus /api/v1/metadata response"},
			&cli.StringFlag{Name: "prometheus", Usage: "URL of a Prometheus whose /api/v1/metadata gives metric types (and its config the scrape interval, unless the lint config sets one)"},
			&cli.StringFlag{Name: "retention", Usage: "how long the Prometheus that loads the files keeps samples, e.g. 15d: retention-range refuses ranges reaching further (overrides the lint config's)"},
			&cli.DurationFlag{Name: "timeout", Value: 30 * time.Second, Usage: "timeout of the --prometheus request"},
			&cli.StringFlag{Name: "out", Value: cfg.out(), Usage: "folder the spec's files are shown under"},
			&cli.StringFlag{Name: "compose-base", Value: cfg.composeBase(), Usage: "compose file the fragments are merged over"},
			fileFlag(),
		},
		Action: func(c *cli.Context) error {
			if err := setEmpty(c, "file", "out", "config", "metadata", "prometheus", "retention"); err != nil {
				return err
			}
			if d := c.Duration("timeout"); d <= 0 {
				return cli.Exit(fmt.Sprintf("%s lint: --timeout: %s: must be > 0", cfg.name(), d), exitUsage)
			}
			// Rule files given are linted with the spec's services as
			// context when there is a spec, and without one otherwise.
			cfg, err := withFile(c, cfg, !c.Args().Present())
			if err != nil {
				return err
			}
			write, err := writer(c.String("format"))
			if err != nil {
				return cli.Exit(cfg.name()+" lint: "+err.Error(), exitUsage)
			}
			failOn, err := lint.ParseSeverity(c.String("fail-on"))
			if err != nil {
				return cli.Exit(cfg.name()+" lint: --fail-on: "+err.Error(), exitUsage)
			}
			if err := lintFlagsOfTheMode(c); err != nil {
				return err
			}
			var problems []lint.Problem
			if c.Args().Present() {
				lc, err := lintConfig(c.Context, c.String("config"), c.String("metadata"), c.String("prometheus"), c.Duration("timeout"))
				if err != nil {
					return cli.Exit(err, exitUsage)
				}
				if r := c.String("retention"); r != "" {
					d, err := model.ParseDuration(r)
					if err != nil || d <= 0 {
						return cli.Exit(fmt.Sprintf("--retention: %q is not a positive duration such as 15d", r), exitUsage)
					}
					if lc.Policy == nil {
						lc.Policy = lint.DefaultPolicy()
					}
					lc.Policy.Retention = time.Duration(d)
				}
				lc.Services = services(cfg.Outputs...)
				files, err := lint.ReadInputs(c.Args().Slice())
				if err != nil {
					return cli.Exit(err, exitUsage)
				}
				problems = lint.Lint(files, lc)
			} else {
				rc := &rulecheck.Checker{}
				built, err := generate.Build(c.Context, cfg.targets(), generate.Options{ComposeBase: cfg.composeBaseOf(c), Rules: rc})
				if err != nil {
					return cli.Exit(specError(cfg, err), exitFindings)
				}
				problems = lintSpec(cfg, built, c.String("out"), rc)
			}
			if err := write(c.App.Writer, problems); err != nil {
				return err
			}
			switch {
			case lint.HasInputErrors(problems):
				return cli.Exit("", exitUsage)
			case lint.HasAtLeast(problems, failOn):
				return cli.Exit("", exitFindings)
			}
			return nil
		},
	}
}

// lintFlagsOfTheMode refuses a flag the run would ignore: lint works on
// the files given, or without them on the spec's own rules, and each mode
// has flags the other has no use for.
func lintFlagsOfTheMode(c *cli.Context) error {
	fileOnly, specOnly := []string{"config", "metadata", "prometheus", "retention", "timeout"}, []string{"out", "compose-base"}
	if c.Args().Present() {
		for _, f := range specOnly {
			if c.IsSet(f) {
				return cli.Exit(fmt.Sprintf("--%s applies to the spec's own rules, linted when no file is given; it has no effect on %s", f, strings.Join(c.Args().Slice(), " ")), exitUsage)
			}
		}
		return nil
	}
	for _, f := range fileOnly {
		if c.IsSet(f) {
			return cli.Exit(fmt.Sprintf("--%s applies to rule files given as arguments (promgen lint --%s ... FILE|DIR|GLOB); without them promgen lints the spec's own rules with its house conventions, and the spec's prometheus.retention", f, f), exitUsage)
		}
	}
	return nil
}

func writer(format string) (func(io.Writer, []lint.Problem) error, error) {
	switch format {
	case "text":
		return lint.WriteText, nil
	case "json":
		return lint.WriteJSON, nil
	case "sarif":
		return lint.WriteSARIF, nil
	}
	return nil, fmt.Errorf("--format: %q is not text, json or sarif", format)
}

// lintConfig loads the policy and the metric sources of a run on files.
func lintConfig(ctx context.Context, configPath, metadataPath, promURL string, timeout time.Duration) (lint.Config, error) {
	var lc lint.Config
	if configPath == "" {
		found, err := lint.FindConfig(".")
		if err != nil {
			return lc, err
		}
		configPath = found
	}
	if configPath != "" {
		pol, err := lint.LoadConfig(configPath)
		if err != nil {
			return lc, fmt.Errorf("lint config: %w", err)
		}
		lc.Policy = pol
	}
	if metadataPath != "" {
		md, err := lint.LoadMetadata(metadataPath)
		if err != nil {
			return lc, fmt.Errorf("--metadata: %w", err)
		}
		lc.Metadata = md
	}
	if promURL != "" {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		url := strings.TrimSuffix(promURL, "/")
		md, err := lint.FetchMetadata(ctx, url)
		if err != nil {
			return lc, fmt.Errorf("--prometheus: %w", err)
		}
		lc.Metadata = lc.Metadata.Merge(md)
		// Its scrape interval stands where the config sets none.
		if lc.Policy == nil {
			lc.Policy = lint.DefaultPolicy()
		}
		if lc.Policy.ScrapeInterval == 0 {
			if lc.Policy.ScrapeInterval, err = lint.FetchScrapeInterval(ctx, url); err != nil {
				return lc, fmt.Errorf("--prometheus: %w", err)
			}
		}
	}
	return lc, nil
}

// lintSpec lints the rule files a build produced, each output on its own: a
// test profile repeats the same alerts, which would otherwise count as
// duplicates, and so does the Kubernetes target's rule files, linted apart
// too. Paths are shown as they are written under out. The spec's
// output is promgen's own, so it is held to the house policy (conventions
// from package conventions, unknown metrics against the catalog) wherever
// and by whichever team's main it is built, whatever config file lies
// around: the spec validated against the same conventions.
func lintSpec(cfg Config, built generate.Files, out string, rc *rulecheck.Checker) []lint.Problem {
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
				// The output's own Prometheus scrapes its rules' series: the
				// e2e profile's every second.
				policy := lint.HousePolicy()
				policy.ScrapeInterval = o.Spec.Prometheus.WithDefaults().ScrapeInterval
				// What the spec declares it keeps; spec validation already
				// refuses a longer objective, this holds every rule to it.
				policy.Retention = o.Spec.Prometheus.Retention
				problems = append(problems, lint.Lint(files, lint.Config{Services: services(o), Metadata: specMetadata(o), Policy: policy, Rules: rc})...)
			}
		}
	}
	return problems
}

// specMetadata tells lint the types of the metrics a spec declares beside
// the catalog, a team's own: its objectives' request counters and latency
// histograms. They are neither unknown metrics nor of unknown type.
func specMetadata(o Output) lint.Metadata {
	md := lint.Metadata{}
	for _, s := range o.Spec.Services {
		for _, m := range s.Metrics {
			md[m.Name] = []v1.Metadata{{Type: v1.MetricType(m.Type), Help: m.Help}}
		}
		for _, slo := range s.SLOs {
			if a := slo.Availability; a != nil && a.Requests != "" {
				md[a.Requests] = []v1.Metadata{{Type: v1.MetricTypeCounter, Help: "requests of objective " + slo.Name + " of service " + s.Name}}
			}
			if l := slo.Latency; l != nil && l.Histogram != "" {
				md[l.Histogram] = []v1.Metadata{{Type: v1.MetricTypeHistogram, Help: "latency of objective " + slo.Name + " of service " + s.Name}}
			}
		}
	}
	return md
}

// services tells lint what the spec knows of each service.
func services(outputs ...Output) []lint.Service {
	var out []lint.Service
	for _, o := range outputs {
		for _, s := range o.Spec.Services {
			out = append(out, lint.Service{Name: s.Name, Job: s.JobName(), MemoryLimitBytes: int64(s.Container.Memory.Limit),
				Healthcheck: s.Container.Healthcheck.Enabled()})
		}
	}
	return out
}
