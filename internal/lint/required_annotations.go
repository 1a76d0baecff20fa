package lint

import "strings"

// requiredAnnotationNames are what the on-call reads first: what is wrong,
// the detail, and where the runbook is.
var requiredAnnotationNames = []string{"summary", "description", "runbook_url"}

// requiredAnnotations reports alerts without a summary, description or
// runbook_url, which leave the on-call with a bare alert name.
type requiredAnnotations struct{}

func (requiredAnnotations) Name() string { return "required-annotations" }

func (requiredAnnotations) Check(files []*RuleFile, _ Config) []Problem {
	return eachRule(files, func(f *RuleFile, _ *Group, r *Rule) []Problem {
		if !r.IsAlert() {
			return nil
		}
		var ps []Problem
		for _, name := range requiredAnnotationNames {
			if strings.TrimSpace(r.Annotations[name]) == "" {
				ps = append(ps, ruleProblem(f, r, r.Line, SeverityError, "annotation %q is missing or empty", name))
			}
		}
		return ps
	})
}
