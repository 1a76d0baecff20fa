package lint

import (
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/internal/analysis"
)

// alertCondition reports alert expressions without a condition: every
// series the expression returns is an alert, so it fires for every target
// all the time (expr: up, expr: rate(errors_total[5m])), or its comparison
// carries bool, which turns a filter into 0 or 1 for every series, or its
// only comparison is always true (rate(x[5m]) >= 0). A heartbeat written as
// vector(1) (Watchdog) is deliberate and passes. A bare selector is a
// warning, not an error: some exporters publish a series only while
// something is wrong.
type alertCondition struct{}

func (alertCondition) Name() string { return "alert-condition" }

func (alertCondition) Check(run *Run) []Problem {
	return run.eachRule(func(f *RuleFile, _ *Group, r *Rule) []Problem {
		if !r.IsAlert() || r.AST == nil || isHeartbeat(r.AST) {
			return nil
		}
		if run.hasCondition(r.AST, 0) {
			return nil
		}
		line := r.ExprLine(0)
		if b := topBool(r.AST); b != nil {
			return []Problem{ruleProblem(f, r, r.ExprLine(b.PositionRange().Start), SeverityError,
				"the comparison has bool, which returns 0 or 1 for every series instead of filtering: the alert fires for every series all the time; drop bool")}
		}
		if _, bare := analysis.Unparen(r.AST).(*parser.VectorSelector); bare {
			return []Problem{ruleProblem(f, r, line, SeverityWarning,
				"the expression has no condition: every series it returns fires; compare it with a threshold unless the series exists only while something is wrong")}
		}
		return []Problem{ruleProblem(f, r, line, SeverityError,
			"the expression has no condition that can be false: every series it returns fires, all the time; compare it with a threshold (for a heartbeat such as Watchdog, write vector(1))")}
	})
}

// isHeartbeat reports whether an alert is meant to fire always: vector(1)
// or a number.
func isHeartbeat(e parser.Expr) bool {
	switch e := analysis.Unparen(e).(type) {
	case *parser.NumberLiteral:
		return true
	case *parser.Call:
		if e.Func.Name == "vector" {
			_, ok := analysis.Unparen(e.Args[0]).(*parser.NumberLiteral)
			return ok
		}
	}
	return false
}

// topBool returns a bool comparison that decides an expression's result.
func topBool(e parser.Expr) *parser.BinaryExpr {
	var found *parser.BinaryExpr
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if b, ok := n.(*parser.BinaryExpr); ok && found == nil && b.ReturnBool {
			found = b
		}
		return nil
	})
	return found
}

// hasCondition reports whether an expression can return fewer series than
// it reads: a comparison that filters and is not always true, and or
// unless, absent(), alerts on ALERTS, or a recorded series whose rule has a
// condition.
func (run *Run) hasCondition(e parser.Expr, depth int) bool {
	switch e := e.(type) {
	case *parser.ParenExpr:
		return run.hasCondition(e.Expr, depth)
	case *parser.StepInvariantExpr:
		return run.hasCondition(e.Expr, depth)
	case *parser.SubqueryExpr:
		return run.hasCondition(e.Expr, depth)
	case *parser.UnaryExpr:
		return run.hasCondition(e.Expr, depth)
	case *parser.MatrixSelector:
		return run.hasCondition(e.VectorSelector, depth)
	case *parser.VectorSelector:
		name := analysis.MetricName(e)
		if name == catalog.Alerts || name == catalog.AlertsForState {
			return true
		}
		if depth < 5 {
			for _, rec := range run.recorded[name] {
				if rec.AST != nil && run.hasCondition(rec.AST, depth+1) {
					return true
				}
			}
		}
		return false
	case *parser.Call:
		switch e.Func.Name {
		case "absent", "absent_over_time":
			return true
		}
		for _, a := range e.Args {
			if run.hasCondition(a, depth) {
				return true
			}
		}
		return false
	case *parser.AggregateExpr:
		return run.hasCondition(e.Expr, depth)
	case *parser.BinaryExpr:
		switch {
		case e.Op == parser.LAND || e.Op == parser.LUNLESS:
			return true
		case e.Op == parser.LOR:
			return run.hasCondition(e.LHS, depth) && run.hasCondition(e.RHS, depth)
		case e.Op.IsComparisonOperator() && !e.ReturnBool:
			if side, op, c, ok := analysis.ConstComparison(e); ok {
				if v := run.rangeOf(side); v.Known() && analysis.AlwaysTrue(v, op, c) {
					return run.hasCondition(side, depth)
				}
				return true
			}
			// Two vectors compared filter; a scalar expression compared
			// with a vector does too.
			return true
		}
		return run.hasCondition(e.LHS, depth) || run.hasCondition(e.RHS, depth)
	}
	return false
}
