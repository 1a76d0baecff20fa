package lint

import (
	"slices"
	"strings"
)

// severityLabel routes an alert in Alertmanager, and severities are the
// values routes are written for.
const severityLabel = "severity"

var severities = []string{"critical", "warning", "info"}

// requiredLabels reports alerts whose severity label is missing or outside
// the fixed set: Alertmanager routes on it, so such an alert pages nobody or
// the wrong people.
type requiredLabels struct{}

func (requiredLabels) Name() string { return "required-labels" }

func (requiredLabels) Check(files []*RuleFile, _ Config) []Problem {
	return eachRule(files, func(f *RuleFile, g *Group, r *Rule) []Problem {
		if !r.IsAlert() {
			return nil
		}
		v, ok := r.Labels[severityLabel]
		if !ok {
			// A group's labels apply to each of its rules.
			v, ok = g.Labels[severityLabel]
		}
		switch {
		case !ok:
			return []Problem{ruleProblem(f, r, r.Line, SeverityError, "label %q is missing; want one of %s", severityLabel, strings.Join(severities, ", "))}
		case !slices.Contains(severities, v):
			return []Problem{ruleProblem(f, r, r.LabelLine(severityLabel), SeverityError, "label %q is %q; want one of %s", severityLabel, v, strings.Join(severities, ", "))}
		}
		return nil
	})
}
