package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	slothv1 "github.com/slok/sloth/pkg/prometheus/api/v1"
	"sigs.k8s.io/yaml"

	"github.com/sre-tools/promgen/catalog"
)

// slothSpec is the same objectives as promgenSpec for service i, in Sloth's
// own spec types: the events SLI Sloth's documentation gives for each
// (failed over all requests; all requests less those under the threshold),
// paging and ticketing as promgen's alerts do.
func slothSpec(i int) slothv1.Spec {
	job := serviceName(i)
	sel := fmt.Sprintf("job=%q", job)
	rate := func(metric, matchers string) string {
		return fmt.Sprintf("sum(rate(%s{%s}[{{.window}}]))", metric, matchers)
	}
	alerting := func(name string) slothv1.Alerting {
		return slothv1.Alerting{
			Name:        name,
			PageAlert:   slothv1.Alert{Labels: map[string]string{"severity": "critical"}},
			TicketAlert: slothv1.Alert{Labels: map[string]string{"severity": "warning"}},
		}
	}
	count, bucket := catalog.HTTPRequestDurationSeconds+"_count", catalog.HTTPRequestDurationSeconds+"_bucket"
	return slothv1.Spec{
		Version: slothv1.Version,
		Service: job,
		SLOs: []slothv1.SLO{
			{
				Name: "availability", Objective: 99.9,
				SLI: slothv1.SLI{Events: &slothv1.SLIEvents{
					ErrorQuery: rate(catalog.HTTPRequestsTotal, sel+fmt.Sprintf(",%s=~\"5..\"", catalog.LabelHTTPStatus)),
					TotalQuery: rate(catalog.HTTPRequestsTotal, sel),
				}},
				Alerting: alerting("AvailabilityBurn"),
			},
			{
				Name: "latency", Objective: 99,
				SLI: slothv1.SLI{Events: &slothv1.SLIEvents{
					ErrorQuery: "(" + rate(count, sel) + " - " + rate(bucket, sel+fmt.Sprintf(",le=%q", formatFloat(latencyThreshold))) + ")",
					TotalQuery: rate(count, sel),
				}},
				Alerting: alerting("LatencyBurn"),
			},
		},
	}
}

// writeSlothRules writes a Sloth spec per service into dir/specs and has
// Sloth's own CLI generate their rules into dir.
func writeSlothRules(sloth string, f fleet, dir string) ([]string, error) {
	specs := filepath.Join(dir, "specs")
	if err := os.MkdirAll(specs, 0o755); err != nil {
		return nil, err
	}
	var out []string
	for i := range f.n {
		// Sloth's types carry JSON tags, which sigs.k8s.io/yaml honours;
		// Sloth finds the spec's kind by its YAML "version:" line.
		b, err := yaml.Marshal(slothSpec(i))
		if err != nil {
			return nil, err
		}
		name := serviceName(i) + ".yml"
		if err := os.WriteFile(filepath.Join(specs, name), b, 0o644); err != nil {
			return nil, err
		}
		out = append(out, filepath.Join(dir, name))
	}
	cmd := exec.Command(sloth, "generate", "--no-log", "-i", specs, "-o", dir)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("sloth generate -i %s: %w: %s", specs, err, b)
	}
	return out, nil
}
