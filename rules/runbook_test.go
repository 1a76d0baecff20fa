package rules_test

import (
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
)

// unchecked marks a timing the runbook does not state.
const unchecked time.Duration = -1

// runbookTimings are the runbook's numbers (runbook-service-down.md), copied
// here by hand: the alerts' own promtool scenarios compute their firing
// times from the alert, so they prove an alert does what it says; this
// table proves it says what the runbook asks. Change a number here only
// when the runbook changes.
var runbookTimings = []struct {
	alert         string
	severity      spec.Severity
	forDur        time.Duration // the rule's for
	keepFiringFor time.Duration // the rule's keep_firing_for
	compare       string        // a comparison with a number the expression must make, e.g. "> 0.85"
	window        time.Duration // a range the expression must read, e.g. [15m]
}{
	// "Severity: Critical (P0)", paged within a minute of the target
	// going down, and not resolved and re-paged by one flapping scrape.
	{alert: "ServiceDown", severity: spec.Critical, forDur: time.Minute, keepFiringFor: time.Minute},
	// "Monitoring Improvements": > 0.85 for 5m, warning.
	{alert: "HighMemoryUsage", severity: spec.Warning, forDur: 5 * time.Minute, keepFiringFor: unchecked, compare: "> 0.85"},
	// "Monitoring Improvements": > 0.95 for 2m, critical.
	{alert: "CriticalMemoryUsage", severity: spec.Critical, forDur: 2 * time.Minute, keepFiringFor: unchecked, compare: "> 0.95"},
	// "Pattern 2: Crash Loop": 3 restarts within 15 minutes.
	{alert: "ContainerCrashLooping", forDur: unchecked, keepFiringFor: unchecked, compare: ">= 3", window: 15 * time.Minute},
	// "Health Checks": unhealthy for a minute.
	{alert: "ContainerUnhealthy", forDur: time.Minute, keepFiringFor: unchecked},
}

// rule is what this test reads of an alerting rule, from the spec or from
// a generated file.
type rule struct {
	severity           string
	forDur, keepFiring time.Duration
	expr               parser.Expr
}

// TestTheAlertsKeepTheRunbooksTimings holds the gateway's alerts, as the
// spec builds them and as generated/ holds them, to the runbook's numbers.
func TestTheAlertsKeepTheRunbooksTimings(t *testing.T) {
	built := map[string]rule{}
	for _, a := range rules.Spec(rules.Production).Services[0].Alerts {
		built[a.Name] = rule{severity: string(a.Severity), forDur: a.For, keepFiring: a.KeepFiringFor, expr: a.Expr}
	}
	generated := map[string]rule{}
	file := "../generated/rules/" + rules.GatewayService + ".rules.yml"
	groups, errs := rulefmt.ParseFile(file, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		t.Fatalf("%s: %v", file, errs)
	}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			expr, err := parser.NewParser(parser.Options{}).ParseExpr(r.Expr)
			if err != nil {
				t.Fatalf("%s: alert %s: %v", file, r.Alert, err)
			}
			generated[r.Alert] = rule{severity: r.Labels["severity"], forDur: time.Duration(r.For), keepFiring: time.Duration(r.KeepFiringFor), expr: expr}
		}
	}

	for _, src := range []struct {
		name  string
		rules map[string]rule
	}{{"the built spec", built}, {"the generated rule file", generated}} {
		for _, want := range runbookTimings {
			t.Run(want.alert+" in "+src.name, func(t *testing.T) {
				got, ok := src.rules[want.alert]
				if !ok {
					t.Fatalf("no alert %s", want.alert)
				}
				if want.severity != "" && got.severity != string(want.severity) {
					t.Errorf("severity %q, the runbook's is %q", got.severity, want.severity)
				}
				if want.forDur != unchecked && got.forDur != want.forDur {
					t.Errorf("for %s, the runbook's is %s", got.forDur, want.forDur)
				}
				if want.keepFiringFor != unchecked && got.keepFiring != want.keepFiringFor {
					t.Errorf("keep_firing_for %s, the runbook's is %s", got.keepFiring, want.keepFiringFor)
				}
				compares, windows := shape(got.expr)
				if want.compare != "" && !slices.Contains(compares, want.compare) {
					t.Errorf("%s compares %v, the runbook's is %q", got.expr, compares, want.compare)
				}
				if want.window != 0 && !slices.Contains(windows, want.window) {
					t.Errorf("%s reads ranges %v, the runbook's is %s", got.expr, windows, want.window)
				}
			})
		}
	}
}

// shape lists the comparisons with a number an expression makes, as
// "op number" with the series on the left, and the ranges it reads.
func shape(e parser.Expr) (compares []string, windows []time.Duration) {
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.BinaryExpr:
			if !n.Op.IsComparisonOperator() {
				break
			}
			if num, ok := unparen(n.RHS).(*parser.NumberLiteral); ok {
				compares = append(compares, fmt.Sprintf("%s %g", n.Op, num.Val))
			} else if num, ok := unparen(n.LHS).(*parser.NumberLiteral); ok {
				compares = append(compares, fmt.Sprintf("%s %g", flip[n.Op], num.Val))
			}
		case *parser.MatrixSelector:
			windows = append(windows, n.Range)
		case *parser.SubqueryExpr:
			windows = append(windows, n.Range)
		}
		return nil
	})
	return compares, windows
}

// flip turns "number op series" into "series op number".
var flip = map[parser.ItemType]parser.ItemType{
	parser.GTR: parser.LSS, parser.LSS: parser.GTR, parser.GTE: parser.LTE, parser.LTE: parser.GTE,
	parser.EQLC: parser.EQLC, parser.NEQ: parser.NEQ,
}

func unparen(e parser.Expr) parser.Expr {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}
