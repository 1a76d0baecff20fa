package lint

import (
	"errors"

	"github.com/prometheus/prometheus/promql/parser"
)

// promqlSyntax reports expressions that do not parse: Prometheus refuses to
// load the whole file, so none of its alerts run.
type promqlSyntax struct{}

func (promqlSyntax) Name() string { return "promql-syntax" }

func (promqlSyntax) Check(run *Run) []Problem {
	return run.eachRule(func(f *RuleFile, _ *Group, r *Rule) []Problem {
		if r.ExprErr == nil {
			return nil
		}
		line := r.ExprLine(0)
		var perrs parser.ParseErrors
		if errors.As(r.ExprErr, &perrs) && len(perrs) > 0 {
			line = r.ExprLine(perrs[0].PositionRange.Start)
		}
		return []Problem{ruleProblem(f, r, line, SeverityError, "expression does not parse: %v", r.ExprErr)}
	})
}
