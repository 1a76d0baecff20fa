package lint

import "fmt"

// duplicateRules reports what Prometheus would evaluate twice or keep apart
// by accident: an alert name twice in one group, the same alert or recording
// rule (name and expression) anywhere in the run, and one group name in two
// files. A group name repeated within one file is a parse error already.
type duplicateRules struct{}

func (duplicateRules) Name() string { return "duplicate-rules" }

func (duplicateRules) Check(files []*RuleFile, _ Config) []Problem {
	type where struct {
		path string
		line int
	}
	var (
		ps     []Problem
		groups = map[string]where{}
		rules  = map[[3]string]where{} // alert, record, expression
	)
	for _, f := range files {
		for gi := range f.Groups {
			g := &f.Groups[gi]
			if w, ok := groups[g.Name]; !ok {
				groups[g.Name] = where{f.Path, g.Line}
			} else if w.path != f.Path {
				ps = append(ps, Problem{Path: f.Path, Line: g.Line, Severity: SeverityError,
					Message: fmt.Sprintf("group %q is also defined at %s:%d", g.Name, w.path, w.line)})
			}
			alerts := map[string]int{}
			for ri := range g.Rules {
				r := &g.Rules[ri]
				if r.IsAlert() {
					if line, ok := alerts[r.Alert]; ok {
						ps = append(ps, ruleProblem(f, r, r.Line, SeverityError, "defined twice in group %q, first at line %d", g.Name, line))
						continue
					}
					alerts[r.Alert] = r.Line
				}
				expr := r.Expr
				if r.AST != nil {
					expr = unparen(r.AST).String()
				}
				key := [3]string{r.Alert, r.Record, expr}
				if w, ok := rules[key]; ok {
					ps = append(ps, ruleProblem(f, r, r.Line, SeverityError, "the same rule with the same expression is already defined at %s:%d", w.path, w.line))
					continue
				}
				rules[key] = where{f.Path, r.Line}
			}
		}
	}
	return ps
}
