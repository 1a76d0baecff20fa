package lint

import (
	"fmt"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// Check is one lint rule. It sees every file of a run at once, so checks
// across files (duplicates, recorded metric names) need nothing more.
type Check interface {
	// Name is the check's kebab-case name, printed with each problem.
	Name() string
	// Check returns the problems found; Lint fills in their Check field.
	Check(files []*RuleFile, cfg Config) []Problem
}

// checks is every check Lint runs, in one place so that adding a check is a
// new file and one line here.
var checks = []Check{
	promqlSyntax{},
	requiredLabels{},
	requiredAnnotations{},
	alertName{},
	counterFunctions{},
	volatileLabels{},
	duplicateRules{},
	unknownMetric{},
	memoryLimit{},
	joinFallback{},
}

// eachRule runs fn on every rule of every file and gathers its problems.
func eachRule(files []*RuleFile, fn func(f *RuleFile, g *Group, r *Rule) []Problem) []Problem {
	var ps []Problem
	for _, f := range files {
		for gi := range f.Groups {
			g := &f.Groups[gi]
			for ri := range g.Rules {
				ps = append(ps, fn(f, g, &g.Rules[ri])...)
			}
		}
	}
	return ps
}

// ruleProblem is a problem of one rule; the message starts with the rule's
// name so it reads on its own.
func ruleProblem(f *RuleFile, r *Rule, line int, sev Severity, format string, args ...any) Problem {
	return Problem{Path: f.Path, Line: line, Severity: sev, Message: r.String() + ": " + fmt.Sprintf(format, args...)}
}

// metricName returns the metric a selector reads, whether written as a name
// or as a __name__ matcher; "" when it matches names by regexp.
func metricName(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

// selectors returns every vector selector of an expression in source order.
func selectors(e parser.Expr) []*parser.VectorSelector {
	var out []*parser.VectorSelector
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			out = append(out, vs)
		}
		return nil
	})
	return out
}

// unparen strips the parentheses around an expression, which do not change
// what it means.
func unparen(e parser.Expr) parser.Expr {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

// sameExpr reports whether two expressions are the same query, however they
// are spaced or parenthesised.
func sameExpr(a, b parser.Expr) bool {
	return unparen(a).String() == unparen(b).String()
}
