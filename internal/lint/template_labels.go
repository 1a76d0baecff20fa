package lint

import (
	"github.com/sre-tools/promgen/internal/analysis"

	"maps"
	"slices"

	"github.com/prometheus/prometheus/promql/parser"
)

// templateLabels reports alert templates (annotations and labels) that read
// a series label the expression certainly removed, by aggregating it away
// (sum by (job) drops instance), matching on() other labels, or
// histogram_quantile() dropping le: the text renders empty on every
// notification, just where the on-call looks for the culprit. A label the
// rule sets itself is no help: $labels holds the series' labels only. Labels
// absent() removes are absent-labels' to report.
type templateLabels struct{}

func (templateLabels) Name() string { return "template-labels" }

func (templateLabels) Check(run *Run) []Problem {
	return run.eachRule(func(f *RuleFile, _ *Group, r *Rule) []Problem {
		if !r.IsAlert() || r.AST == nil {
			return nil
		}
		rl, ok := analysis.LabelsOf(r.AST, nil)
		if !ok || rl.Absent || hasAbsentBranch(r.AST) {
			return nil
		}
		return run.eachTemplateRef(r, func(ref labelRef, where string, line func() int) []Problem {
			why := rl.Missing(ref.name)
			if why == "" || ref.guarded {
				return nil
			}
			msg := "%s reads $labels.%s, but the expression's %s removes that label: it renders empty"
			if _, static := r.staticLabels()[ref.name]; static && templateSeverity(where) == SeverityWarning {
				msg += " ($labels holds the series' labels, not the rule's own)"
			}
			return []Problem{ruleProblem(f, r, line(), templateSeverity(where), msg, where, ref.name, why)}
		})
	})
}

// eachTemplateRef calls fn on each label use of each annotation and label
// template of an alert, sorted by name. line finds the template's line,
// for a problem: a file's lines are located only when one is needed.
func (run *Run) eachTemplateRef(r *Rule, fn func(ref labelRef, where string, line func() int) []Problem) []Problem {
	var ps []Problem
	for _, name := range slices.Sorted(maps.Keys(r.Annotations)) {
		for _, ref := range run.templateLabelRefs(r.Annotations[name]) {
			ps = append(ps, fn(ref, "annotation "+quote(name), func() int { return r.AnnotationLine(name) })...)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(r.Labels)) {
		for _, ref := range run.templateLabelRefs(r.Labels[name]) {
			ps = append(ps, fn(ref, "label "+quote(name), func() int { return r.LabelLine(name) })...)
		}
	}
	return ps
}

// templateSeverity is an error for a label template (an empty label
// changes how the alert routes and groups) and a warning for an annotation
// (the notification still arrives, without the detail).
func templateSeverity(where string) Severity {
	if len(where) > 5 && where[:5] == "label" {
		return SeverityError
	}
	return SeverityWarning
}

// templateLabelRefs is templateLabelRefs, once per text in a run: two
// checks read every template, and a large spec repeats its templates.
func (run *Run) templateLabelRefs(text string) []labelRef {
	run.mu.Lock()
	refs, ok := run.templateRefs[text]
	run.mu.Unlock()
	if !ok {
		refs = templateLabelRefs(text)
		run.mu.Lock()
		if run.templateRefs == nil {
			run.templateRefs = map[string][]labelRef{}
		}
		run.templateRefs[text] = refs
		run.mu.Unlock()
	}
	return refs
}

func quote(s string) string { return `"` + s + `"` }

// hasAbsentBranch reports whether one side of an "or" is absent(), whose
// labels absent-labels reports on.
func hasAbsentBranch(e parser.Expr) bool {
	for _, b := range analysis.OrBranches(e) {
		if rl, ok := analysis.LabelsOf(b, nil); ok && rl.Absent {
			return true
		}
	}
	return false
}
