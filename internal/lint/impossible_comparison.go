package lint

import (
	"github.com/sre-tools/promgen/internal/analysis"

	"strconv"

	"github.com/prometheus/prometheus/promql/parser"
)

// impossibleComparison reports comparisons that can never be true, given
// what the compared side can return: up > 1 (up is 0 or 1), count(x) == 0
// (count over no series returns nothing, not 0), rate(x[5m]) < 0, a known
// counter < 0, absent(x) == 0, a/(a+b) > 1. An alert on such a comparison
// never fires; a recording rule records nothing.
type impossibleComparison struct{}

func (impossibleComparison) Name() string { return "impossible-comparison" }

func (impossibleComparison) Check(run *Run) []Problem {
	return run.eachRule(func(f *RuleFile, _ *Group, r *Rule) []Problem {
		if r.AST == nil {
			return nil
		}
		var ps []Problem
		parser.Inspect(r.AST, func(n parser.Node, _ []parser.Node) error {
			b, ok := n.(*parser.BinaryExpr)
			if !ok {
				return nil
			}
			side, op, c, ok := analysis.ConstComparison(b)
			if !ok {
				return nil
			}
			v := run.rangeOf(side)
			if !v.Known() || analysis.Satisfiable(v, op, c) {
				return nil
			}
			what := "the alert never fires"
			if !r.IsAlert() {
				what = "the rule records nothing"
			}
			if b.ReturnBool {
				what = "it is always 0"
			}
			ps = append(ps, ruleProblem(f, r, r.ExprLine(b.PositionRange().Start), SeverityError,
				"%s %s %s can never be true (%s): %s", short(analysis.Unparen(side)), op, strconv.FormatFloat(c, 'g', -1, 64), v.Why, what))
			return nil
		})
		return ps
	})
}

// short is an expression's text, cut to a length a message can carry.
func short(e parser.Expr) string {
	s := e.String()
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
