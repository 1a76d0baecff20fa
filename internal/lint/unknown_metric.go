package lint

import (
	"github.com/sre-tools/promgen/catalog"
)

// unknownMetric warns about metric names that neither the catalog (up,
// gateway-exporter, cAdvisor) publishes nor a rule of the run records: a
// typo or a removed metric makes a selector match nothing, and an alert on
// nothing never fires. A warning, since a file may read other exporters.
type unknownMetric struct{}

func (unknownMetric) Name() string { return "unknown-metric" }

func (unknownMetric) Check(files []*RuleFile, _ Config) []Problem {
	recorded := map[string]bool{}
	eachRule(files, func(_ *RuleFile, _ *Group, r *Rule) []Problem {
		if r.Record != "" {
			recorded[r.Record] = true
		}
		return nil
	})
	return eachRule(files, func(f *RuleFile, _ *Group, r *Rule) []Problem {
		if r.AST == nil {
			return nil
		}
		var ps []Problem
		seen := map[string]bool{}
		for _, vs := range selectors(r.AST) {
			name := metricName(vs)
			if _, known := catalog.Lookup(name); name == "" || known || recorded[name] || seen[name] {
				continue
			}
			seen[name] = true
			ps = append(ps, ruleProblem(f, r, r.ExprLine(vs.PositionRange().Start), SeverityWarning,
				"metric %q is not in the catalog of known sources and no rule records it", name))
		}
		return ps
	})
}
