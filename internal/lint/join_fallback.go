package lint

import (
	"github.com/sre-tools/promgen/internal/analysis"

	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/sre-tools/promgen/catalog"

	"github.com/prometheus/prometheus/promql/parser"
)

// joinFallback reports alert expressions whose result goes through a
// group_left or group_right join that adds labels from another source, with
// no "or" offering the unjoined side: when the joined series are absent
// (their exporter is down, or has no data yet) the join matches nothing and
// the alert cannot fire, just when the diagnosis was needed. The safe shape
// is
//
//	(A * on(x) group_left(reason) B) or on(x) A
//
// Not reported: a join under the right side of "unless" (an empty result
// lets the alert fire), a join that divides or sits in a divisor (a ratio
// without its divisor means nothing, so there is nothing to fall back to),
// and joins whose joined side is metadata of the same target (*_info,
// *_metadata, *_labels, kubelet_node_name and the like) or comes from the
// same exporter (the same metric name prefix): those are down together with
// the side they label. An error where the catalog says the sides come from
// different sources, a warning where their names say so.
type joinFallback struct{}

func (joinFallback) Name() string { return "join-fallback" }

func (joinFallback) Check(run *Run) []Problem {
	return run.eachRule(func(f *RuleFile, _ *Group, r *Rule) []Problem {
		if !r.IsAlert() || r.AST == nil {
			return nil
		}
		var ps []Problem
		parser.Inspect(r.AST, func(n parser.Node, path []parser.Node) error {
			j, ok := n.(*parser.BinaryExpr)
			if !ok || j.VectorMatching == nil || len(j.VectorMatching.Include) == 0 || j.Op == parser.DIV || inDivisor(j, path) {
				return nil
			}
			base, joined, modifier, side := j.LHS, j.RHS, "group_left", "left"
			if j.VectorMatching.Card == parser.CardOneToMany {
				base, joined, modifier, side = j.RHS, j.LHS, "group_right", "right"
			}
			sev, other := otherSource(base, joined)
			if !other || hasFallback(j, base, path) {
				return nil
			}
			ps = append(ps, ruleProblem(f, r, r.ExprLine(j.PositionRange().Start), sev,
				"%s(%s) join yields nothing while the joined series are absent (exporter down, no data yet), so the alert cannot fire; add an \"or on(...)\" fallback to the %s side: %s",
				modifier, strings.Join(j.VectorMatching.Include, ", "), side, analysis.Unparen(base)))
			return nil
		})
		return ps
	})
}

// inDivisor reports whether a node under path sits in the right side of a
// division.
func inDivisor(n parser.Node, path []parser.Node) bool {
	child := n
	for i := len(path) - 1; i >= 0; i-- {
		if b, ok := path[i].(*parser.BinaryExpr); ok && b.Op == parser.DIV && b.RHS == child {
			return true
		}
		child = path[i]
	}
	return false
}

// metadataMetric matches metrics that carry labels about a target rather
// than a measurement: joined for their labels, and down with the target.
var metadataMetric = regexp.MustCompile(`(_info|_metadata|_labels|_annotations|_node_name|_owner|_role)$`)

// otherSource says whether the joined side of a join comes from another
// source than its base side, which can be down while the base is up, and
// how sure that is: an error when the catalog says so, a warning when the
// metric names do.
func otherSource(base, joined parser.Expr) (Severity, bool) {
	var baseSources, baseNS []string
	for _, vs := range analysis.Selectors(base) {
		name := analysis.MetricName(vs)
		if m, ok := catalog.Lookup(name); ok {
			baseSources = append(baseSources, string(m.Source))
		}
		baseNS = append(baseNS, namespace(name))
	}
	sev, other := SeverityWarning, false
	for _, vs := range analysis.Selectors(joined) {
		name := analysis.MetricName(vs)
		if name == "" || metadataMetric.MatchString(name) && !catalogSourceDiffers(name, baseSources) {
			continue
		}
		if catalogSourceDiffers(name, baseSources) {
			return SeverityError, true
		}
		if !slices.Contains(baseNS, namespace(name)) {
			other = true
		}
	}
	return sev, other
}

// catalogSourceDiffers reports whether the catalog knows a metric and its
// source is none of sources (which it knows too).
func catalogSourceDiffers(name string, sources []string) bool {
	m, ok := catalog.Lookup(name)
	return ok && len(sources) > 0 && !slices.Contains(sources, string(m.Source))
}

// namespace is a metric name's first element: the exporter or subsystem
// it comes from by Prometheus' naming practice.
func namespace(name string) string {
	ns, _, _ := strings.Cut(name, "_")
	return ns
}

// hasFallback reports whether the join j, found under path, is harmless: an
// "or" above it offers base on its other side, or it only feeds the right
// side of an "unless".
func hasFallback(j, base parser.Expr, path []parser.Node) bool {
	var child parser.Node = j
	for i := len(path) - 1; i >= 0; i-- {
		if b, ok := path[i].(*parser.BinaryExpr); ok {
			switch {
			case b.Op == parser.LUNLESS && b.RHS == child:
				return true
			case b.Op == parser.LOR:
				other := b.RHS
				if b.RHS == child {
					other = b.LHS
				}
				if containsExpr(other, base) {
					return true
				}
			}
		}
		child = path[i]
	}
	return false
}

// containsExpr reports whether want occurs anywhere in e, as sameExpr
// compares them. want is printed once, and only a node of its kind is
// printed to compare: printing every subtree of a long expression is
// quadratic in its length.
func containsExpr(e, want parser.Expr) bool {
	want = analysis.Unparen(want)
	text := want.String()
	kind := reflect.TypeOf(want)
	found := false
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if x, ok := n.(parser.Expr); ok && !found {
			x = analysis.Unparen(x)
			found = reflect.TypeOf(x) == kind && x.String() == text
		}
		return nil
	})
	return found
}
