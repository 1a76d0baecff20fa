package scenario_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/internal/generate"
	"github.com/sre-tools/promgen/internal/testenv"
	"github.com/sre-tools/promgen/spec"
	"github.com/sre-tools/promgen/spec/scenario"
)

// A team's service and its own metrics, as a team writes scenarios for them.
var (
	svc   = spec.Service{Name: "shop", ComposeProject: "retail", Scrape: spec.Scrape{Port: 9000}, RunbookURL: "https://runbooks.example.com/shop"}
	queue = "shop_queue_depth"
	sold  = "shop_orders_total"
	at    = scenario.Discovered(svc, 1, scenario.Host)
)

// gone alerts when the queue gauge of svc has no sample: what Stale and
// Gap tell apart.
func gone(tests ...spec.Test) spec.Alert {
	return alert("ShopQueueGone", spec.Call("absent", spec.Metric(queue, spec.Eq("job", svc.JobName()))), tests...)
}

func alert(name string, expr parser.Expr, tests ...spec.Test) spec.Alert {
	return spec.Alert{Name: name, Expr: expr, Severity: spec.Warning, Summary: "s", Description: "d", Tests: tests}
}

// fires is one instance of gone or selling with the labels labels.
func fires(t time.Duration, labels map[string]string) spec.Expect {
	return scenario.Fires(t, spec.Firing{Labels: labels, Summary: "s", Description: "d"})
}

// TestScenariosMeanWhatTheHelpersSay runs scenarios written with the
// helpers through promgen's build and the real promtool: each segment is
// the series its doc comment promises, and a scenario that expects
// otherwise fails.
func TestScenariosMeanWhatTheHelpersSay(t *testing.T) {
	promtool := testenv.Promtool(t)
	job := map[string]string{"job": svc.JobName()}
	for _, c := range []struct {
		name  string
		alert spec.Alert
		pass  bool
	}{{
		name: "a stale segment ends the series at once",
		alert: gone(spec.Test{Name: "stale",
			Series: []spec.Series{scenario.Series(queue, at, scenario.Hold(3, 2*time.Minute), scenario.Stale(5*time.Minute))},
			Expect: []spec.Expect{scenario.Quiet(2*time.Minute - 15*time.Second), fires(2*time.Minute, job)}}),
		pass: true,
	}, {
		name: "a gap keeps the last sample for the 5m lookback, then the series is gone",
		alert: gone(spec.Test{Name: "gap",
			Series: []spec.Series{scenario.Series(queue, at, scenario.Hold(3, 2*time.Minute), scenario.Gap(8*time.Minute))},
			Expect: []spec.Expect{scenario.Quiet(6*time.Minute + 30*time.Second), fires(7*time.Minute, job)}}),
		pass: true,
	}, {
		name: "a gap is no staleness marker: a scenario expecting one fails",
		alert: gone(spec.Test{Name: "gap as stale",
			Series: []spec.Series{scenario.Series(queue, at, scenario.Hold(3, 2*time.Minute), scenario.Gap(8*time.Minute))},
			Expect: []spec.Expect{scenario.Quiet(2*time.Minute - 15*time.Second), fires(2*time.Minute, job)}}),
	}, {
		name: "a series born after a gap is absent until its first sample",
		alert: gone(spec.Test{Name: "born late",
			Series: []spec.Series{scenario.Series(queue, at, scenario.Gap(2*time.Minute), scenario.Hold(3, 3*time.Minute))},
			Expect: []spec.Expect{fires(time.Minute, job), scenario.Quiet(2 * time.Minute)}}),
		pass: true,
	}, {
		name: "a counter grows from its segment's first value",
		alert: alert("ShopSelling", spec.Filter(spec.Call("rate", spec.Range(spec.Metric(sold), time.Minute)), spec.OpGt, 0),
			spec.Test{Name: "grow",
				Series: []spec.Series{scenario.Series(sold, at, scenario.Hold(5, 3*time.Minute), scenario.Grow(5, 1, 3*time.Minute))},
				Expect: []spec.Expect{scenario.Quiet(2*time.Minute + 30*time.Second), fires(5*time.Minute, at)}}),
		pass: true,
	}, {
		name: "a held value is constant: a scenario expecting growth fails",
		alert: alert("ShopSelling", spec.Filter(spec.Call("rate", spec.Range(spec.Metric(sold), time.Minute)), spec.OpGt, 0),
			spec.Test{Name: "hold",
				Series: []spec.Series{scenario.Series(sold, at, scenario.Hold(5, 6*time.Minute))},
				Expect: []spec.Expect{scenario.Quiet(time.Minute), fires(5*time.Minute, at)}}),
	}} {
		t.Run(c.name, func(t *testing.T) {
			s := svc
			s.Alerts = []spec.Alert{c.alert}
			files, err := generate.Build(context.Background(), []generate.Target{{Spec: spec.Spec{Services: []spec.Service{s}}}}, generate.Options{})
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			dir := t.TempDir()
			if err := generate.Write(dir, files); err != nil {
				t.Fatal(err)
			}
			tests, _ := filepath.Glob(filepath.Join(dir, "tests", "*.test.yml"))
			if len(tests) != 1 {
				t.Fatalf("want one test file, got %v", tests)
			}
			out, err := exec.Command(promtool, "test", "rules", tests[0]).CombinedOutput()
			switch {
			case c.pass && err != nil:
				t.Errorf("promtool test rules: %v\n%s", err, out)
			case !c.pass && err == nil:
				t.Errorf("promtool passed a scenario whose expectation contradicts its series:\n%s", out)
			case !c.pass && !strings.Contains(string(out), "FAILED"):
				t.Errorf("promtool failed, but not on the expectation: %v\n%s", err, out)
			}
		})
	}
}
