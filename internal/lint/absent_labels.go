package lint

import "github.com/sre-tools/promgen/internal/analysis"

// absentLabels reports alerts on absent() whose templates read labels
// absent() does not return. absent(x{job="a", instance=~".+"}) returns one
// series with only the labels of its equality matchers (job), so a summary
// naming {{ $labels.instance }} renders empty exactly when the alert fires:
// an error when absent() is the whole expression, a warning when it is one
// side of an "or" (the template is empty on that side). A use guarded by
// {{ if $labels.x }} is fine.
type absentLabels struct{}

func (absentLabels) Name() string { return "absent-labels" }

func (absentLabels) Check(run *Run) []Problem {
	return run.eachRule(func(f *RuleFile, _ *Group, r *Rule) []Problem {
		if !r.IsAlert() || r.AST == nil {
			return nil
		}
		whole, ok := analysis.LabelsOf(r.AST, nil)
		if !ok {
			return nil
		}
		var branches []analysis.Labels
		if !whole.Absent {
			for _, b := range analysis.OrBranches(r.AST) {
				if rl, ok := analysis.LabelsOf(b, nil); ok && rl.Absent {
					branches = append(branches, rl)
				}
			}
		}
		return run.eachTemplateRef(r, func(ref labelRef, where string, line func() int) []Problem {
			if ref.guarded {
				return nil
			}
			if whole.Absent {
				if whole.Missing(ref.name) == "" {
					return nil
				}
				return []Problem{ruleProblem(f, r, line(), templateSeverity(where),
					"%s reads $labels.%s, but %s: it renders empty whenever the alert fires", where, ref.name, whole.Why)}
			}
			for _, b := range branches {
				if b.Missing(ref.name) != "" {
					return []Problem{ruleProblem(f, r, line(), SeverityWarning,
						"%s reads $labels.%s, which the \"or absent(...)\" side does not return (%s): it renders empty when that side fires; guard it with {{ if $labels.%s }}", where, ref.name, b.Why, ref.name)}
				}
			}
			return nil
		})
	})
}
