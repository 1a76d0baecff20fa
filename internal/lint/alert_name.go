package lint

import "regexp"

var camelCase = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)

// alertName reports alert names that are not CamelCase. It is an error, not
// a warning: silences, inhibitions, routes and dashboards key on alertname,
// so a name is cheap to fix before it ships and costly after.
type alertName struct{}

func (alertName) Name() string { return "alert-name" }

func (alertName) Check(files []*RuleFile, _ Config) []Problem {
	return eachRule(files, func(f *RuleFile, _ *Group, r *Rule) []Problem {
		if !r.IsAlert() || camelCase.MatchString(r.Alert) {
			return nil
		}
		return []Problem{ruleProblem(f, r, r.Line, SeverityError, "name is not CamelCase (like ServiceDown): start with an upper-case letter, use only letters and digits")}
	})
}
