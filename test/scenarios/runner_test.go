// Package scenarios is the adversarial scenario suite: the runbook's
// situations written as raw series and what a person expects to be paged
// for (and what must stay quiet), run by the real promtool against the
// generated rule files of every profile and example. The scenarios are
// written from the situation, never from the rules: the builders' own tests
// prove each alert does what it says; these prove the alerts say the right
// thing in the outages that matter.
package scenarios

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/internal/generate"
	"github.com/sre-tools/promgen/internal/testenv"
	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
)

// ruleDirs are the generated rule folders the suite runs against, with the
// profile each was built in.
var ruleDirs = []struct {
	glob    string
	profile rules.Profile
}{
	{"../../generated/rules", rules.Production},
	{"../../generated/e2e/rules", rules.E2E},
	{"../../examples/*/generated/rules", rules.Production},
}

// target is one service's generated rule group, as a scenario sees it: the
// names its series carry and the alerts and records it has.
type target struct {
	file            string
	service, job    string
	project         string
	profile         rules.Profile
	alerts          map[string]string // name -> severity
	records         []string
	interval        time.Duration
	availabilitySLO bool
}

func (t target) d(x time.Duration) time.Duration { return t.profile.D(x) }

// step is the sample and evaluation interval: the scrape interval of the
// profile.
func (t target) step() time.Duration { return t.d(15 * time.Second) }

func (t target) has(alert string) bool { _, ok := t.alerts[alert]; return ok }

// scenario is one situation: build returns its series and the queries that
// say what a person expects; applies, when set, says which services the
// situation makes sense for.
type scenario struct {
	name    string
	applies func(t target) bool
	build   func(t target) spec.Test
}

// loadTargets reads every generated rule group of a service (the pipeline
// group is spec-wide) and derives its job and compose project from its
// own selectors.
func loadTargets(t *testing.T) []target {
	t.Helper()
	var out []target
	for _, d := range ruleDirs {
		dirs, err := filepath.Glob(d.glob)
		if err != nil || len(dirs) == 0 {
			t.Fatalf("no rule folder matches %s", d.glob)
		}
		for _, dir := range dirs {
			files, _ := filepath.Glob(filepath.Join(dir, "*.rules.yml"))
			for _, f := range files {
				if strings.HasSuffix(f, spec.PipelineGroup+".rules.yml") {
					continue
				}
				abs, _ := filepath.Abs(f)
				out = append(out, readTarget(t, abs, d.profile))
			}
		}
	}
	if len(out) < 4 {
		t.Fatalf("found %d services in the generated rule files; expected the gateway's two profiles and the examples'", len(out))
	}
	return out
}

func readTarget(t *testing.T, file string, p rules.Profile) target {
	t.Helper()
	groups, errs := rulefmt.ParseFile(file, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		t.Fatalf("%s: %v", file, errs)
	}
	if len(groups.Groups) != 1 {
		t.Fatalf("%s: %d groups, want one per service", file, len(groups.Groups))
	}
	g := groups.Groups[0]
	tg := target{file: file, service: g.Name, profile: p, alerts: map[string]string{}, interval: time.Duration(g.Interval)}
	jobs, projects := map[string]bool{}, map[string]bool{}
	for _, r := range g.Rules {
		expr, err := parser.NewParser(parser.Options{}).ParseExpr(r.Expr)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
			vs, ok := n.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			for _, m := range vs.LabelMatchers {
				switch {
				case vs.Name == catalog.Up && m.Name == "job":
					jobs[m.Value] = true
				case m.Name == catalog.LabelComposeProject:
					projects[m.Value] = true
				}
			}
			return nil
		})
		if r.Alert != "" {
			tg.alerts[r.Alert] = r.Labels["severity"]
		} else if !slices.Contains(tg.records, r.Record) {
			tg.records = append(tg.records, r.Record)
			if r.Labels["slo"] == "availability" {
				tg.availabilitySLO = true
			}
		}
	}
	// A service that is not scraped (a batch worker) has no job of its
	// own: its name stands in, and no up series is read.
	tg.job = g.Name
	for j := range jobs {
		tg.job = j
	}
	if len(jobs) > 1 {
		t.Fatalf("%s: several jobs read as the service's: %v", file, jobs)
	}
	for p := range projects {
		tg.project = p
	}
	return tg
}

// TestScenarios runs every scenario against every service it applies to,
// one promtool run per service.
func TestScenarios(t *testing.T) {
	promtool := testenv.Promtool(t)
	targets := loadTargets(t)
	for _, tg := range targets {
		name := strings.TrimPrefix(tg.file, mustAbs("../..")+"/")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var tests []spec.Test
			for _, sc := range all {
				if sc.applies != nil && !sc.applies(tg) {
					continue
				}
				st := sc.build(tg)
				st.Name = sc.name
				tests = append(tests, st)
			}
			if len(tests) == 0 {
				t.Skipf("no scenario applies to %s", tg.service)
			}
			b, err := generate.ScenarioFile([]string{tg.file}, tg.step(), tests)
			if err != nil {
				t.Fatal(err)
			}
			f := filepath.Join(t.TempDir(), tg.service+".scenarios.yml")
			if err := os.WriteFile(f, b, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(promtool, "test", "rules", f).CombinedOutput()
			if err != nil {
				t.Errorf("promtool test rules %s (%d scenarios): %v\n%s", f, len(tests), err, out)
			}
		})
	}
}

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		panic(err)
	}
	return a
}

// Expectations, as queries over the alerts Prometheus itself records.

// firing expects exactly the named alerts of the service to be firing at
// at (those the service has; an alert it lacks cannot be expected), and no
// other. With slos false, the objectives' burn alerts are left out of the
// comparison: during an outage they burn, as they should, and are muted
// by ServiceDown.
func firing(t target, at time.Duration, slos bool, names ...string) spec.Query {
	sel := `ALERTS{alertstate="firing"`
	if !slos {
		sel += `,slo=""`
	}
	q := spec.Query{At: at, Expr: "count by (alertname, severity) (" + sel + "})"}
	var have []string
	for _, n := range names {
		if t.has(n) {
			have = append(have, n)
		}
	}
	sort.Strings(have)
	for _, n := range have {
		q.Samples = append(q.Samples, spec.Sample{Labels: map[string]string{"alertname": n, "severity": t.alerts[n]}, Value: 1})
	}
	return q
}

// oneIdentity expects alert to be active at at as one instance that has
// been active since since: Alertmanager saw no resolve and no new incident
// in between (ALERTS_FOR_STATE holds each instance's activation time).
func oneIdentity(alert string, at, since time.Duration) []spec.Query {
	sel := fmt.Sprintf(`ALERTS_FOR_STATE{alertname=%q}`, alert)
	return []spec.Query{
		{At: at, Expr: "count(" + sel + ")", Samples: []spec.Sample{{Labels: map[string]string{}, Value: 1}}},
		{At: at, Expr: "max(" + sel + ")", Samples: []spec.Sample{{Labels: map[string]string{}, Value: since.Seconds()}}},
	}
}

// noNaN expects no recorded series of the service to be NaN at at.
func noNaN(t target, at time.Duration) []spec.Query {
	var out []spec.Query
	for _, r := range t.records {
		out = append(out, spec.Query{At: at, Expr: fmt.Sprintf("%s unless %s >= -Inf", r, r)})
	}
	return out
}
