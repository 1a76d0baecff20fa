package generate

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
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
	// read this evaluation's values. A record with an interval of its own
	// goes to the group of that interval, after the service's.
	every := map[time.Duration]*rulefmt.RuleGroup{}
	var slow []time.Duration
	for _, r := range g.records() {
		rule := rulefmt.Rule{Record: r.Name, Expr: pr.PromQL(r.Expr), Labels: r.Labels}
		if r.Interval == 0 {
			rg.Rules = append(rg.Rules, rule)
			continue
		}
		if every[r.Interval] == nil {
			every[r.Interval] = &rulefmt.RuleGroup{Name: conventions.GroupEvery(g.name, r.Interval), Interval: model.Duration(r.Interval), Labels: g.labels()}
			slow = append(slow, r.Interval)
		}
		every[r.Interval].Rules = append(every[r.Interval].Rules, rule)
	}
	for _, a := range g.alerts {
		rg.Rules = append(rg.Rules, rulefmt.Rule{
			Alert:         a.Name,
			Expr:          pr.PromQL(a.Expr),
			For:           model.Duration(a.For),
			KeepFiringFor: model.Duration(a.KeepFiringFor),
			Labels:        staticLabels(a),
			Annotations:   annotations(s, g, a, a.Summary, a.Description, a.Annotations),
		})
	}
	out := rulefmt.RuleGroups{Groups: []rulefmt.RuleGroup{rg}}
	slices.Sort(slow)
	for _, d := range slow {
		out.Groups = append(out.Groups, *every[d])
	}
	return out
}

// annotations are an alert's annotations: the templates in a rule, their
// rendering in a test's expectation.
func annotations(s spec.Spec, g group, a spec.Alert, summary, description string, more map[string]string) map[string]string {
	out := maps.Clone(more)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, map[string]string{
		conventions.AnnotationSummary:     summary,
		conventions.AnnotationDescription: description,
		conventions.AnnotationRunbookURL:  s.Runbook(g.svc, a),
	})
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

// checkRules reads a rendered rule file, content, back as Prometheus loads
// it, with rulefmt.Parse, and holds what it reads to groups, the values it
// was encoded from: a rule file Prometheus refuses, or reads as other
// rules, is an error naming the file, and rulefmt's problems name the
// group, the rule and the line. Lint, in `promgen build`, reads the groups
// rc keeps instead of decoding the file again.
func checkRules(rc *rulecheck.Checker, path string, groups rulefmt.RuleGroups, content []byte) error {
	return readBack(path, groups, content, func(b []byte) (rulefmt.RuleGroups, error) {
		got, errs := rulefmt.Parse(b, false, model.UTF8Validation, rc.Parser(), slog.New(slog.DiscardHandler))
		if len(errs) > 0 {
			msgs := make([]string, len(errs))
			for i, e := range errs {
				msgs[i] = e.Error()
			}
			sort.Strings(msgs)
			return rulefmt.RuleGroups{}, fmt.Errorf("rulefmt rejects the generated rules: %v", msgs)
		}
		rc.Accept(b, got)
		return *got, nil
	})
}
