// Package alerts is the ML platform team's own alerts, beside the
// runbook's: each a builder of the service it watches, its expression built
// from promgen's spec vocabulary and its scenarios written with promgen's
// scenario helpers, as promgen's own builders are (package rules). promtool
// runs the scenarios with the runbook's in make test.
package alerts

import (
	"fmt"
	"time"

	"github.com/prometheus/common/model"

	"github.com/sre-tools/promgen/spec"
	"github.com/sre-tools/promgen/spec/scenario"
)

// QueueDepth is the embedder's gauge of requests waiting for a batch: the
// team's metric, not one of promgen's catalog.
const QueueDepth = "embedder_queue_depth"

// Metrics are the team's metrics its alerts read, declared on the service
// (spec.Service.Metrics) so that lint knows their names and types.
var Metrics = []spec.ExposedMetric{
	{Name: QueueDepth, Type: "gauge", Help: "Requests waiting for a batch."},
}

// EmbeddingBacklog warns when more than 500 requests have waited at one of
// svc's targets for 10 minutes: the embedder falls behind its callers.
func EmbeddingBacklog(svc spec.Service) spec.Alert {
	const limit, forDur = 500, 10 * time.Minute
	// The series as Prometheus scrapes it: through the load balancer when
	// the service is scraped statically, else its first replica.
	in := scenario.Discovered(svc, 1, scenario.Host)
	if len(svc.Scrape.Static) > 0 {
		in = scenario.Static(svc, svc.Scrape.Static[0])
	}
	description := fmt.Sprintf("More than %d requests have waited for a batch for %s: scale the embedder out or check its GPU.", limit, model.Duration(forDur))
	return spec.Alert{
		Name:        "EmbeddingBacklog",
		Expr:        spec.Filter(spec.Metric(QueueDepth, spec.Eq("job", svc.JobName())), spec.OpGt, limit),
		For:         forDur,
		Severity:    spec.Warning,
		Summary:     "{{ $labels.instance }} has {{ $value }} requests waiting",
		Description: description,
		Tests: []spec.Test{{
			Name:   "fires after 10m with more than 500 requests waiting",
			Series: []spec.Series{scenario.Series(QueueDepth, in, scenario.Hold(20, 5*time.Minute), scenario.Hold(800, 12*time.Minute))},
			Expect: []spec.Expect{
				scenario.Quiet(5*time.Minute + forDur - 15*time.Second),
				scenario.Fires(5*time.Minute+forDur, spec.Firing{Labels: in,
					Summary: in["instance"] + " has 800 requests waiting", Description: description}),
			},
		}, {
			// The gauge is born when the model has loaded: before, the
			// series has no samples at all.
			Name:   "a backlog while the embedder warms up, drained within 10m, never pages",
			Series: []spec.Series{scenario.Series(QueueDepth, in, scenario.Gap(5*time.Minute), scenario.Hold(900, 8*time.Minute), scenario.Hold(30, 5*time.Minute))},
			Expect: []spec.Expect{scenario.Quiet(12 * time.Minute), scenario.Quiet(17 * time.Minute)},
		}},
	}
}
