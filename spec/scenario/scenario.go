// Package scenario writes the promtool scenarios (spec.Test) that prove an
// alert: input series built segment by segment, the labels gateway-exporter
// and promgen's scrape configuration put on a service's series, and the
// alerts expected over time. The runbook's builders (package rules) write
// their scenarios with it, and a team writes those of its own alerts the
// same way:
//
//	c := scenario.Container(svc, 1)
//	spec.Test{
//		Name:   "fires after 5m above 85% of the limit",
//		Series: []spec.Series{scenario.Series(catalog.ContainerMemoryUsageRatio, c, scenario.Hold(0.5, time.Minute), scenario.Hold(0.87, 6*time.Minute))},
//		Expect: []spec.Expect{scenario.Quiet(6*time.Minute - 15*time.Second), scenario.Fires(6*time.Minute, spec.Firing{Labels: c})},
//	}
//
// Every name is derived from the service given: its compose project
// (default "demo"), service, job and scrape port.
package scenario

import (
	"strconv"
	"time"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/spec"
)

// Series is an input series of metric with labels, segment after segment.
func Series(metric string, labels map[string]string, segs ...spec.Segment) spec.Series {
	return spec.Series{Metric: metric, Labels: labels, Values: segs}
}

// Hold is a segment of constant value v for d.
func Hold(v float64, d time.Duration) spec.Segment { return spec.Segment{Value: v, For: d} }

// Grow is a counter's segment for d: v, then by more at every sample.
func Grow(v, by float64, d time.Duration) spec.Segment {
	return spec.Segment{Value: v, Increase: by, For: d}
}

// Stale ends a series, as when its target stops being scraped, for d:
// Prometheus writes a staleness marker, so the series is gone at once.
func Stale(d time.Duration) spec.Segment { return spec.Segment{Stale: true, For: d} }

// Gap leaves a series without samples for d and writes no staleness
// marker: a series not yet born, or every series while Prometheus itself
// restarts. A last sample before it still answers queries for the 5m
// lookback.
func Gap(d time.Duration) spec.Segment { return spec.Segment{Gap: true, For: d} }

// Quiet expects the alert not to fire at t.
func Quiet(t time.Duration) spec.Expect { return spec.Expect{At: t} }

// Fires expects exactly the instances f at t.
func Fires(t time.Duration, f ...spec.Firing) spec.Expect { return spec.Expect{At: t, Firing: f} }

// Hosts of the series a scenario writes: targets and exporter series carry
// their host label, as promgen's scrape configuration sets it.
const (
	Host      = "node-1"
	OtherHost = "node-2"
)

// defaultProject is the compose project of a service that names none.
const defaultProject = "demo"

func project(svc spec.Service) string {
	if svc.ComposeProject != "" {
		return svc.ComposeProject
	}
	return defaultProject
}

// ContainerName is replica n's name as compose v2 makes it:
// <project>-<service>-<n>.
func ContainerName(svc spec.Service, n int) string {
	return project(svc) + "-" + svc.Name + "-" + strconv.Itoa(n)
}

// Container returns the labels gateway-exporter publishes for replica n of
// svc, on Host, plus the label pairs extra.
func Container(svc spec.Service, n int, extra ...string) map[string]string {
	out := make(map[string]string, 5+len(extra)/2)
	out[catalog.LabelName] = ContainerName(svc, n)
	out[catalog.LabelComposeProject] = project(svc)
	out[catalog.LabelComposeService] = svc.Name
	out[catalog.LabelComposeOneoff] = catalog.OneoffFalse
	out[catalog.LabelHost] = Host
	return set(out, extra...)
}

// OneOff returns the labels gateway-exporter publishes for the n-th
// `docker compose run` task of svc, plus extra: compose names it
// <project>-<service>-run-<12 hex digits>.
func OneOff(svc spec.Service, n int, extra ...string) map[string]string {
	return Container(svc, n, append([]string{
		catalog.LabelName, project(svc) + "-" + svc.Name + "-run-a1b2c3d4e5f" + strconv.Itoa(n),
		catalog.LabelComposeOneoff, catalog.OneoffTrue,
	}, extra...)...)
}

// OnHost returns the labels of replica n's exporter series on host, plus
// extra.
func OnHost(svc spec.Service, n int, host string, extra ...string) map[string]string {
	// host last: it wins over a host in extra.
	return Container(svc, n, append(extra[:len(extra):len(extra)], catalog.LabelHost, host)...)
}

// Target returns the labels of an up series of job at instance.
func Target(job, instance string) map[string]string {
	return map[string]string{"job": job, "instance": instance}
}

// Replica returns the labels of the up series of replica n of svc, scraped
// by its container name.
func Replica(svc spec.Service, n int) map[string]string {
	return Target(svc.JobName(), ContainerName(svc, n)+":8080")
}

// Discovered returns the labels of the up series of replica n of svc on
// host, as docker_sd_configs and promgen's relabelling make them: the
// container's address on Docker's default bridge (the same on every host),
// its name, compose labels and host.
func Discovered(svc spec.Service, n int, host string) map[string]string {
	t := OnHost(svc, n, host)
	// Discovery leaves one-offs out, so targets carry no compose_oneoff.
	delete(t, catalog.LabelComposeOneoff)
	port := svc.Scrape.Port
	if port == 0 {
		port = 8080
	}
	t["job"], t["instance"] = svc.JobName(), "172.17.0."+strconv.Itoa(n+1)+":"+strconv.Itoa(port)
	return t
}

// Static returns the labels of the up series of svc's static target
// instance: no container name, the compose labels promgen's static_configs
// set.
func Static(svc spec.Service, instance string) map[string]string {
	t := Target(svc.JobName(), instance)
	t[catalog.LabelComposeService] = svc.Name
	if svc.ComposeProject != "" {
		t[catalog.LabelComposeProject] = svc.ComposeProject
	}
	return t
}

// Merge returns a copy of a with the label pairs kv added.
func Merge(a map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(a)+len(kv)/2)
	for k, v := range a {
		out[k] = v
	}
	return set(out, kv...)
}

// set adds the label pairs kv to m, in place: builders make these maps for
// every replica of every test of every service.
func set(m map[string]string, kv ...string) map[string]string {
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}
