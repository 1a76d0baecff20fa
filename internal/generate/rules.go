package generate

import (
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"

	"github.com/sre-tools/promgen/conventions"
	grafana "github.com/sre-tools/promgen/internal/dashboard"
	"github.com/sre-tools/promgen/internal/rulecheck"
	"github.com/sre-tools/promgen/spec"
)

// group is one rule group of a spec: a service's alerts, or the spec-wide
// pipeline alerts (svc nil). Each becomes one rule file and one test file.
type group struct {
	name     string
	interval time.Duration
	svc      *spec.Service
	alerts   []spec.Alert
}

// groups lists the rule groups of a spec: one per service, then the
// pipeline's when it has alerts.
func groups(s spec.Spec) []group {
	out := make([]group, 0, len(s.Services)+1)
	for i := range s.Services {
		svc := &s.Services[i]
		out = append(out, group{name: svc.Name, interval: svc.EvaluationInterval, svc: svc, alerts: svc.Alerts})
	}
	if len(s.Pipeline) > 0 {
		out = append(out, group{name: spec.PipelineGroup, alerts: s.Pipeline})
	}
	return out
}

// records are the group's recording rules: a service's, none for the
// pipeline.
func (g group) records() []spec.Record {
	if g.svc == nil {
		return nil
	}
	return g.svc.Records
}

// labels are the group's own labels, which Prometheus 3 adds to every rule
// of the group: the service label, written once instead of on every rule.
func (g group) labels() map[string]string {
	if g.svc == nil {
		return nil
	}
	return map[string]string{conventions.LabelService: g.svc.Name}
}

// ruleGroups builds a group's rule file from upstream rulefmt types. Every
// alert carries a severity label, and every service alert a service label,
// so Alertmanager routes and inhibits on them and lint ties the alert back
// to its service. pr prints the expressions, as validation did.
func ruleGroups(s spec.Spec, g group, pr *spec.Printer) rulefmt.RuleGroups {
	rg := rulefmt.RuleGroup{
		Name:     g.name,
		Interval: model.Duration(g.interval),
		Labels:   g.labels(),
	}
	// Records first: rules of a group are evaluated in order, so alerts
	// read this evaluation's values.
	for _, r := range g.records() {
		rg.Rules = append(rg.Rules, rulefmt.Rule{Record: r.Name, Expr: pr.PromQL(r.Expr), Labels: r.Labels})
	}
	for _, a := range g.alerts {
		rg.Rules = append(rg.Rules, rulefmt.Rule{
			Alert:         a.Name,
			Expr:          pr.PromQL(a.Expr),
			For:           model.Duration(a.For),
			KeepFiringFor: model.Duration(a.KeepFiringFor),
			Labels:        staticLabels(a),
			Annotations:   annotations(s, g, a, a.Summary, a.Description),
		})
	}
	return rulefmt.RuleGroups{Groups: []rulefmt.RuleGroup{rg}}
}

// annotations are an alert's annotations: the templates in a rule, their
// rendering in a test's expectation.
func annotations(s spec.Spec, g group, a spec.Alert, summary, description string) map[string]string {
	out := map[string]string{
		conventions.AnnotationSummary:     summary,
		conventions.AnnotationDescription: description,
		conventions.AnnotationRunbookURL:  s.Runbook(g.svc, a),
	}
	if g.svc != nil {
		if u := grafana.URL(s, *g.svc, a); u != "" {
			out[conventions.AnnotationDashboardURL] = u
		}
	}
	return out
}

// staticLabels are the labels a rule sets whatever its data.
func staticLabels(a spec.Alert) map[string]string {
	l := map[string]string{conventions.LabelSeverity: string(a.Severity)}
	maps.Copy(l, a.Labels)
	return l
}

// checkRules reports the problems Prometheus would find in a rendered rule
// file, content, the encoding of groups: rc answers for valid groups, and
// rulefmt.Parse says what is wrong with any other, with lines. Lint, in
// `promgen build`, reads the groups rc kept instead of decoding the file.
func checkRules(rc *rulecheck.Checker, path string, groups rulefmt.RuleGroups, content []byte) error {
	if rc.ValidEncoding(&groups, content) {
		return nil
	}
	_, errs := rulefmt.Parse(content, false, model.UTF8Validation, rulecheck.Parser, slog.New(slog.DiscardHandler))
	if len(errs) == 0 {
		// The checks are rulefmt's; should they ever disagree, the
		// stricter one wins.
		return fmt.Errorf("%s: rulefmt accepts the generated rules, but promgen's check of them does not", path)
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	sort.Strings(msgs)
	return fmt.Errorf("%s: rulefmt rejects the generated rules: %v", path, msgs)
}
