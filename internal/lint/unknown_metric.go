package lint

import "github.com/sre-tools/promgen/internal/analysis"

// unknownMetric warns about metric names that no source knows: not the
// catalog, not Prometheus' own series (up, scrape_*, ALERTS), not the
// metadata of --metadata or --prometheus, and no rule of the run records
// them. A typo or a removed metric makes a selector match nothing, and an
// alert on nothing never fires. It runs only where there is a metric source
// beyond the catalog, or the policy turns it on (promgen's own output is
// checked against the catalog).
type unknownMetric struct{}

func (unknownMetric) Name() string { return "unknown-metric" }

func (unknownMetric) Check(run *Run) []Problem {
	source := "the catalog"
	if run.Metadata != nil {
		source = "the catalog or the metric metadata"
	}
	return run.eachRule(func(f *RuleFile, _ *Group, r *Rule) []Problem {
		if r.AST == nil {
			return nil
		}
		var ps []Problem
		seen := map[string]bool{}
		for _, vs := range analysis.Selectors(r.AST) {
			name := analysis.MetricName(vs)
			if name == "" || seen[name] || run.types.exists(name) || len(run.recorded[name]) > 0 {
				continue
			}
			seen[name] = true
			ps = append(ps, ruleProblem(f, r, r.ExprLine(vs.PositionRange().Start), SeverityWarning,
				"metric %q is not in %s, and no rule records it", name, source))
		}
		return ps
	})
}
