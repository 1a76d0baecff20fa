package lint

import (
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
)

// retentionRange reports a range (a range selector or a subquery, with its
// offset) that reaches back further than the Prometheus retention: the
// oldest part of the window is gone, so a 30-day objective on a Prometheus
// that keeps 15 days is computed over half its window and its budget reads
// as unspent. An error where the config's retention (or --retention) says
// how long samples are kept; nothing without one, since Prometheus'
// default is overridden too often to be worth a guess.
type retentionRange struct{}

func (retentionRange) Name() string { return "retention-range" }

func (retentionRange) Check(run *Run) []Problem {
	return run.eachRule(func(f *RuleFile, _ *Group, r *Rule) []Problem {
		keep := run.policy(f, r).Retention
		if r.AST == nil || keep == 0 {
			return nil
		}
		var ps []Problem
		parser.Inspect(r.AST, func(n parser.Node, _ []parser.Node) error {
			var rng, off time.Duration
			switch e := n.(type) {
			case *parser.MatrixSelector:
				rng, off = e.Range, e.VectorSelector.(*parser.VectorSelector).OriginalOffset
			case *parser.SubqueryExpr:
				rng, off = e.Range, e.OriginalOffset
			default:
				return nil
			}
			if rng+off <= keep {
				return nil
			}
			back := "[" + model.Duration(rng).String() + "]"
			if off != 0 {
				back += " offset " + model.Duration(off).String()
			}
			ps = append(ps, ruleProblem(f, r, r.ExprLine(n.PositionRange().Start), SeverityError,
				"%s reaches back %s, further than the Prometheus retention of %s: the oldest samples of the window are gone, so it is computed over part of it; raise the retention or shorten the window",
				back, model.Duration(rng+off), model.Duration(keep)))
			return nil
		})
		return ps
	})
}
