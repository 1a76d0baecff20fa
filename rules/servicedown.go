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

// ServiceDown pages when the service cannot serve (the runbook's up == 0,
// at service scope): no target of its job answers, or the job has no target
// at all (the containers were removed, or never started). Its only labels
// are the job's, so it keeps one identity for the whole outage whatever
// the replicas, the diagnosis or gateway-exporter do meanwhile: Alertmanager
// sees one incident from the first failed minute to recovery.
//
// The diagnosis (the termination that took the service down, restarts,
// peak memory) is in the annotations, queried at every evaluation: the
// most recent termination of the service's containers since shortly before
// the outage began, anchored to the alert's own activation time
// (ALERTS_FOR_STATE), never to the wall clock, so it holds for an outage
// of any length. With gateway-exporter away the annotations say so and the
// page stays the same.
//
// The impact so far (downtime, requests failing and lost, budget consumed)
// is in annotations of its own, anchored to the same activation time, at
// the traffic ServedRate holds: the service's Records need ServedRate.
//
// It keeps firing for as long as its for after a target answers again: a
// crash-looping service that answers one scrape between two crashes must not
// resolve the page and page again a minute later.
func ServiceDown(svc spec.Service, p Profile) spec.Alert {
	job := svc.JobName()
	up := spec.Metric(catalog.Up, spec.Eq("job", job))
	forState := spec.Metric(catalog.AlertsForState, spec.Eq("alertname", "ServiceDown"), spec.Eq("job", job))
	activeSince := spec.Call("scalar", forState)
	cause := templateQuery(lastTerminationOf(func(metric string) *parser.VectorSelector { return containers(svc, metric) }, p, activeSince))
	window := p.D(10 * time.Minute)
	restarts := spec.Max(containers(svc, catalog.ContainerRestartsTotal))
	peak := spec.Max(spec.Call("max_over_time", spec.Range(containers(svc, catalog.ContainerMemoryUsageRatio), window)))

	a := spec.Alert{
		Name: "ServiceDown",
		// Both sides carry exactly {job}: the page is the same whether the
		// targets answer 0 or are gone.
		Expr:          spec.Or(spec.Filter(spec.Max(up, "job"), spec.OpEq, 0), spec.Call("absent", up)),
		For:           p.D(time.Minute),
		KeepFiringFor: p.D(time.Minute),
		Severity:      spec.Critical,
		Summary:       "{{ $labels.job }} is down (" + diagnosis(cause, false) + ")",
		Description: "{{ if eq $value 0.0 }}No target of job {{ $labels.job }} answers Prometheus' scrapes." +
			"{{ else }}Job {{ $labels.job }} has no target: its containers are gone or never started.{{ end }} " +
			"Last termination: " + diagnosis(cause, true) + ". " +
			"Restarts: " + queryValue(restarts, "", "", "unknown") + ". " +
			"Peak memory: " + queryValue(peak, "humanizePercentage", "", "unknown") + " of the limit.",
		Annotations: impactAnnotations(svc, spec.Max(forState)),
	}
	a.Tests = serviceDownTests(svc, p, a)
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
	diag := diagnosis(templateQuery(lastTerminationOf(one, p, own)), false)
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

// lastTerminationOf joins each container's termination info to its time,
// keeps those since lead before since, and returns the most recent one.
// Exporter series are deduplicated by container and host first, so an
// exporter scraped twice never makes the join many-to-many.
func lastTerminationOf(sel func(metric string) *parser.VectorSelector, p Profile, since parser.Expr) parser.Expr {
	when := spec.Max(sel(catalog.ContainerLastTerminationTimestamp), containerOnHost...)
	recent := spec.Binary(spec.OpGe, when, spec.Sub(since, spec.Num(p.D(diagnosisLead).Seconds())))
	return spec.TopK(1, spec.Join(sel(catalog.ContainerLastTerminationInfo), recent, containerOnHost, nil))
}

// serviceDownTests prove the page's meaning at service scope and each way
// it finds, or does without, its diagnosis.
func serviceDownTests(svc spec.Service, p Profile, a spec.Alert) []spec.Test {
	job := svc.JobName()
	step, f := p.step(), a.For
	healthyFor, downFor := p.D(time.Minute), p.D(5*time.Minute)
	total := healthyFor + downFor
	upDown := []spec.Segment{hold(1, healthyFor), hold(0, downFor)}
	gw, gw2 := discovered(svc, 1, testHost), discovered(svc, 2, testHost)
	page := map[string]string{"job": job}
	at := func(d time.Duration) float64 { return d.Seconds() }
	info := func(n int, host, code, reason string, d time.Duration) spec.Series {
		return series(catalog.ContainerLastTerminationInfo, onHost(svc, n, host, catalog.LabelExitCode, code, catalog.LabelReason, reason), hold(1, d))
	}
	when := func(n int, host string, t, d time.Duration) spec.Series {
		return series(catalog.ContainerLastTerminationTimestamp, onHost(svc, n, host), hold(at(t), d))
	}
	restartCount := func(n int, host string, v float64, d time.Duration) spec.Series {
		return series(catalog.ContainerRestartsTotal, onHost(svc, n, host), hold(v, d))
	}
	ratioThenDead := func(n int, v float64) spec.Series {
		return series(catalog.ContainerMemoryUsageRatio, onHost(svc, n, testHost), hold(v, healthyFor), stale(downFor))
	}
	const (
		answers = "No target of job %s answers Prometheus' scrapes."
		noneAt  = "Job %s has no target: its containers are gone or never started."
	)
	// down is how long the service has been down at the expectation's
	// time, served the rate ServedRate holds (negative: none).
	firing := func(head, of, reason, code, restarts, peak string, down time.Duration, served float64) spec.Firing {
		diag := "no termination recorded by gateway-exporter"
		if reason != "" {
			diag = reason + ", exit code " + code
		}
		named := diag
		if of != "" {
			named += " (" + of + ")"
		}
		return spec.Firing{
			Labels:      page,
			Summary:     fmt.Sprintf("%s is down (%s)", job, diag),
			Description: fmt.Sprintf(head, job) + fmt.Sprintf(" Last termination: %s. Restarts: %s. Peak memory: %s of the limit.", named, restarts, peak),
			Annotations: ImpactAfter(svc, down, served),
		}
	}
	name := func(n int) string { return containerName(svc, n) }

	// Two replicas: replica 2 is stopped (exit 143) and stays down while
	// replica 1 serves; an hour later replica 1 is OOM-killed. The
	// service is down from then on, and its most recent termination
	// (replica 1's) took it down.
	long := p.D(time.Hour)
	killedAt := long + healthyFor
	// Traffic for longer than ServedRate's rate window before an outage
	// past an hour.
	traffic, outage := p.D(10*time.Minute), long+p.D(35*time.Minute)

	return []spec.Test{
		{
			Name:     "pages with the OOM diagnosis when gateway-exporter saw the container OOM-killed",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, upDown...),
				info(1, testHost, "137", catalog.ReasonOOMKilled, total), when(1, testHost, healthyFor-step, total),
				restartCount(1, testHost, 2, total), ratioThenDead(1, 0.99),
			},
			Expect: []spec.Expect{
				quiet(healthyFor + f - step),
				fires(healthyFor+f, firing(answers, name(1), catalog.ReasonOOMKilled, "137", "2", "99%", f, -1)),
			},
		},
		{
			Name:     "stays quiet while one replica of two serves, and pages with the termination that took the service down",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, hold(1, killedAt), hold(0, downFor)),
				series(catalog.Up, gw2, hold(1, healthyFor), hold(0, long+downFor)),
				info(2, testHost, "143", catalog.ReasonTerminated, killedAt+downFor), when(2, testHost, healthyFor-step, killedAt+downFor),
				info(1, testHost, "137", catalog.ReasonOOMKilled, killedAt+downFor), when(1, testHost, killedAt-step, killedAt+downFor),
				restartCount(1, testHost, 3, killedAt+downFor),
			},
			Expect: []spec.Expect{
				quiet(healthyFor + f),
				quiet(killedAt - step),
				fires(killedAt+f, firing(answers, name(1), catalog.ReasonOOMKilled, "137", "3", "unknown", f, -1)),
			},
		},
		{
			Name:     "keeps the diagnosis, and counts the impact from the outage's start at the traffic it lost, for an outage of any length, not for a wall-clock hour",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, hold(1, traffic), hold(0, outage)),
				// The service's counters stop with it.
				series(requestsOf(svc), gw, spec.Segment{Increase: requestRate * step.Seconds(), For: traffic}, stale(outage)),
				info(1, testHost, "137", catalog.ReasonOOMKilled, traffic+outage), when(1, testHost, traffic-step, traffic+outage),
			},
			Expect: []spec.Expect{
				quiet(traffic + f - step),
				fires(traffic+f, firing(answers, name(1), catalog.ReasonOOMKilled, "137", "unknown", "unknown", f, requestRate)),
				fires(traffic+long+p.D(30*time.Minute), firing(answers, name(1), catalog.ReasonOOMKilled, "137", "unknown", "unknown", long+p.D(30*time.Minute), requestRate)),
			},
		},
		{
			Name:     "does not blame the outage on a termination long before it began",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, hold(1, long), hold(0, downFor)),
				info(1, testHost, "143", catalog.ReasonTerminated, long+downFor), when(1, testHost, step, long+downFor),
			},
			Expect: []spec.Expect{
				fires(long+f, firing(answers, "", "", "", "unknown", "unknown", f, -1)),
			},
		},
		{
			Name:     "pages when the container is removed and the job has no target left, with its termination",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, hold(1, healthyFor), stale(downFor)),
				info(1, testHost, "137", catalog.ReasonKilled, total), when(1, testHost, healthyFor-step, total),
			},
			Expect: []spec.Expect{
				quiet(healthyFor + f - step),
				fires(healthyFor+f, firing(noneAt, name(1), catalog.ReasonKilled, "137", "unknown", "unknown", f, -1)),
			},
		},
		{
			Name:     "keeps the diagnosis when two exporters report the same container",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, upDown...),
				series(catalog.ContainerLastTerminationInfo, merge(onHost(svc, 1, testHost, catalog.LabelExitCode, "137", catalog.LabelReason, catalog.ReasonOOMKilled), "instance", "localhost:19818"), hold(1, total)),
				series(catalog.ContainerLastTerminationInfo, merge(onHost(svc, 1, testHost, catalog.LabelExitCode, "137", catalog.LabelReason, catalog.ReasonOOMKilled), "instance", "localhost:19819"), hold(1, total)),
				series(catalog.ContainerLastTerminationTimestamp, merge(onHost(svc, 1, testHost), "instance", "localhost:19818"), hold(at(healthyFor-step), total)),
				series(catalog.ContainerLastTerminationTimestamp, merge(onHost(svc, 1, testHost), "instance", "localhost:19819"), hold(at(healthyFor-step), total)),
			},
			Expect: []spec.Expect{
				fires(healthyFor+f, firing(answers, name(1), catalog.ReasonOOMKilled, "137", "unknown", "unknown", f, -1)),
			},
		},
		{
			Name:     "still pages, without the diagnosis, when gateway-exporter goes down with the service",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, upDown...),
				series(catalog.ContainerLastTerminationInfo, onHost(svc, 1, testHost, catalog.LabelExitCode, "137", catalog.LabelReason, catalog.ReasonOOMKilled), hold(1, healthyFor), stale(downFor)),
				series(catalog.ContainerLastTerminationTimestamp, onHost(svc, 1, testHost), hold(at(healthyFor-step), healthyFor), stale(downFor)),
				series(catalog.ContainerRestartsTotal, onHost(svc, 1, testHost), hold(0, healthyFor), stale(downFor)),
			},
			Expect: []spec.Expect{
				fires(healthyFor+f, firing(answers, "", "", "", "unknown", "unknown", f, -1)),
			},
		},
		{
			Name:     "keeps paging through one answered scrape between two crashes, and resolves once the service stays up",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, hold(1, healthyFor), hold(0, f+step), hold(1, step), hold(0, step), hold(1, downFor)),
			},
			Expect: []spec.Expect{
				// While only keep_firing_for holds it, the annotations stay
				// as last rendered while the service was down.
				fires(healthyFor+f+step, firing(answers, "", "", "", "unknown", "unknown", f, -1)),
				fires(healthyFor+f+3*step, firing(answers, "", "", "", "unknown", "unknown", f+2*step, -1)),
				quiet(healthyFor + f + 3*step + a.KeepFiringFor + step),
			},
		},
		{
			Name:     "stays quiet while the service is scraped, whatever its past terminations",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, hold(1, total)),
				info(1, testHost, "137", catalog.ReasonOOMKilled, total), when(1, testHost, step, total),
			},
			Expect: []spec.Expect{quiet(healthyFor), quiet(total - step)},
		},
	}
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
