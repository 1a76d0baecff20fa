package lint

import "strings"

// requiredAnnotations reports alerts without an annotation the conventions
// require (promgen's: summary, description and runbook_url), which leave the
// on-call with a bare alert name. It runs only where the policy sets
// conventions.
type requiredAnnotations struct{}

func (requiredAnnotations) Name() string { return "required-annotations" }

func (requiredAnnotations) Check(run *Run) []Problem {
	return run.eachRule(func(f *RuleFile, _ *Group, r *Rule) []Problem {
		c := run.policy(f, r).Conventions
		if !r.IsAlert() || c == nil {
			return nil
		}
		var ps []Problem
		for _, name := range c.Annotations {
			if strings.TrimSpace(r.Annotations[name]) == "" {
				ps = append(ps, ruleProblem(f, r, r.Line(), SeverityError, "annotation %q is missing or empty", name))
			}
		}
		return ps
	})
}
