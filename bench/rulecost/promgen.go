package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/internal/generate"
	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
)

// objectiveWindow is both rule sets' compliance window, Sloth's default.
const objectiveWindow = 30 * 24 * time.Hour

// promgenSpec is the fleet's objectives as a promgen spec: per service an
// availability objective of 99.9% (failed requests, and the time no replica
// answers) and a latency one of 99% under latencyThreshold, with their
// recording rules and burn-rate alerts from rules.SLOs, as a team's spec
// declares them (examples/ml-platform).
func promgenSpec(f fleet) spec.Spec {
	s := spec.Spec{RunbookURL: "https://runbooks.example.com/rule-cost"}
	var bounds []float64
	for _, b := range buckets[:len(buckets)-1] {
		bounds = append(bounds, b.le)
	}
	for i := range f.n {
		svc := spec.Service{Name: serviceName(i), Scrape: spec.Scrape{Port: port}}
		svc.SLOs = []spec.SLO{
			{
				Name: "availability", Objective: 0.999, Window: objectiveWindow,
				Availability: &spec.AvailabilitySLI{Requests: catalog.HTTPRequestsTotal, Errors: []*labels.Matcher{spec.Re(catalog.LabelHTTPStatus, "5..")}},
			},
			{
				Name: "latency", Objective: 0.99, Window: objectiveWindow,
				Latency: &spec.LatencySLI{Histogram: catalog.HTTPRequestDurationSeconds, Threshold: latencyThreshold, Buckets: bounds},
			},
		}
		svc.Records, svc.Alerts = rules.SLOs(svc)
		s.Services = append(s.Services, svc)
	}
	return s
}

// writePromgenRules builds the spec with promgen's own build and writes
// its rule files (only those: the rest of the build is not what Prometheus
// evaluates) into dir.
func writePromgenRules(ctx context.Context, f fleet, dir string) ([]string, error) {
	files, err := generate.Build(ctx, []generate.Target{{Spec: promgenSpec(f)}}, generate.Options{})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range files.Paths() {
		if !strings.HasPrefix(p, "rules/") {
			continue
		}
		dst := filepath.Join(dir, filepath.Base(p))
		if err := os.WriteFile(dst, files[p], 0o644); err != nil {
			return nil, err
		}
		out = append(out, dst)
	}
	return out, nil
}
