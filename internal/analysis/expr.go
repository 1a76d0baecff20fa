package analysis

import (
	"slices"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/catalog"
)

// MetricName returns the metric a selector reads, whether written as a name
// or as a __name__ matcher; "" when it matches names by regexp.
func MetricName(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

// Selectors returns every vector selector of an expression in source order:
// the series it reads.
func Selectors(e parser.Expr) []*parser.VectorSelector {
	var out []*parser.VectorSelector
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			out = append(out, vs)
		}
		return nil
	})
	return out
}

// Selected returns the values of a label that an expression selects
// targets' series by, with an equality matcher, in source order, each once.
// ALERTS and ALERTS_FOR_STATE carry the labels of the alerts Prometheus
// writes them for: reading one reads no target.
func Selected(e parser.Expr, label string) []string {
	if e == nil {
		return nil
	}
	var out []string
	for _, vs := range Selectors(e) {
		if name := MetricName(vs); name == catalog.Alerts || name == catalog.AlertsForState {
			continue
		}
		for _, m := range vs.LabelMatchers {
			if m.Name == label && m.Type == labels.MatchEqual && !slices.Contains(out, m.Value) {
				out = append(out, m.Value)
			}
		}
	}
	return out
}

// Unparen strips the parentheses around an expression, which do not change
// what it means.
func Unparen(e parser.Expr) parser.Expr {
	for {
		switch p := e.(type) {
		case *parser.ParenExpr:
			e = p.Expr
		case *parser.StepInvariantExpr:
			e = p.Expr
		default:
			return e
		}
	}
}

// SameExpr reports whether two expressions are the same query, however they
// are spaced or parenthesised.
func SameExpr(a, b parser.Expr) bool {
	return Unparen(a).String() == Unparen(b).String()
}

// OrBranches returns the alternatives of an expression's "or"s.
func OrBranches(e parser.Expr) []parser.Expr {
	if b, ok := Unparen(e).(*parser.BinaryExpr); ok && b.Op == parser.LOR {
		return append(OrBranches(b.LHS), OrBranches(b.RHS)...)
	}
	return []parser.Expr{e}
}

// memoryLimits are the limits a memory ratio divides by.
var memoryLimits = []string{catalog.ContainerMemoryLimitBytes, catalog.CAdvisorContainerSpecMemoryLimit}

// ReadsMemoryRatio reports whether an expression reads the exporter's
// memory ratio or divides by a memory limit: without a limit, the ratio is
// absent (the exporter's) or meaningless (cAdvisor's limit is 0).
func ReadsMemoryRatio(e parser.Expr) bool {
	ratio := false
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.VectorSelector:
			ratio = ratio || MetricName(n) == catalog.ContainerMemoryUsageRatio
		case *parser.BinaryExpr:
			ratio = ratio || n.Op == parser.DIV && slices.ContainsFunc(Selectors(n), func(vs *parser.VectorSelector) bool {
				return slices.Contains(memoryLimits, MetricName(vs))
			})
		}
		return nil
	})
	return ratio
}
