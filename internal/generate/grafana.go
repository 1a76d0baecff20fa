package generate

import (
	"encoding/json"
	"fmt"
	"path"

	"github.com/prometheus/prometheus/promql/parser"

	grafana "github.com/sre-tools/promgen/internal/dashboard"
	"github.com/sre-tools/promgen/spec"
)

// renderDashboard writes a service's Grafana dashboard, built with Grafana's
// SDK, after checking that every query parses as PromQL (the queries carry
// the spec's own expressions) and that its bytes decode as JSON. That the
// JSON decodes strictly back into the SDK's types depends only on the SDK
// and the dashboard builder, so TestEveryDashboardDecodesStrictly proves it
// for every kind of service instead of every build paying for it (a tenth
// of a build's CPU).
func renderDashboard(t Target, svc spec.Service) (string, []byte, error) {
	p := path.Join(t.Dir, "grafana", svc.Name+".json")
	d, err := grafana.Build(t.Spec, svc)
	if err != nil {
		return "", nil, fmt.Errorf("%s: grafana SDK: %w", p, err)
	}
	for _, q := range grafana.Queries(d) {
		if _, err := parser.NewParser(parser.Options{}).ParseExpr(q); err != nil {
			return "", nil, fmt.Errorf("%s: query %q: %w", p, q, err)
		}
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", p, err)
	}
	// Read back as Grafana reads a dashboard file: JSON, whatever the
	// spec's text in it.
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		return "", nil, fmt.Errorf("%s: does not read back: %w", p, err)
	}
	return p, append(b, '\n'), nil
}
