package rules

import (
	"fmt"
	"strings"
	"time"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/spec"
)

// Pipeline alerts: the data the services' pages are diagnosed with is
// missing. They are declared once per spec, not per service, and warn, not
// page: the services may be fine, but their next page would arrive blind.

// exporterInstance is the instance of gateway-exporter in test fixtures, at
// its documented default port.
const exporterInstance = "localhost:19818"

// blind names the services of s whose pages lose their diagnosis, at most
// a handful by name so the annotation stays readable for large specs.
func blind(s spec.Spec) string {
	const shown = 5
	names := make([]string, 0, min(len(s.Services), shown))
	for i, svc := range s.Services {
		if i == shown {
			break
		}
		names = append(names, svc.Name)
	}
	out := strings.Join(names, ", ")
	if n := len(s.Services) - len(names); n > 0 {
		out += fmt.Sprintf(" and %d more", n)
	}
	return out
}

// GatewayExporterDown fires when gateway-exporter is not scraped, or not
// configured at all (absent), for 2 minutes. It keeps firing for as long
// again, so an exporter that flaps does not warn over and over.
func GatewayExporterDown(s spec.Spec, p Profile) spec.Alert {
	job := s.Sources.Exporter()
	up := spec.Metric(catalog.Up, spec.Eq("job", job))
	desc := "Prometheus cannot scrape job " + job + ": the container alerts (OOM kill, crash loop, health, memory) of " + blind(s) +
		" cannot fire, and their ServiceDown pages arrive without exit code, reason, restarts or memory."
	a := spec.Alert{
		Name:          "GatewayExporterDown",
		Expr:          spec.Or(spec.Filter(up, spec.OpEq, 0), spec.Call("absent", up)),
		For:           p.D(2 * time.Minute),
		KeepFiringFor: p.D(2 * time.Minute),
		Severity:      spec.Warning,
		Summary:       "gateway-exporter is down: pages arrive without their diagnosis",
		Description:   desc,
	}
	step, m := p.step(), p.D(time.Minute)
	exp := target(job, exporterInstance)
	var other map[string]string
	if len(s.Services) > 0 {
		other = replica(s.Services[0], 1)
	} else {
		other = target("other", "localhost:9090")
	}
	a.Tests = []spec.Test{
		{
			Name:     "fires when its target is down",
			Interval: step,
			Series:   []spec.Series{series(catalog.Up, exp, hold(1, m), hold(0, 4*m))},
			Expect: []spec.Expect{
				quiet(m + a.For - step),
				fires(m+a.For, spec.Firing{Labels: exp, Summary: a.Summary, Description: desc}),
			},
		},
		{
			Name:     "fires when no target of its job exists",
			Interval: step,
			Series:   []spec.Series{series(catalog.Up, other, hold(1, 4*m))},
			Expect: []spec.Expect{
				fires(a.For+m, spec.Firing{Labels: map[string]string{"job": job}, Summary: a.Summary, Description: desc}),
			},
		},
		{
			Name:     "stays quiet while scraped",
			Interval: step,
			Series:   []spec.Series{series(catalog.Up, exp, hold(1, 4*m))},
			Expect:   []spec.Expect{quiet(3 * m)},
		},
	}
	return a
}

// DiagnosisSourceDown fires when gateway-exporter is up but cannot reach one
// of its sources (Docker, cAdvisor) for 2 minutes.
func DiagnosisSourceDown(s spec.Spec, p Profile) spec.Alert {
	job := s.Sources.Exporter()
	a := spec.Alert{
		Name:          "DiagnosisSourceDown",
		Expr:          spec.Filter(spec.Metric(catalog.ExporterSourceUp, spec.Eq("job", job)), spec.OpEq, 0),
		For:           p.D(2 * time.Minute),
		KeepFiringFor: p.D(2 * time.Minute),
		Severity:      spec.Warning,
		Summary:       "gateway-exporter cannot reach {{ $labels.source }}",
		Description: "gateway-exporter on {{ $labels.instance }} has lost {{ $labels.source }}: container terminations or memory figures of " +
			blind(s) + " are going stale, and their pages lose that diagnosis.",
	}
	step, m := p.step(), p.D(time.Minute)
	l := merge(target(job, exporterInstance), catalog.LabelSource, "docker")
	a.Tests = []spec.Test{
		{
			Name:     "fires when the Docker API has been unreachable for its for duration",
			Interval: step,
			Series:   []spec.Series{series(catalog.ExporterSourceUp, l, hold(1, m), hold(0, 4*m))},
			Expect: []spec.Expect{
				quiet(m + a.For - step),
				fires(m+a.For, spec.Firing{Labels: l, Summary: "gateway-exporter cannot reach docker",
					Description: "gateway-exporter on " + exporterInstance + " has lost docker: container terminations or memory figures of " +
						blind(s) + " are going stale, and their pages lose that diagnosis."}),
			},
		},
		{
			Name:     "stays quiet while every source answers",
			Interval: step,
			Series:   []spec.Series{series(catalog.ExporterSourceUp, l, hold(1, 4*m))},
			Expect:   []spec.Expect{quiet(3 * m)},
		},
	}
	return a
}

// CAdvisorDown fires when cAdvisor's target is down for 5 minutes, and keeps
// firing as long again: a slow cAdvisor answers a scrape now and then. No
// absent() here: without cAdvisor the exporter reads Docker's stats API.
func CAdvisorDown(s spec.Spec, p Profile) spec.Alert {
	job := s.Sources.CAdvisor()
	a := spec.Alert{
		Name:          "CAdvisorDown",
		Expr:          spec.Filter(spec.Metric(catalog.Up, spec.Eq("job", job)), spec.OpEq, 0),
		For:           p.D(5 * time.Minute),
		KeepFiringFor: p.D(5 * time.Minute),
		Severity:      spec.Warning,
		Summary:       "cAdvisor is down",
		Description:   "Prometheus cannot scrape {{ $labels.instance }} of job {{ $labels.job }}; cAdvisor's container memory figures of " + blind(s) + " are missing.",
	}
	step, m := p.step(), p.D(time.Minute)
	l := target(job, "localhost:8080")
	a.Tests = []spec.Test{
		{
			Name:     "fires when its target has been down for its for duration",
			Interval: step,
			Series:   []spec.Series{series(catalog.Up, l, hold(1, m), hold(0, 7*m))},
			Expect: []spec.Expect{
				quiet(m + a.For - step),
				fires(m+a.For, spec.Firing{Labels: l, Summary: "cAdvisor is down",
					Description: "Prometheus cannot scrape localhost:8080 of job " + job + "; cAdvisor's container memory figures of " + blind(s) + " are missing."}),
			},
		},
		{
			Name:     "keeps firing through one answered scrape, and resolves once scraped for its keep_firing_for",
			Interval: step,
			Series:   []spec.Series{series(catalog.Up, l, hold(0, a.For+2*step), hold(1, step), hold(0, step), hold(1, a.KeepFiringFor+2*step))},
			Expect: []spec.Expect{
				fires(a.For+2*step, spec.Firing{Labels: l, Summary: "cAdvisor is down",
					Description: "Prometheus cannot scrape localhost:8080 of job " + job + "; cAdvisor's container memory figures of " + blind(s) + " are missing."}),
				fires(a.For+4*step, spec.Firing{Labels: l, Summary: "cAdvisor is down",
					Description: "Prometheus cannot scrape localhost:8080 of job " + job + "; cAdvisor's container memory figures of " + blind(s) + " are missing."}),
				quiet(a.For + 4*step + a.KeepFiringFor),
			},
		},
		{
			Name:     "stays quiet while scraped",
			Interval: step,
			Series:   []spec.Series{series(catalog.Up, l, hold(1, 8*m))},
			Expect:   []spec.Expect{quiet(7 * m)},
		},
	}
	return a
}
