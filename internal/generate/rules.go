package generate

import (
	"fmt"
	"log/slog"
	"sort"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/spec"
)

// ruleGroups builds a service's rule file from upstream rulefmt types. Every
// alert carries severity and service labels, so Alertmanager routes on them
// and lint can tie the alert back to its service.
func ruleGroups(svc spec.Service) rulefmt.RuleGroups {
	g := rulefmt.RuleGroup{
		Name:     svc.Name,
		Interval: model.Duration(svc.EvaluationInterval),
	}
	for _, a := range svc.Alerts {
		g.Rules = append(g.Rules, rulefmt.Rule{
			Alert:       a.Name,
			Expr:        spec.PromQL(a.Expr),
			For:         model.Duration(a.For),
			Labels:      staticLabels(svc, a),
			Annotations: map[string]string{"summary": a.Summary, "description": a.Description, "runbook_url": a.RunbookURL},
		})
	}
	return rulefmt.RuleGroups{Groups: []rulefmt.RuleGroup{g}}
}

// staticLabels are the labels an alert carries whatever its data.
func staticLabels(svc spec.Service, a spec.Alert) map[string]string {
	l := map[string]string{"severity": string(a.Severity), "service": svc.Name}
	for k, v := range a.Labels {
		l[k] = v
	}
	return l
}

// validateRules parses a rendered rule file back with rulefmt, as Prometheus
// will load it.
func validateRules(path string, content []byte) error {
	_, errs := rulefmt.Parse(content, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	sort.Strings(msgs)
	return fmt.Errorf("%s: rulefmt rejects the generated rules: %v", path, msgs)
}
