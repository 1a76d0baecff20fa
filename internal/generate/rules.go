package generate

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/template"
	"go.yaml.in/yaml/v3"

	"github.com/sre-tools/promgen/conventions"
	grafana "github.com/sre-tools/promgen/internal/dashboard"
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
// to its service.
func ruleGroups(s spec.Spec, g group) rulefmt.RuleGroups {
	rg := rulefmt.RuleGroup{
		Name:     g.name,
		Interval: model.Duration(g.interval),
		Labels:   g.labels(),
	}
	// Records first: rules of a group are evaluated in order, so alerts
	// read this evaluation's values.
	for _, r := range g.records() {
		rg.Rules = append(rg.Rules, rulefmt.Rule{Record: r.Name, Expr: spec.PromQL(r.Expr), Labels: r.Labels})
	}
	for _, a := range g.alerts {
		rg.Rules = append(rg.Rules, rulefmt.Rule{
			Alert:         a.Name,
			Expr:          spec.PromQL(a.Expr),
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

// ruleChecker checks rendered rule files as Prometheus loads them. It
// decodes each file strictly into rulefmt's types and runs rulefmt's own
// Rule.Validate, but parses each distinct label and annotation template
// once per build: a large spec repeats the same few templates in every
// service, and parsing them was most of a rule file's check. When it finds
// a problem, rulefmt.Parse reads the file again to report it as Prometheus
// does, with lines. `promgen build` and `promgen lint` also parse every
// rule file with rulefmt.Parse itself, in lint.
type ruleChecker struct {
	templates sync.Map // template text -> struct{}, parsed without error
}

var promqlParser = parser.NewParser(parser.Options{})

// check reports the problems Prometheus would find in a rule file.
func (rc *ruleChecker) check(path string, content []byte) error {
	var groups rulefmt.RuleGroups
	dec := yaml.NewDecoder(bytes.NewReader(content))
	dec.KnownFields(true)
	if err := dec.Decode(&groups); err == nil && rc.valid(groups) {
		return nil
	}
	_, errs := rulefmt.Parse(content, false, model.UTF8Validation, promqlParser, slog.New(slog.DiscardHandler))
	if len(errs) == 0 {
		// The checks here are rulefmt's; should they ever disagree, the
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

// valid is rulefmt's RuleGroups.Validate with the templates remembered.
func (rc *ruleChecker) valid(groups rulefmt.RuleGroups) bool {
	names := map[string]bool{}
	for _, g := range groups.Groups {
		if g.Name == "" || names[g.Name] {
			return false
		}
		names[g.Name] = true
		for k, v := range g.Labels {
			if !validLabel(k, v) {
				return false
			}
		}
		for _, r := range g.Rules {
			if r.Alert == "" {
				// A recording rule has no templates; Validate checks that
				// it has no annotations either.
				if len(r.Validate(rulefmt.RuleNode{}, model.UTF8Validation, promqlParser)) > 0 {
					return false
				}
				continue
			}
			bare := r
			bare.Labels, bare.Annotations = nil, nil
			if len(bare.Validate(rulefmt.RuleNode{}, model.UTF8Validation, promqlParser)) > 0 {
				return false
			}
			for k, v := range r.Labels {
				if !validLabel(k, v) || !rc.template(r.Alert, v) {
					return false
				}
			}
			for k, v := range r.Annotations {
				if !model.UTF8Validation.IsValidLabelName(k) || !rc.template(r.Alert, v) {
					return false
				}
			}
		}
	}
	return true
}

// validLabel is rulefmt's check of a label of a rule or group.
func validLabel(name, value string) bool {
	return model.UTF8Validation.IsValidLabelName(name) && name != model.MetricNameLabel && model.LabelValue(value).IsValid()
}

// templateDefs and templateData are what rulefmt's testTemplateParsing
// parses a template with.
const templateDefs = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"

var templateData = template.AlertTemplateData(map[string]string{}, map[string]string{}, "", promql.Sample{})

// template parses a label or annotation template as rulefmt does, once per
// text: whether it parses depends on the text alone.
func (rc *ruleChecker) template(alert, text string) bool {
	if _, ok := rc.templates.Load(text); ok {
		return true
	}
	exp := template.NewTemplateExpander(context.Background(), templateDefs+text, "__alert_"+alert, templateData,
		model.Time(timestamp.FromTime(time.Now())), nil, nil, nil)
	if exp.ParseTest() != nil {
		return false
	}
	rc.templates.Store(text, struct{}{})
	return true
}
