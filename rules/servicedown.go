package rules

import (
	"time"

	"github.com/prometheus/common/model"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/spec"
)

// diagnosisLead is how long before an outage began a termination may have
// happened and still explain it: the last replica's exit, or the removal of
// its container, precede the first failed scrape by up to a scrape and a
// discovery refresh, and a crash loop's first crashes by more. An older
// one would blame today's outage on yesterday's crash.
const diagnosisLead = 10 * time.Minute

// serviceDown pages when the service cannot serve, as the platform tells
// (serviceDown), with one identity for the whole outage.
//
// The diagnosis (the termination that took the service down, restarts,
// peak memory) is in the annotations, queried at every evaluation: the
// most recent termination of the service's containers since shortly before
// the outage began, anchored to the alert's own activation time
// (ALERTS_FOR_STATE), never to the wall clock, so it holds for an outage
// of any length. As a label it would change, and re-page, when a
// termination arrives or ages. With the diagnosis' source away the
// annotations say so and the page stays the same.
//
// It keeps firing for as long as its for after a target answers again: a
// crash-looping service that answers one scrape between two crashes must not
// resolve the page and page again a minute later.
func serviceDown(t platform) spec.Alert {
	p := t.profile()
	forState := t.serviceDownAlerts(catalog.AlertsForState)
	last := spec.TopK(1, t.terminations(spec.Call("scalar", forState)))
	a := spec.Alert{
		Name:          "ServiceDown",
		Expr:          t.serviceDown(),
		For:           p.D(time.Minute),
		KeepFiringFor: p.D(time.Minute),
		Severity:      spec.Critical,
		Summary:       "{{ $labels.job }} is down" + t.termination(last, true),
		Description: t.whyDown() + "Last termination: " + t.termination(last, false) + ". " +
			"Restarts: " + queryValue(t.serviceRestarts(), "", "", "unknown") + ". " +
			"Peak memory: " + queryValue(t.peakMemory(p.D(10*time.Minute)), "humanizePercentage", "", "unknown") + " of the limit.",
		Annotations: t.impact(spec.Max(forState)),
	}
	a.Tests = t.serviceDownTests(a)
	return a
}

// promDuration formats d as a PromQL duration.
func promDuration(d time.Duration) string { return model.Duration(d).String() }
