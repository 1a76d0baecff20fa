package lint

// alertName reports alert names that do not match the conventions' pattern
// (promgen's: CamelCase). It is an error by default, not a warning:
// silences, inhibitions, routes and dashboards key on alertname, so a name is
// cheap to fix before it ships and costly after. It runs only where the
// policy sets conventions.
type alertName struct{}

func (alertName) Name() string { return "alert-name" }

func (alertName) Check(run *Run) []Problem {
	return run.eachRule(func(f *RuleFile, _ *Group, r *Rule) []Problem {
		c := run.policy(f, r).Conventions
		if !r.IsAlert() || c == nil || c.AlertName == nil || c.AlertName.MatchString(r.Alert) {
			return nil
		}
		doc := ""
		if c.AlertNameDoc != "" {
			doc = " (" + c.AlertNameDoc + ")"
		}
		return []Problem{ruleProblem(f, r, r.Line(), SeverityError, "name does not match the alert name pattern %s%s", c.AlertName, doc)}
	})
}
