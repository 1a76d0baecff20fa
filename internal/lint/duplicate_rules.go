package lint

import (
	"github.com/sre-tools/promgen/internal/analysis"

	"fmt"
	"maps"
	"slices"
	"strings"
)

// duplicateRules reports rules that Prometheus would keep apart by nothing:
// a rule's identity is its name plus its static labels (its own and its
// group's), as in the series it writes (the recorded metric, or ALERTS).
//
//   - A recording rule whose identity another recording rule of the run
//     also has writes the same series twice: promtool reports it, and
//     Prometheus drops one of the two samples (an error when the expressions
//     are the same, a warning when they differ and may select disjoint
//     series).
//   - An alert with the identity and expression of another is an error:
//     every notification arrives twice, and their ALERTS series collide.
//     With another expression it is fine (ServiceDown for two jobs).
//
// Alerts that share a name and differ in a label (the warning and critical
// pair of one alert, the windows of a burn-rate alert) are distinct, and a
// group name may recur in another file: Prometheus keys groups by file and
// name. A group name repeated within one file is a parse error already.
type duplicateRules struct{}

func (duplicateRules) Name() string { return "duplicate-rules" }

func (duplicateRules) Check(run *Run) []Problem {
	type where struct {
		f *RuleFile
		r *Rule
	}
	// seen holds, for an identity, its first rule and the first rule of
	// each expression: one lookup per rule, where comparing every rule
	// with each before it of its identity took 16,000 alerts 23.7 s.
	type seen struct {
		first  where
		byExpr map[string]where
	}
	var (
		ps  []Problem
		ids = map[string]*seen{}
	)
	for _, f := range run.Files {
		for gi := range f.Groups {
			for ri := range f.Groups[gi].Rules {
				r := &f.Groups[gi].Rules[ri]
				key, expr := identity(r), normalExpr(r)
				s := ids[key]
				if s == nil {
					ids[key] = &seen{first: where{f, r}, byExpr: map[string]where{expr: {f, r}}}
					continue
				}
				at, same := s.byExpr[expr]
				if !same {
					s.byExpr[expr] = where{f, r}
					at = s.first
					if r.IsAlert() {
						// Their series differ by the labels their
						// expressions return, which Prometheus and
						// Alertmanager tell apart.
						continue
					}
				}
				loc := fmt.Sprintf("%s:%d", at.f.Path, at.r.Line())
				switch {
				case same && r.IsAlert():
					ps = append(ps, ruleProblem(f, r, r.Line(), SeverityError, "the same alert, labels and expression are already defined at %s", loc))
				case same:
					ps = append(ps, ruleProblem(f, r, r.Line(), SeverityError, "records the same series with the same expression as %s: %s", loc, key[2:]))
				default:
					ps = append(ps, ruleProblem(f, r, r.Line(), SeverityWarning, "records the same series as %s (%s): where both expressions return a series, one sample is dropped; give each a label that says how they differ", loc, key[2:]))
				}
			}
		}
	}
	return ps
}

// identity is a rule's kind, name and static labels, as Prometheus tells
// the series of rules apart.
func identity(r *Rule) string {
	kind := "r"
	if r.IsAlert() {
		kind = "a"
	}
	ls := r.staticLabels()
	var b strings.Builder
	b.WriteString(kind + ":" + r.Name() + "{")
	for i, k := range slices.Sorted(maps.Keys(ls)) {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%q", k, ls[k])
	}
	b.WriteString("}")
	return b.String()
}

// normalExpr is the expression however it is spaced or parenthesised.
func normalExpr(r *Rule) string {
	if r.AST != nil {
		return analysis.Unparen(r.AST).String()
	}
	return r.Expr
}
