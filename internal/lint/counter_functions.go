package lint

import (
	"github.com/sre-tools/promgen/internal/analysis"

	"github.com/prometheus/prometheus/promql/parser"
)

// counterFuncs are the functions that read a counter correctly: they turn
// its ever-growing value into a change and survive its resets.
var counterFuncs = map[string]bool{"rate": true, "irate": true, "increase": true, "resets": true}

// gaugeFuncs read the change of a gauge; on a counter every reset reads as
// a huge drop.
var gaugeFuncs = map[string]bool{"delta": true, "idelta": true, "deriv": true, "predict_linear": true}

// valueBlindFuncs look at whether series exist or when, not at their value,
// so a raw counter is fine under them.
var valueBlindFuncs = map[string]bool{
	"absent": true, "absent_over_time": true, "present_over_time": true, "count_over_time": true, "timestamp": true,
	"changes": true,
}

// counterFunctions reports counters and gauges read the wrong way: rate()
// and friends on a gauge (a wrong number: every drop reads as a reset) as
// errors; delta() and deriv() on a counter, and a counter read raw
// (compared, subtracted from its own offset, divided by another counter),
// whose value only grows and drops to zero on restart, as warnings. Types
// come from the catalog, Prometheus' own series and metric metadata; a type
// guessed from a _total suffix only gives info hints, since exporters name
// gauges *_total too (ceph_pg_total).
type counterFunctions struct{}

func (counterFunctions) Name() string { return "counter-functions" }

func (counterFunctions) Check(run *Run) []Problem {
	return run.eachRule(func(f *RuleFile, _ *Group, r *Rule) []Problem {
		if r.AST == nil {
			return nil
		}
		var ps []Problem
		parser.Inspect(r.AST, func(n parser.Node, path []parser.Node) error {
			vs, ok := n.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			name := analysis.MetricName(vs)
			mt := run.types.of(name)
			if mt.Type == "" {
				return nil
			}
			report := func(sev Severity, format string, args ...any) {
				p := ruleProblem(f, r, r.ExprLine(vs.PositionRange().Start), sev, format, args...)
				if mt.Guessed {
					p.Severity, p.hint = SeverityInfo, true
					p.Message += " (type guessed from the _total suffix; give --metadata or --prometheus to know)"
				}
				ps = append(ps, p)
			}
			consumer, child := valueConsumer(vs, path)
			switch c := consumer.(type) {
			case *parser.Call:
				switch {
				case counterFuncs[c.Func.Name]:
					if mt.Type == "gauge" && !mt.Guessed {
						report(SeverityError, "%s() on %q, which is a gauge: %s only makes sense on counters; use delta() or deriv() for a gauge's change", c.Func.Name, name, c.Func.Name)
					}
					return nil
				case gaugeFuncs[c.Func.Name]:
					if mt.Type == "counter" {
						report(SeverityWarning, "%s() on %q, which is a counter: a restart reads as a huge drop; use rate() or increase()", c.Func.Name, name)
					}
					return nil
				case valueBlindFuncs[c.Func.Name]:
					return nil
				}
			case *parser.AggregateExpr:
				if c.Op == parser.COUNT || c.Op == parser.GROUP || c.Op == parser.COUNT_VALUES || underRateSubquery(path) {
					return nil // rate-aggregation reports rate(sum(x)[5m:])
				}
			case *parser.BinaryExpr:
				if c.RHS == child && (c.Op == parser.LAND || c.Op == parser.LUNLESS) {
					return nil
				}
				if mt.Type == "counter" && c.Op == parser.SUB && isOffsetOf(c, vs) {
					report(SeverityWarning, "%q minus itself offset: a restart in between reads as a huge drop; use increase(%s[...])", name, name)
					return nil
				}
			case nil:
				if !r.IsAlert() {
					return nil // a recording rule may copy a counter as it is
				}
			}
			if mt.Type == "counter" && !countedOnly(path) {
				report(SeverityWarning, "counter %q is read without rate(), irate() or increase(): its raw value only grows and drops to zero when the process restarts", name)
			}
			return nil
		})
		return ps
	})
}

// isOffsetOf reports whether a subtraction takes the same selector from
// itself at another time (x - x offset 1h).
func isOffsetOf(b *parser.BinaryExpr, vs *parser.VectorSelector) bool {
	l, lok := analysis.Unparen(b.LHS).(*parser.VectorSelector)
	r, rok := analysis.Unparen(b.RHS).(*parser.VectorSelector)
	if !lok || !rok || analysis.MetricName(l) != analysis.MetricName(r) {
		return false
	}
	return (l == vs || r == vs) && l.OriginalOffset != r.OriginalOffset
}

// valueConsumer walks up from a node to the first ancestor that uses its
// value, skipping those that pass the value through unchanged. It returns
// that ancestor (nil at the top of the expression) and its child on the way.
func valueConsumer(n parser.Node, path []parser.Node) (consumer, child parser.Node) {
	child = n
	for i := len(path) - 1; i >= 0; i-- {
		switch p := path[i].(type) {
		case *parser.ParenExpr, *parser.MatrixSelector, *parser.SubqueryExpr, *parser.StepInvariantExpr:
		case *parser.Call:
			if p.Func.Name != "label_replace" && p.Func.Name != "label_join" {
				return p, child
			}
		case *parser.BinaryExpr:
			// or passes both sides through, and and unless their left side.
			if p.Op != parser.LOR && !(p.LHS == child && (p.Op == parser.LAND || p.Op == parser.LUNLESS)) {
				return p, child
			}
		default:
			return p, child
		}
		child = path[i]
	}
	return nil, child
}

// underRateSubquery reports whether a path runs through a subquery that a
// counter function reads, as in rate(sum(x)[5m:]).
func underRateSubquery(path []parser.Node) bool {
	for i := len(path) - 1; i > 0; i-- {
		if _, ok := path[i].(*parser.SubqueryExpr); ok {
			if c, ok := path[i-1].(*parser.Call); ok && counterFuncs[c.Func.Name] {
				return true
			}
		}
	}
	return false
}

// countedOnly reports whether a selector's values only feed a count() or
// group() above it, through aggregations and arithmetic that keep series
// apart (count(sum by (cpu) (node_cpu_seconds_total))): what is counted is
// series, not values. A comparison or function on the way reads values.
func countedOnly(path []parser.Node) bool {
	for i := len(path) - 1; i >= 0; i-- {
		switch p := path[i].(type) {
		case *parser.ParenExpr, *parser.StepInvariantExpr:
		case *parser.AggregateExpr:
			if p.Op == parser.COUNT || p.Op == parser.GROUP {
				return true
			}
		case *parser.BinaryExpr:
			if p.Op.IsComparisonOperator() {
				return false
			}
		default:
			return false
		}
	}
	return false
}
