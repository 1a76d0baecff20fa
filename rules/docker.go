package rules

import (
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/spec"
)

// docker is the compose target: the service's containers as
// gateway-exporter publishes them (by compose service and project, on
// their host), its targets as docker_sd_configs discovers them.
type docker struct {
	svc spec.Service
	p   Profile
}

func onDocker(svc spec.Service, p Profile) docker { return docker{svc: svc, p: p} }

// The runbook's alerts on the Docker target.

// ServiceDown pages when the service cannot serve (the runbook's up == 0,
// at service scope): no target of its job answers, or the job has no target
// at all (the containers were removed, or never started). Its only labels
// are the job's, so it keeps one identity for the whole outage whatever
// the replicas, the diagnosis or gateway-exporter do meanwhile: Alertmanager
// sees one incident from the first failed minute to recovery.
//
// The impact so far (downtime, requests failing and lost, budget consumed)
// is in annotations of its own, anchored to the page's activation time, at
// the traffic ServedRate holds: the service's Records need ServedRate.
func ServiceDown(svc spec.Service, p Profile) spec.Alert { return serviceDown(onDocker(svc, p)) }

// HighMemoryUsage warns when the working set stays above 85% of the memory
// limit for 5 minutes (runbook, "Monitoring Improvements").
func HighMemoryUsage(svc spec.Service, p Profile) spec.Alert {
	return highMemoryUsage(onDocker(svc, p))
}

// CriticalMemoryUsage says an OOM kill is imminent: above 95% for 2 minutes.
func CriticalMemoryUsage(svc spec.Service, p Profile) spec.Alert {
	return criticalMemoryUsage(onDocker(svc, p))
}

// ContainerOOMKilled fires after the kernel OOM-killed a container (pattern
// 1), for 15 minutes from the kill, unless it took the service down.
func ContainerOOMKilled(svc spec.Service, p Profile) spec.Alert {
	return containerOOMKilled(onDocker(svc, p))
}

// ContainerCrashLooping fires when Docker restarted a container three times
// within 15 minutes (pattern 2).
func ContainerCrashLooping(svc spec.Service, p Profile) spec.Alert {
	return containerCrashLooping(onDocker(svc, p))
}

// ContainerUnhealthy fires when Docker's healthcheck has marked a container
// unhealthy for a minute: it runs but does not serve (pattern 4 and the
// runbook's health checks).
func ContainerUnhealthy(svc spec.Service, p Profile) spec.Alert {
	return containerUnhealthy(onDocker(svc, p))
}

func (d docker) profile() Profile { return d.p }

// memoryAbove reads gateway-exporter's working-set ratio, which is absent
// for a container without a limit; lint rejects the memory alerts on such
// a service.
func (d docker) memoryAbove(threshold float64) parser.Expr {
	return spec.Filter(containers(d.svc, catalog.ContainerMemoryUsageRatio), spec.OpGt, threshold)
}

func (d docker) memoryLimit() parser.Expr { return d.own(catalog.ContainerMemoryLimitBytes) }

func (d docker) alerted(n int) map[string]string { return container(d.svc, n) }

func (d docker) memory(n int, limit float64, ratio ...spec.Segment) []spec.Series {
	var total time.Duration
	for _, s := range ratio {
		total += s.For
	}
	return []spec.Series{series(catalog.ContainerMemoryUsageRatio, container(d.svc, n), ratio...), d.limit(n, limit, total)}
}

// limit is container n's memory limit for dur.
func (d docker) limit(n int, limit float64, dur time.Duration) spec.Series {
	return series(catalog.ContainerMemoryLimitBytes, container(d.svc, n), hold(limit, dur))
}

// memoryTests adds compose's one-off tasks, which run the service's image
// and limits but are no replica of it, and series without their label.
func (d docker) memoryTests(c memoryCase) []spec.Test {
	run := oneoff(d.svc, 1)
	bare := merge(container(d.svc, 1))
	delete(bare, catalog.LabelComposeOneoff)
	all := c.lead + c.forDur + c.lead
	limitSeries := d.limit(1, c.limit, all)
	ratio := func(labels map[string]string, segs ...spec.Segment) spec.Series {
		return series(catalog.ContainerMemoryUsageRatio, labels, segs...)
	}
	return []spec.Test{
		c.fires(),
		c.quietBelow(),
		{
			Name:     fmt.Sprintf("stays quiet while a docker compose run one-off of the service sits at %s of its limit", c.pct),
			Interval: c.step,
			Series:   []spec.Series{ratio(container(d.svc, 1), hold(0.5, all)), ratio(run, hold(c.above, all)), limitSeries},
			Expect:   []spec.Expect{quiet(c.lead + c.forDur)},
		},
		{
			Name:     fmt.Sprintf("fires for the serving container only when it and a one-off are both at %s", c.pct),
			Interval: c.step,
			Series:   []spec.Series{ratio(container(d.svc, 1), hold(0.5, c.lead), hold(c.above, c.forDur+c.lead)), ratio(run, hold(c.above, all)), limitSeries},
			Expect:   []spec.Expect{quiet(c.lead + c.forDur - c.step), fires(c.lead+c.forDur, c.firing)},
		},
		{
			Name:     "fires for series without compose_oneoff, as a hand-written setup publishes them",
			Interval: c.step,
			Series:   []spec.Series{ratio(bare, hold(0.5, c.lead), hold(c.above, c.forDur+c.lead)), limitSeries},
			Expect: []spec.Expect{quiet(c.lead + c.forDur - c.step),
				fires(c.lead+c.forDur, spec.Firing{Labels: bare, Summary: c.firing.Summary, Description: c.firing.Description})},
		},
		c.forgivesSpike(),
	}
}

// crashLooping reads Docker's own restart count, so restarts are counted
// even while the exporter was briefly away; it is a counter because compose
// recreates a container under the same name with the count back at 0, and
// increase() reads that drop as a reset where changes() would count it as
// one more restart.
func (d docker) crashLooping(window time.Duration) parser.Expr {
	return spec.Filter(spec.Call("increase", spec.Range(containers(d.svc, catalog.ContainerRestartsTotal), window)), spec.OpGe, 3)
}

func (d docker) restarted(name, times string, window time.Duration) string {
	return "Docker restarted " + name + " " + times + " times in the last " + promDuration(window)
}

// own selects metric for the alert's own container: by name and, across
// hosts, by host.
func (d docker) own(metric string) *parser.VectorSelector {
	return spec.Metric(metric, sameAs(catalog.LabelName, catalog.LabelHost)...)
}

func (d docker) restartCount() parser.Expr { return d.own(catalog.ContainerRestartsTotal) }
func (d docker) lastExitCode() parser.Expr { return d.own(catalog.ContainerLastExitCode) }
func (d docker) lastReason() parser.Expr   { return d.own(catalog.ContainerLastTerminationInfo) }

func (d docker) restarts(n int, segs ...spec.Segment) spec.Series {
	return series(catalog.ContainerRestartsTotal, container(d.svc, n), segs...)
}

func (d docker) lastExit(n, code int, reason string, dur time.Duration) []spec.Series {
	c := strconv.Itoa(code)
	return []spec.Series{
		series(catalog.ContainerLastExitCode, container(d.svc, n), hold(float64(code), dur)),
		series(catalog.ContainerLastTerminationInfo, container(d.svc, n, catalog.LabelExitCode, c, catalog.LabelReason, reason), hold(1, dur)),
	}
}

// crashLoopTests adds compose's recreation of a container under the same
// name, its restart count back at 0.
func (d docker) crashLoopTests(c crashCase) []spec.Test {
	m := c.m
	return []spec.Test{
		c.fires(),
		c.spread(),
		{
			Name:     "counts from zero again when compose recreates the container under the same name",
			Interval: c.step,
			Series: append([]spec.Series{d.restarts(1, hold(3, m), hold(0, m), hold(1, m), hold(2, m), hold(3, 2*m))},
				d.lastExit(1, 1, catalog.ReasonError, 6*m)...),
			Expect: []spec.Expect{quiet(3 * m), fires(4*m, c.firing("3", "3", "1", catalog.ReasonError))},
		},
	}
}

// serviceDownAlerts selects what Prometheus records of the service's
// ServiceDown in metric (ALERTS or ALERTS_FOR_STATE): by its job.
func (d docker) serviceDownAlerts(metric string, extra ...*labels.Matcher) *parser.VectorSelector {
	return spec.Metric(metric, append([]*labels.Matcher{spec.Eq("alertname", "ServiceDown"), spec.Eq("job", d.svc.JobName())}, extra...)...)
}

// oomKilled reads the last termination rather than the exits counter: a
// counter born at its first OOM has no earlier sample, so increase()
// would miss exactly the first kill. The host joins too: a container of
// the same name on another host must not make an old OOM kill look recent.
func (d docker) oomKilled(window time.Duration) parser.Expr {
	sel := containers(d.svc, catalog.ContainerLastTerminationInfo, spec.Eq(catalog.LabelReason, catalog.ReasonOOMKilled))
	recent := spec.Binary(spec.OpGt, containers(d.svc, catalog.ContainerLastTerminationTimestamp),
		spec.Sub(spec.Call("time"), spec.Num(window.Seconds())))
	return spec.And(sel, recent, containerOnHost...)
}

// oomTests are the OOM kill's scenarios on gateway-exporter's series.
func (d docker) oomTests(a spec.Alert, window time.Duration) []spec.Test {
	svc, p := d.svc, d.p
	step, total := p.step(), p.D(20*time.Minute)
	oom := container(svc, 1, catalog.LabelExitCode, "137", catalog.LabelReason, catalog.ReasonOOMKilled)
	runOOM := oneoff(svc, 1, catalog.LabelExitCode, "137", catalog.LabelReason, catalog.ReasonOOMKilled)
	killedAt := p.D(time.Minute)
	// The service serves throughout, as after a restart or with another
	// replica, unless a test says otherwise.
	serving := series(catalog.Up, discovered(svc, 2, testHost), hold(1, total))
	firing := oomPage(oom, window)
	downFor := p.D(5 * time.Minute)
	return []spec.Test{
		{
			Name:     "fires after an OOM kill the service survived and resolves once it is older than the window",
			Interval: step,
			Series: []spec.Series{
				series(catalog.ContainerLastTerminationInfo, oom, hold(1, total)),
				series(catalog.ContainerLastTerminationTimestamp, container(svc, 1), hold(killedAt.Seconds(), total)),
				series(catalog.ContainerMemoryLimitBytes, container(svc, 1), hold(float64(128*spec.MiB), total)),
				serving,
			},
			Expect: []spec.Expect{
				quiet(a.For - step),
				fires(a.For, firing),
				quiet(killedAt + window + step),
			},
		},
		{
			Name:     "stays quiet, during and after, when the kill took the whole service down and ServiceDown paged it",
			Interval: step,
			Series: []spec.Series{
				series(catalog.ContainerLastTerminationInfo, oom, hold(1, total)),
				series(catalog.ContainerLastTerminationTimestamp, container(svc, 1), hold(killedAt.Seconds(), total)),
				series(catalog.Up, discovered(svc, 1, testHost), hold(1, killedAt), hold(0, downFor), hold(1, total-killedAt-downFor)),
				// As Prometheus writes it once ServiceDown fires, whether or
				// not this service's group has the rule.
				series(catalog.Alerts, map[string]string{"alertname": "ServiceDown", "alertstate": "firing", "job": svc.JobName(), "severity": "critical"},
					hold(0, killedAt+p.D(time.Minute)), hold(1, downFor-p.D(time.Minute)), stale(total-killedAt-downFor)),
			},
			Expect: []spec.Expect{quiet(a.For), quiet(killedAt + downFor + step), quiet(killedAt + window - step)},
		},
		{
			Name:     "stays quiet after a SIGKILL that was not the OOM killer",
			Interval: step,
			Series: []spec.Series{
				series(catalog.ContainerLastTerminationInfo, container(svc, 1, catalog.LabelExitCode, "137", catalog.LabelReason, catalog.ReasonKilled), hold(1, total)),
				series(catalog.ContainerLastTerminationTimestamp, container(svc, 1), hold(killedAt.Seconds(), total)),
				serving,
			},
			Expect: []spec.Expect{quiet(a.For + step)},
		},
		{
			Name:     "stays quiet when a docker compose run one-off of the service is OOM-killed",
			Interval: step,
			Series: []spec.Series{
				series(catalog.ContainerLastTerminationInfo, runOOM, hold(1, total)),
				series(catalog.ContainerLastTerminationTimestamp, oneoff(svc, 1), hold(killedAt.Seconds(), total)),
				series(catalog.ContainerMemoryLimitBytes, oneoff(svc, 1), hold(float64(128*spec.MiB), total)),
				serving,
			},
			Expect: []spec.Expect{quiet(a.For + step), quiet(killedAt + window/2)},
		},
		{
			Name:     "fires for the serving container only when it and a one-off are both OOM-killed",
			Interval: step,
			Series: []spec.Series{
				series(catalog.ContainerLastTerminationInfo, oom, hold(1, total)),
				series(catalog.ContainerLastTerminationTimestamp, container(svc, 1), hold(killedAt.Seconds(), total)),
				series(catalog.ContainerMemoryLimitBytes, container(svc, 1), hold(float64(128*spec.MiB), total)),
				series(catalog.ContainerLastTerminationInfo, runOOM, hold(1, total)),
				series(catalog.ContainerLastTerminationTimestamp, oneoff(svc, 1), hold(killedAt.Seconds(), total)),
				series(catalog.ContainerMemoryLimitBytes, oneoff(svc, 1), hold(float64(128*spec.MiB), total)),
				serving,
			},
			Expect: []spec.Expect{fires(a.For, firing)},
		},
		{
			Name:     "stays quiet for an old OOM kill when another host's container of the same name terminated recently",
			Interval: step,
			Series: []spec.Series{
				series(catalog.ContainerLastTerminationInfo, onHost(svc, 1, testHost, catalog.LabelExitCode, "137", catalog.LabelReason, catalog.ReasonOOMKilled), hold(1, total)),
				series(catalog.ContainerLastTerminationTimestamp, onHost(svc, 1, testHost), hold(0, total)),
				series(catalog.ContainerLastTerminationInfo, onHost(svc, 1, otherTestHost, catalog.LabelExitCode, "143", catalog.LabelReason, catalog.ReasonTerminated), hold(1, total)),
				series(catalog.ContainerLastTerminationTimestamp, onHost(svc, 1, otherTestHost), hold((window+killedAt).Seconds(), total)),
				serving,
			},
			Expect: []spec.Expect{quiet(window + 2*killedAt)},
		},
	}
}

// unhealthy reads Docker's healthcheck status.
func (d docker) unhealthy() parser.Expr {
	return spec.Filter(containers(d.svc, catalog.ContainerHealthStatus, spec.Eq(catalog.LabelStatus, "unhealthy")), spec.OpEq, 1)
}

func (d docker) unhealthyWords(time.Duration) string {
	return "Docker's healthcheck has failed {{ $labels.name }} repeatedly; it may be running without serving. Read its health log with docker inspect."
}

// unhealthyTests are the healthcheck's scenarios on gateway-exporter's
// series.
func (d docker) unhealthyTests(a spec.Alert) []spec.Test {
	svc, p := d.svc, d.p
	step, m := p.step(), p.D(time.Minute)
	c := container(svc, 1, catalog.LabelStatus, "unhealthy")
	return []spec.Test{
		{
			Name:     "fires after a minute unhealthy",
			Interval: step,
			Series:   []spec.Series{series(catalog.ContainerHealthStatus, c, hold(0, m), hold(1, 3*m))},
			Expect: []spec.Expect{
				quiet(m + a.For - step),
				fires(m+a.For, spec.Firing{
					Labels:      c,
					Summary:     c[catalog.LabelName] + " is unhealthy",
					Description: "Docker's healthcheck has failed " + c[catalog.LabelName] + " repeatedly; it may be running without serving. Read its health log with docker inspect.",
				}),
			},
		},
		{
			Name:     "stays quiet while healthy",
			Interval: step,
			Series: []spec.Series{
				series(catalog.ContainerHealthStatus, c, hold(0, 4*m)),
				series(catalog.ContainerHealthStatus, container(svc, 1, catalog.LabelStatus, "healthy"), hold(1, 4*m)),
			},
			Expect: []spec.Expect{quiet(3 * m)},
		},
	}
}

// serviceDown: both sides carry exactly {job}, so the page is the same
// whether the targets answer 0 or are gone.
func (d docker) serviceDown() parser.Expr {
	up := spec.Metric(catalog.Up, spec.Eq("job", d.svc.JobName()))
	return spec.Or(spec.Filter(spec.Max(up, "job"), spec.OpEq, 0), spec.Call("absent", up))
}

func (d docker) whyDown() string {
	return "{{ if eq $value 0.0 }}No target of job {{ $labels.job }} answers Prometheus' scrapes." +
		"{{ else }}Job {{ $labels.job }} has no target: its containers are gone or never started.{{ end }} "
}

func (d docker) terminations(since parser.Expr) parser.Expr {
	return terminationsOf(func(metric string) *parser.VectorSelector { return containers(d.svc, metric) }, d.p, since)
}

func (d docker) termination(last parser.Expr, summary bool) string {
	if summary {
		return " (" + diagnosis(templateQuery(last), false) + ")"
	}
	return diagnosis(templateQuery(last), true)
}

func (d docker) serviceRestarts() parser.Expr {
	return spec.Max(containers(d.svc, catalog.ContainerRestartsTotal))
}

func (d docker) peakMemory(window time.Duration) parser.Expr {
	return spec.Max(spec.Call("max_over_time", spec.Range(containers(d.svc, catalog.ContainerMemoryUsageRatio), window)))
}

func (d docker) impact(since parser.Expr) map[string]string {
	return impactAnnotations(d.svc, since, heldServed(d.svc))
}

// serviceDownTests prove the page's meaning at service scope and each way
// it finds, or does without, its diagnosis.
func (d docker) serviceDownTests(a spec.Alert) []spec.Test {
	svc, p := d.svc, d.p
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
