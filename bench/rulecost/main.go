// Command rulecost measures what promgen's SLO rules and Sloth's, for the
// same objectives, cost the Prometheus that evaluates them: a synthetic
// fleet of n services is backfilled with promtool, each rule set runs in a
// pinned Prometheus of its own over the same blocks, fed live samples
// after them, and the figures are Prometheus' own (its /metrics and query
// API). It prints a markdown table, and with -doc writes it into that file
// between the rule-cost markers.
//
//	PROMETHEUS=... PROMTOOL=... SLOTH=... go run . -services 100,1000 -doc ../../docs/rule-cost.md
//
// make bench-rules runs it with the pinned tools.
package main

import (
	"context"
	"debug/buildinfo"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// options are a run's.
type options struct {
	services []int
	measure  measureOpts
	promtool string
	sloth    string
	work     string
	// coarse is the step of the backfilled history older than an hour.
	coarse time.Duration
}

// toolsFromEnv reads the pinned tools' paths, as the Makefile exports them.
func toolsFromEnv(o *options) error {
	var missing []string
	get := func(env string) string {
		v := os.Getenv(env)
		if v == "" {
			missing = append(missing, env)
		}
		return v
	}
	o.measure.prometheus, o.promtool, o.sloth = get("PROMETHEUS"), get("PROMTOOL"), get("SLOTH")
	o.measure.promtool = o.promtool
	if len(missing) > 0 {
		return fmt.Errorf("%s not set: run `make bench-rules`, or set them to the binaries scripts/tools.sh prometheus promtool sloth builds", strings.Join(missing, ", "))
	}
	return nil
}

// run measures both rule sets over a fleet of each size.
func run(ctx context.Context, o options, log io.Writer) ([]result, error) {
	var out []result
	for _, n := range o.services {
		f := fleet{n: n, end: time.Now().Truncate(time.Second), history: 3*24*time.Hour + time.Hour, coarse: o.coarse, scrape: 15 * time.Second}
		blocks := filepath.Join(o.work, fmt.Sprintf("blocks-%d", n))
		if err := os.RemoveAll(blocks); err != nil {
			return nil, err
		}
		start := time.Now()
		if err := f.backfill(o.promtool, blocks); err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "rulecost: %d services: %d series backfilled in %s\n", n, f.seriesCount(), time.Since(start).Round(time.Second))
		sets := []struct {
			name  string
			write func(dir string) ([]string, error)
		}{
			{"promgen", func(dir string) ([]string, error) { return writePromgenRules(ctx, f, dir) }},
			{"sloth", func(dir string) ([]string, error) { return writeSlothRules(o.sloth, f, dir) }},
		}
		for _, set := range sets {
			dir, err := setDir(o.work, set.name, n)
			if err != nil {
				return nil, err
			}
			files, err := set.write(filepath.Join(dir, "rules"))
			if err != nil {
				return nil, fmt.Errorf("%s rules for %d services: %w", set.name, n, err)
			}
			r, err := measure(ctx, o.measure, f, blocks, dir, set.name, files)
			if err != nil {
				return nil, fmt.Errorf("%d services: %w", n, err)
			}
			fmt.Fprintf(log, "rulecost: %d services, %s: %d rules, cycle %s (max group %s), %d failures\n", n, set.name, r.rules, r.cycleSum, r.cycleMax, int(r.failures))
			out = append(out, r)
		}
		if err := os.RemoveAll(blocks); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// objectivesPerService is both specs' number of objectives per service.
const objectivesPerService = 2

// table is the results as one markdown table, with the machine and the
// versions that produced them.
func table(rs []result, o options) (string, error) {
	promVersion, err := moduleVersion(o.measure.prometheus, "github.com/prometheus/prometheus")
	if err != nil {
		return "", err
	}
	slothVersion, err := moduleVersion(o.sloth, "github.com/slok/sloth")
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| services | rule set | groups | rules | recorded series | eval per interval (sum of groups) | per objective | slowest group | of its interval | one rule p50 / p99 | head series | RSS | failures | missed |\n")
	fmt.Fprintf(&b, "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "| %d | %s | %d | %d | %d | %s | %s | %s | %.1f%% | %s / %s | %d | %.0f MiB | %.0f | %.0f |\n",
			r.services, r.set, r.groups, r.rules, r.recorded, ms(r.cycleSum), ms(r.perObjective(objectivesPerService*r.services)),
			ms(r.cycleMax), 100*r.slowestShare, ms(r.ruleP50), ms(r.ruleP99), r.headSeries, r.rss/(1<<20), r.failures, r.missed)
	}
	fmt.Fprintf(&b, "\nOne run of `make bench-rules` on %s; %d CPU cores, %s, evaluation interval %s, medians of %d cycles; Prometheus %s, Sloth %s.\n",
		time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), runtime.Version(), o.measure.interval, o.measure.cycles,
		promVersion, slothVersion)
	return b.String(), nil
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}

// moduleVersion is the version of module in the binary at path, from the
// build information Go writes into it.
func moduleVersion(path, module string) (string, error) {
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return "", err
	}
	for _, m := range append([]*debug.Module{&info.Main}, info.Deps...) {
		if m.Path == module {
			return m.Version, nil
		}
	}
	return "", fmt.Errorf("%s: built without module %s", path, module)
}

// writeDoc replaces the text between the rule-cost markers of path.
func writeDoc(path, text string) error {
	const begin, end = "<!-- rule-cost:begin -->\n", "<!-- rule-cost:end -->"
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		return fmt.Errorf("%s: no %q ... %q markers to write the table between", path, strings.TrimSpace(begin), end)
	}
	return os.WriteFile(path, []byte(s[:i+len(begin)]+text+s[j:]), 0o644)
}

func parseServices(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-services: %q is not a number of services", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func main() {
	var o options
	services := flag.String("services", "100,1000", "fleet sizes, comma-separated")
	flag.DurationVar(&o.measure.interval, "interval", 30*time.Second, "evaluation interval")
	flag.IntVar(&o.measure.cycles, "cycles", 10, "evaluation cycles measured per rule set")
	flag.DurationVar(&o.coarse, "coarse", 5*time.Minute, "step of the backfilled history older than an hour")
	flag.StringVar(&o.work, "work", "", "scratch folder (default: a temporary one, removed afterwards)")
	doc := flag.String("doc", "", "markdown file to write the table into, between its rule-cost markers")
	flag.Parse()
	err := func() error {
		var err error
		if o.services, err = parseServices(*services); err != nil {
			return err
		}
		if err := toolsFromEnv(&o); err != nil {
			return err
		}
		if o.work == "" {
			if o.work, err = os.MkdirTemp("", "rulecost-"); err != nil {
				return err
			}
			defer os.RemoveAll(o.work)
		}
		rs, err := run(context.Background(), o, os.Stderr)
		if err != nil {
			return err
		}
		t, err := table(rs, o)
		if err != nil {
			return err
		}
		fmt.Print(t)
		if *doc != "" {
			return writeDoc(*doc, t)
		}
		return nil
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, "rulecost:", err)
		os.Exit(1)
	}
}
