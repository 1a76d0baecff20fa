package lint

import (
	"github.com/sre-tools/promgen/internal/analysis"

	"github.com/prometheus/prometheus/promql/parser"
)

// rateAggregation reports rate() and increase() of an aggregate: of a
// subquery over sum(), max() or the like, or of a series a rule of the run
// records as such an aggregate of raw counters. Summing counters first hides
// each series' resets: when one target restarts, the sum drops, rate() reads
// it as a reset and returns a huge spike. Aggregate the rates instead:
// sum(rate(x[5m])).
type rateAggregation struct{}

func (rateAggregation) Name() string { return "rate-aggregation" }

func (rateAggregation) Check(run *Run) []Problem {
	return run.eachRule(func(f *RuleFile, _ *Group, r *Rule) []Problem {
		if r.AST == nil {
			return nil
		}
		var ps []Problem
		parser.Inspect(r.AST, func(n parser.Node, _ []parser.Node) error {
			c, ok := n.(*parser.Call)
			if !ok || !counterFuncs[c.Func.Name] || len(c.Args) == 0 {
				return nil
			}
			switch a := analysis.Unparen(c.Args[0]).(type) {
			case *parser.SubqueryExpr:
				if agg, ok := analysis.Unparen(a.Expr).(*parser.AggregateExpr); ok && agg.Op != parser.TOPK && agg.Op != parser.BOTTOMK {
					ps = append(ps, ruleProblem(f, r, r.ExprLine(c.PositionRange().Start), SeverityError,
						"%s() of %s(...) over a subquery: the aggregate hides each series' counter resets, so a restart reads as a huge spike; write %s(%s(...[range]))",
						c.Func.Name, agg.Op, agg.Op, c.Func.Name))
				}
			case *parser.MatrixSelector:
				vs, _ := a.VectorSelector.(*parser.VectorSelector)
				if vs == nil {
					return nil
				}
				name := analysis.MetricName(vs)
				for _, rec := range run.recorded[name] {
					if agg, ok := analysis.Unparen(rec.AST).(*parser.AggregateExpr); ok && rec.AST != nil && !usesCounterFunc(agg) && agg.Op == parser.SUM {
						ps = append(ps, ruleProblem(f, r, r.ExprLine(c.PositionRange().Start), SeverityWarning,
							"%s() of %q, which a rule records as sum() of raw values: the sum hides each series' counter resets, so a restart reads as a huge spike; record sum(%s(...)) instead",
							c.Func.Name, name, c.Func.Name))
						break
					}
				}
			}
			return nil
		})
		return ps
	})
}

// usesCounterFunc reports whether an expression calls rate() or the like.
func usesCounterFunc(e parser.Expr) bool {
	found := false
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if c, ok := n.(*parser.Call); ok && counterFuncs[c.Func.Name] {
			found = true
		}
		return nil
	})
	return found
}
