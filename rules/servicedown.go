package rules

import (
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

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

// ReplicaDown warns when one target of the service does not answer while
// another does: the service serves, with less headroom. It names its own
// container's termination in the annotations. When no target answers,
// ServiceDown pages instead.
func ReplicaDown(svc spec.Service, p Profile) spec.Alert {
	job := svc.JobName()
	up := spec.Metric(catalog.Up, spec.Eq("job", job))
	serving := spec.Filter(spec.Max(up, "job"), spec.OpGt, 0)
	own := spec.Call("scalar", spec.Metric(catalog.AlertsForState, spec.Eq("alertname", "ReplicaDown"), spec.Eq("job", job),
		spec.Eq(catalog.LabelName, ofAlert(catalog.LabelName)), spec.Eq(catalog.LabelHost, ofAlert(catalog.LabelHost))))
	one := func(metric string) *parser.VectorSelector {
		return containers(svc, metric, sameAs(catalog.LabelName, catalog.LabelHost)...)
	}
	diag := diagnosis(templateQuery(spec.TopK(1, terminationsOf(one, p, own))), false)
	a := spec.Alert{
		Name:     "ReplicaDown",
		Expr:     spec.And(spec.Filter(up, spec.OpEq, 0), serving, "job"),
		For:      p.D(time.Minute),
		Severity: spec.Warning,
		Summary:  "{{ $labels.instance }} of {{ $labels.job }} is down ({{ with $labels.name }}{{ . }}: {{ end }}" + diag + ")",
		Description: "Prometheus cannot scrape {{ $labels.instance }} of job {{ $labels.job }} while other targets serve. " +
			"Last termination: " + diag + ". Restarts: " + queryValue(spec.Max(one(catalog.ContainerRestartsTotal)), "", "", "unknown") + ".",
	}
	a.Tests = replicaDownTests(svc, p, a)
	return a
}

// diagnosis renders the termination a query pipeline returns, in words,
// with the container's name when named.
func diagnosis(pipeline string, named bool) string {
	name := ""
	if named {
		name = " ({{ .Labels." + catalog.LabelName + " }})"
	}
	return "{{ with " + pipeline + " }}{{ with first . }}" +
		"{{ .Labels." + catalog.LabelReason + " }}, exit code {{ .Labels." + catalog.LabelExitCode + " }}" + name + "{{ end }}" +
		"{{ else }}no termination recorded by gateway-exporter{{ end }}"
}

// terminationsOf joins each container's termination info to its time and
// keeps those since lead before since.
// Exporter series are deduplicated by container and host first, so an
// exporter scraped twice never makes the join many-to-many.
func terminationsOf(sel func(metric string) *parser.VectorSelector, p Profile, since parser.Expr) parser.Expr {
	when := spec.Max(sel(catalog.ContainerLastTerminationTimestamp), containerOnHost...)
	recent := spec.Binary(spec.OpGe, when, spec.Sub(since, spec.Num(p.D(diagnosisLead).Seconds())))
	return spec.Join(sel(catalog.ContainerLastTerminationInfo), recent, containerOnHost, nil)
}

// replicaDownTests prove the warning's scope: one replica, while another
// serves.
func replicaDownTests(svc spec.Service, p Profile, a spec.Alert) []spec.Test {
	step, f := p.step(), a.For
	healthyFor, downFor := p.D(time.Minute), p.D(5*time.Minute)
	total := healthyFor + downFor
	gw, gw2 := discovered(svc, 1, testHost), discovered(svc, 2, testHost)
	b1 := discovered(svc, 1, otherTestHost)
	info := func(n int, host, code, reason string) spec.Series {
		return series(catalog.ContainerLastTerminationInfo, onHost(svc, n, host, catalog.LabelExitCode, code, catalog.LabelReason, reason), hold(1, total))
	}
	when := func(n int, host string, t time.Duration) spec.Series {
		return series(catalog.ContainerLastTerminationTimestamp, onHost(svc, n, host), hold(t.Seconds(), total))
	}
	warn := func(t map[string]string, diag, restarts string) spec.Firing {
		return spec.Firing{
			Labels:      t,
			Summary:     fmt.Sprintf("%s of %s is down (%s: %s)", t["instance"], svc.JobName(), t[catalog.LabelName], diag),
			Description: fmt.Sprintf("Prometheus cannot scrape %s of job %s while other targets serve. Last termination: %s. Restarts: %s.", t["instance"], svc.JobName(), diag, restarts),
		}
	}
	return []spec.Test{
		{
			Name:     "warns for the stopped replica with its own termination, not the other's more recent one",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, hold(1, healthyFor), hold(0, downFor)),
				series(catalog.Up, gw2, hold(1, total)),
				info(1, testHost, "137", catalog.ReasonKilled), when(1, testHost, healthyFor-step),
				info(2, testHost, "143", catalog.ReasonTerminated), when(2, testHost, healthyFor+step),
				series(catalog.ContainerRestartsTotal, onHost(svc, 1, testHost), hold(1, total)),
			},
			Expect: []spec.Expect{
				quiet(healthyFor + f - step),
				fires(healthyFor+f, warn(gw, catalog.ReasonKilled+", exit code 137", "1")),
			},
		},
		{
			Name:     "takes its termination from its own host when another host runs a container of the same name",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, hold(1, healthyFor), hold(0, downFor)),
				series(catalog.Up, b1, hold(1, total)),
				info(1, otherTestHost, "139", catalog.ReasonSegfault), when(1, otherTestHost, healthyFor),
			},
			Expect: []spec.Expect{
				fires(healthyFor+f, warn(gw, "no termination recorded by gateway-exporter", "unknown")),
			},
		},
		{
			Name:     "leaves the whole service down to ServiceDown",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, hold(1, healthyFor), hold(0, downFor)),
				series(catalog.Up, gw2, hold(1, healthyFor), hold(0, downFor)),
			},
			Expect: []spec.Expect{quiet(healthyFor + f), quiet(total - step)},
		},
		{
			Name:     "forgives a replica restarted within its for, as a rolling deploy does",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, hold(1, healthyFor), hold(0, f-step), hold(1, downFor)),
				series(catalog.Up, gw2, hold(1, total)),
			},
			Expect: []spec.Expect{quiet(healthyFor + f - step), quiet(healthyFor + f)},
		},
	}
}

// promDuration formats d as a PromQL duration.
func promDuration(d time.Duration) string { return model.Duration(d).String() }
