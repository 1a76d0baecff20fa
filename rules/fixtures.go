package rules

import (
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/spec"
)

// Expressions and test fixtures shared by the builders, all derived from the
// service they are given.

// defaultTestProject is the compose project of test fixtures when the
// service names none.
const defaultTestProject = "demo"

// containers selects metric for svc's own containers: by compose service
// and, when the spec names one, compose project; never a `docker compose
// run` one-off of the service, which runs its image and limits but is a
// task, not a replica. The matcher is != "true", not == "false", so that
// series without the label (a hand-written exporter or scrape setup) are
// still the service's.
func containers(svc spec.Service, metric string, extra ...*labels.Matcher) *parser.VectorSelector {
	m := []*labels.Matcher{spec.Eq(catalog.LabelComposeService, svc.Name)}
	if svc.ComposeProject != "" {
		m = append(m, spec.Eq(catalog.LabelComposeProject, svc.ComposeProject))
	}
	m = append(m, spec.Neq(catalog.LabelComposeOneoff, catalog.OneoffTrue))
	return spec.Metric(metric, append(m, extra...)...)
}

func testProject(svc spec.Service) string {
	if svc.ComposeProject != "" {
		return svc.ComposeProject
	}
	return defaultTestProject
}

// containerName is replica n's name as compose v2 makes it:
// <project>-<service>-<n>.
func containerName(svc spec.Service, n int) string {
	return testProject(svc) + "-" + svc.Name + "-" + strconv.Itoa(n)
}

// container returns the identity labels of replica n of svc, as
// gateway-exporter publishes them, plus extra.
func container(svc spec.Service, n int, extra ...string) map[string]string {
	out := make(map[string]string, 4+len(extra)/2)
	out[catalog.LabelName] = containerName(svc, n)
	out[catalog.LabelComposeProject] = testProject(svc)
	out[catalog.LabelComposeService] = svc.Name
	out[catalog.LabelComposeOneoff] = catalog.OneoffFalse
	// The scrape configuration labels every exporter series with its host.
	out[catalog.LabelHost] = testHost
	return set(out, extra...)
}

// oneoff returns the identity labels of the n-th `docker compose run` task
// of svc, as gateway-exporter publishes them, plus extra: compose names it
// <project>-<service>-run-<12 hex digits>.
func oneoff(svc spec.Service, n int, extra ...string) map[string]string {
	return container(svc, n, append([]string{
		catalog.LabelName, testProject(svc) + "-" + svc.Name + "-run-a1b2c3d4e5f" + strconv.Itoa(n),
		catalog.LabelComposeOneoff, catalog.OneoffTrue,
	}, extra...)...)
}

// replica returns the labels of the up series of replica n of svc.
func replica(svc spec.Service, n int) map[string]string {
	return target(svc.JobName(), containerName(svc, n)+":8080")
}

// target returns the labels of an up series of job at instance.
func target(job, instance string) map[string]string {
	return map[string]string{"job": job, "instance": instance}
}

// merge returns a copy of a with b's labels added.
func merge(a map[string]string, b ...string) map[string]string {
	out := make(map[string]string, len(a)+len(b)/2)
	for k, v := range a {
		out[k] = v
	}
	return set(out, b...)
}

// set adds the label pairs kv to m. A spec's builders make these maps for
// every replica of every test of every service.
func set(m map[string]string, kv ...string) map[string]string {
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// series is a shorthand for an input series.
func series(metric string, labels map[string]string, segs ...spec.Segment) spec.Series {
	return spec.Series{Metric: metric, Labels: labels, Values: segs}
}

// hold is a segment of constant value v for d.
func hold(v float64, d time.Duration) spec.Segment { return spec.Segment{Value: v, For: d} }

// stale ends a series, as when its target stops being scraped, for d.
func stale(d time.Duration) spec.Segment { return spec.Segment{Stale: true, For: d} }

// quiet expects the alert not to fire at t.
func quiet(t time.Duration) spec.Expect { return spec.Expect{At: t} }

// fires expects the given instances at t.
func fires(t time.Duration, f ...spec.Firing) spec.Expect { return spec.Expect{At: t, Firing: f} }

// containerOnHost identifies one container across hosts: the exporter's
// identity labels and the host label the scrape configuration adds. Absent
// host labels (a hand-written scrape configuration) match as empty.
var containerOnHost = append([]string{catalog.LabelHost}, catalog.ContainerLabels...)

// Hosts of test fixtures: targets and exporter series carry their host
// label, as promgen's scrape configuration sets it.
const (
	testHost      = "node-1"
	otherTestHost = "node-2"
)

// scrapePort is the port of svc's targets in test fixtures.
func scrapePort(svc spec.Service) int {
	if svc.Scrape.Port != 0 {
		return svc.Scrape.Port
	}
	return 8080
}

// onHost returns the labels of replica n's exporter series on host, plus
// extra.
func onHost(svc spec.Service, n int, host string, extra ...string) map[string]string {
	// host last: it wins over a host in extra, as it always has.
	return container(svc, n, append(extra[:len(extra):len(extra)], catalog.LabelHost, host)...)
}

// discovered returns the labels of the up series of replica n of svc on
// host, as docker_sd_configs and promgen's relabelling make it: the
// container's address on Docker's default bridge (the same on every host),
// its name, compose labels and host.
func discovered(svc spec.Service, n int, host string) map[string]string {
	t := onHost(svc, n, host)
	// Discovery leaves one-offs out, so targets carry no compose_oneoff.
	delete(t, catalog.LabelComposeOneoff)
	t["job"], t["instance"] = svc.JobName(), "172.17.0."+strconv.Itoa(n+1)+":"+strconv.Itoa(scrapePort(svc))
	return t
}

// static returns the labels of the up series of a static target of svc:
// no container name, the compose labels promgen's static_configs set.
func static(svc spec.Service, instance string) map[string]string {
	t := target(svc.JobName(), instance)
	t[catalog.LabelComposeService] = svc.Name
	if svc.ComposeProject != "" {
		t[catalog.LabelComposeProject] = svc.ComposeProject
	}
	return t
}
