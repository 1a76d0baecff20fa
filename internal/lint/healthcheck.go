package lint

import (
	"github.com/sre-tools/promgen/internal/analysis"

	"github.com/sre-tools/promgen/catalog"
)

// healthcheck reports alerts on the health status of a service whose
// container has no healthcheck: gateway-exporter publishes the status only
// for containers that have one, so the alert can never fire.
type healthcheck struct{}

func (healthcheck) Name() string { return "healthcheck" }

func (healthcheck) Check(run *Run) []Problem {
	return run.eachRule(func(f *RuleFile, _ *Group, r *Rule) []Problem {
		if !r.IsAlert() || r.AST == nil || !readsMetric(r, catalog.ContainerHealthStatus) {
			return nil
		}
		var ps []Problem
		for _, s := range alertServices(r, run.Services) {
			if !s.Healthcheck {
				ps = append(ps, ruleProblem(f, r, r.Line(), SeverityError,
					"alerts on the health status of service %q, whose container has no healthcheck: %s is absent and the alert never fires; give the service a healthcheck",
					s.Name, catalog.ContainerHealthStatus))
			}
		}
		return ps
	})
}

// readsMetric reports whether r's expression selects metric.
func readsMetric(r *Rule, metric string) bool {
	for _, vs := range analysis.Selectors(r.AST) {
		if analysis.MetricName(vs) == metric {
			return true
		}
	}
	return false
}
