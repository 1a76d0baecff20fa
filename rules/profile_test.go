package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/spec"
)

var window = regexp.MustCompile(`(ratio_rate|:rate|seconds_|estimate_|spent_ratio_)([0-9]+[smhdwy])+`)

// structure prints an expression's tree with every number and range left
// out: what a profile may change.
func structure(e parser.Expr) string {
	var b strings.Builder
	parser.Inspect(e, func(n parser.Node, path []parser.Node) error {
		switch n := n.(type) {
		case *parser.NumberLiteral, *parser.MatrixSelector:
			fmt.Fprintf(&b, "%d:%T ", len(path), n)
		case *parser.VectorSelector:
			// Recorded series name their window, which a profile scales.
			fmt.Fprintf(&b, "%d:%s ", len(path), window.ReplaceAllString(n.String(), "${1}W"))
		case *parser.BinaryExpr:
			fmt.Fprintf(&b, "%d:%s%+v ", len(path), n.Op, n.VectorMatching)
		case *parser.AggregateExpr:
			fmt.Fprintf(&b, "%d:%s%v ", len(path), n.Op, n.Grouping)
		case *parser.Call:
			fmt.Fprintf(&b, "%d:%s ", len(path), n.Func.Name)
		default:
			fmt.Fprintf(&b, "%d:%T ", len(path), n)
		}
		return nil
	})
	return b.String()
}

func TestTheE2EProfileChangesOnlyTimings(t *testing.T) {
	prod, fast := Spec(Production), Spec(E2E)
	pa := append(append([]spec.Alert(nil), prod.Services[0].Alerts...), prod.Pipeline...)
	fa := append(append([]spec.Alert(nil), fast.Services[0].Alerts...), fast.Pipeline...)
	// The fault matrix runs without cAdvisor, whose image cannot be pulled
	// there: no CAdvisorDown.
	if !fast.Sources.WithoutCAdvisor || prod.Sources.WithoutCAdvisor {
		t.Fatal("want cAdvisor in production only")
	}
	pa = slices.DeleteFunc(pa, func(a spec.Alert) bool { return a.Name == "CAdvisorDown" })
	if len(pa) != len(fa) {
		t.Fatalf("production has %d alerts, e2e %d", len(pa), len(fa))
	}
	for i, a := range pa {
		b := fa[i]
		if a.Name != b.Name || a.Severity != b.Severity {
			t.Errorf("alert %d: %s/%s vs %s/%s", i, a.Name, a.Severity, b.Name, b.Severity)
		}
		if structure(a.Expr) != structure(b.Expr) {
			t.Errorf("%s: the e2e expression differs beyond its numbers:\n%s\n%s", a.Name, a.Expr, b.Expr)
		}
		if b.For*10 != a.For || b.KeepFiringFor*10 != a.KeepFiringFor {
			t.Errorf("%s: e2e for %s and keep_firing_for %s are not a tenth of %s and %s", a.Name, b.For, b.KeepFiringFor, a.For, a.KeepFiringFor)
		}
	}
	pr, fr := prod.Services[0].Records, fast.Services[0].Records
	if len(pr) != len(fr) || len(pr) == 0 {
		t.Fatalf("production records %d rules, e2e %d", len(pr), len(fr))
	}
	for i, r := range pr {
		if window.ReplaceAllString(r.Name, "${1}W") != window.ReplaceAllString(fr[i].Name, "${1}W") || structure(r.Expr) != structure(fr[i].Expr) {
			t.Errorf("record %s: the e2e rule %s differs beyond its numbers and windows:\n%s\n%s", r.Name, fr[i].Name, r.Expr, fr[i].Expr)
		}
	}
}
