package lint

import (
	"github.com/sre-tools/promgen/internal/analysis"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
)

// twoSampleFuncs need two samples in their range to return anything.
var twoSampleFuncs = map[string]bool{
	"rate": true, "irate": true, "increase": true, "delta": true, "idelta": true,
	"deriv": true, "predict_linear": true, "resets": true, "changes": true,
}

// rateRange reports rate() and the other functions that need two samples,
// over a range shorter than two scrape intervals: with one sample (or none)
// in the range they return nothing, so the alert never fires or flaps with
// every scrape that lands late. An error at the config's scrape_interval
// for the file (or the --prometheus server's); only an info hint at
// Prometheus' default of 1m, assumed when neither says: most setups scrape
// more often, and the finding rests on a guess.
type rateRange struct{}

func (rateRange) Name() string { return "rate-range" }

func (rateRange) Check(run *Run) []Problem {
	return run.eachRule(func(f *RuleFile, _ *Group, r *Rule) []Problem {
		if r.AST == nil {
			return nil
		}
		eff := run.policy(f, r)
		interval, sev, assumed := eff.ScrapeInterval, SeverityError, ""
		if !eff.ScrapeIntervalSet {
			sev, assumed = SeverityInfo, " (Prometheus' default, assumed: set scrape_interval in the lint config)"
		}
		var ps []Problem
		parser.Inspect(r.AST, func(n parser.Node, _ []parser.Node) error {
			c, ok := n.(*parser.Call)
			if !ok || !twoSampleFuncs[c.Func.Name] || len(c.Args) == 0 {
				return nil
			}
			m, ok := analysis.Unparen(c.Args[0]).(*parser.MatrixSelector)
			if !ok || m.Range >= 2*interval {
				return nil
			}
			p := ruleProblem(f, r, r.ExprLine(m.PositionRange().Start), sev,
				"%s() over [%s] holds fewer than two samples at a scrape interval of %s%s, so it returns nothing or flaps; use at least [%s]",
				c.Func.Name, model.Duration(m.Range), model.Duration(interval), assumed, model.Duration(4*interval))
			p.hint = assumed != ""
			ps = append(ps, p)
			return nil
		})
		return ps
	})
}
