package lint

import (
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// joinFallback reports alert expressions whose result goes through a
// group_left or group_right join that adds labels, with no "or" offering the
// unjoined side: when the joined series are absent (their exporter is down,
// or has no data yet) the join matches nothing and the alert cannot fire,
// just when the diagnosis was needed. The safe shape is
//
//	(A * on(x) group_left(reason) B) or on(x) A
//
// A join under the right side of "unless" is not reported: there an empty
// result lets the alert fire rather than silencing it.
type joinFallback struct{}

func (joinFallback) Name() string { return "join-fallback" }

func (joinFallback) Check(files []*RuleFile, _ Config) []Problem {
	return eachRule(files, func(f *RuleFile, _ *Group, r *Rule) []Problem {
		if !r.IsAlert() || r.AST == nil {
			return nil
		}
		var ps []Problem
		parser.Inspect(r.AST, func(n parser.Node, path []parser.Node) error {
			j, ok := n.(*parser.BinaryExpr)
			if !ok || j.VectorMatching == nil || len(j.VectorMatching.Include) == 0 {
				return nil
			}
			base, modifier, side := j.LHS, "group_left", "left"
			if j.VectorMatching.Card == parser.CardOneToMany {
				base, modifier, side = j.RHS, "group_right", "right"
			}
			if hasFallback(j, base, path) {
				return nil
			}
			ps = append(ps, ruleProblem(f, r, r.ExprLine(j.PositionRange().Start), SeverityError,
				"%s(%s) join yields nothing while the joined series are absent (exporter down, no data yet), so the alert cannot fire; add an \"or on(...)\" fallback to the %s side: %s",
				modifier, strings.Join(j.VectorMatching.Include, ", "), side, unparen(base)))
			return nil
		})
		return ps
	})
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

// containsExpr reports whether want occurs anywhere in e.
func containsExpr(e, want parser.Expr) bool {
	found := false
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if x, ok := n.(parser.Expr); ok && sameExpr(x, want) {
			found = true
		}
		return nil
	})
	return found
}
