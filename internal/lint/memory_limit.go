package lint

import (
	"slices"

	"github.com/prometheus/common/model"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/conventions"
	"github.com/sre-tools/promgen/internal/analysis"
)

// memoryLimit reports alerts on a memory ratio of a service that has no
// memory limit: the exporter's ratio is then absent and cAdvisor's limit is
// 0, so the alert can never fire or fires on nonsense.
type memoryLimit struct{}

func (memoryLimit) Name() string { return "memory-limit" }

func (memoryLimit) Check(run *Run) []Problem {
	return run.eachRule(func(f *RuleFile, _ *Group, r *Rule) []Problem {
		if !r.IsAlert() || r.AST == nil || !analysis.ReadsMemoryRatio(r.AST) {
			return nil
		}
		var ps []Problem
		for _, s := range alertServices(r, run.Services) {
			if s.MemoryLimitBytes == 0 {
				ps = append(ps, ruleProblem(f, r, r.Line(), SeverityError,
					"alerts on the memory ratio of service %q, which has no memory limit: the ratio is absent or meaningless; set a memory limit for the service", s.Name))
			}
		}
		return ps
	})
}

// alertServices returns the services of cfg an alert is about: those its
// expression selects by compose_service or job, and the one its service
// label names.
func alertServices(r *Rule, services []Service) []Service {
	var out []Service
	add := func(match func(Service) bool) {
		for _, s := range services {
			if match(s) && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	for _, v := range analysis.Selected(r.AST, catalog.LabelComposeService) {
		add(func(s Service) bool { return s.Name == v })
	}
	for _, v := range analysis.Selected(r.AST, model.JobLabel) {
		add(func(s Service) bool { return s.Job == v })
	}
	// The service label names the service when the expression does not;
	// it may be set on the rule or its group.
	if v, ok := r.staticLabels()[conventions.LabelService]; ok {
		add(func(s Service) bool { return s.Name == v || s.Job == v })
	}
	return out
}
