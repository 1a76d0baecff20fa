package lint

import (
	"maps"
	"slices"
	"strings"
)

// requiredLabels reports alerts without a label the conventions require, or
// with a value outside its set (promgen's: severity critical, warning or
// info): Alertmanager routes on them, so such an alert pages nobody or the
// wrong people. It runs only where the policy sets conventions.
type requiredLabels struct{}

func (requiredLabels) Name() string { return "required-labels" }

func (requiredLabels) Check(run *Run) []Problem {
	return run.eachRule(func(f *RuleFile, g *Group, r *Rule) []Problem {
		c := run.policy(f, r).Conventions
		if !r.IsAlert() || c == nil {
			return nil
		}
		var ps []Problem
		for _, name := range slices.Sorted(maps.Keys(c.Labels)) {
			allowed := c.Labels[name]
			v, ok := r.Labels[name]
			if !ok {
				// A group's labels apply to each of its rules.
				v, ok = g.Labels[name]
			}
			want := ""
			if len(allowed) > 0 {
				want = "; want one of " + strings.Join(allowed, ", ")
			}
			switch {
			case !ok || v == "":
				ps = append(ps, ruleProblem(f, r, r.Line(), SeverityError, "label %q is missing%s", name, want))
			case len(allowed) > 0 && !slices.Contains(allowed, v):
				ps = append(ps, ruleProblem(f, r, r.LabelLine(name), SeverityError, "label %q is %q%s", name, v, want))
			}
		}
		return ps
	})
}
