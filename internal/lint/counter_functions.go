package lint

import (
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
	"github.com/sre-tools/promgen/catalog"
)

// counterFuncs are the functions that read a counter correctly: they turn
// its ever-growing value into a change and survive its resets.
var counterFuncs = map[string]bool{"rate": true, "irate": true, "increase": true, "resets": true}

// valueBlindFuncs look at whether series exist or when, not at their value,
// so a raw counter is fine under them.
var valueBlindFuncs = map[string]bool{
	"absent": true, "absent_over_time": true, "present_over_time": true, "count_over_time": true, "timestamp": true,
}

// counterFunctions reports rate and friends on gauges (a wrong number:
// every drop reads as a reset) as errors, and counters read raw (their value
// only grows and drops to zero on restart) as warnings.
type counterFunctions struct{}

func (counterFunctions) Name() string { return "counter-functions" }

func (counterFunctions) Check(files []*RuleFile, _ Config) []Problem {
	return eachRule(files, func(f *RuleFile, _ *Group, r *Rule) []Problem {
		if r.AST == nil {
			return nil
		}
		var ps []Problem
		parser.Inspect(r.AST, func(n parser.Node, path []parser.Node) error {
			vs, ok := n.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			name := metricName(vs)
			typ := metricType(name)
			if typ == "" {
				return nil
			}
			line := r.ExprLine(vs.PositionRange().Start)
			consumer, child := valueConsumer(vs, path)
			switch c := consumer.(type) {
			case *parser.Call:
				if counterFuncs[c.Func.Name] {
					if typ == catalog.Gauge {
						ps = append(ps, ruleProblem(f, r, line, SeverityError, "%s() on %q, which is a gauge: %s only makes sense on counters", c.Func.Name, name, c.Func.Name))
					}
					return nil
				}
				if valueBlindFuncs[c.Func.Name] {
					return nil
				}
			case *parser.AggregateExpr:
				if c.Op == parser.COUNT || c.Op == parser.GROUP {
					return nil
				}
			case *parser.BinaryExpr:
				if c.RHS == child && (c.Op == parser.LAND || c.Op == parser.LUNLESS) {
					return nil
				}
			case nil:
				if !r.IsAlert() {
					return nil // a recording rule may copy a counter as it is
				}
			}
			if typ == catalog.Counter {
				ps = append(ps, ruleProblem(f, r, line, SeverityWarning, "counter %q is read without rate(), irate() or increase(): its raw value only grows and drops to zero when the process restarts", name))
			}
			return nil
		})
		return ps
	})
}

// metricType returns the type of a metric from the catalog, or counter for
// any other name ending in _total as the naming convention has it; "" when
// the type is unknown.
func metricType(name string) catalog.Type {
	if m, ok := catalog.Lookup(name); ok {
		return m.Type
	}
	if strings.HasSuffix(name, "_total") {
		return catalog.Counter
	}
	return ""
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
