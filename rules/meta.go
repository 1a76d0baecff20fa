package rules

import (
	"time"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/spec"
)

// Meta-alerts: the data ServiceDown's diagnosis needs is missing. They warn,
// not page: the service may be fine, but the next page would arrive blind.

// GatewayExporterDown fires when gateway-exporter is not scraped, or not
// configured at all (absent), for 2 minutes.
func GatewayExporterDown(svc spec.Service, src spec.Sources, p Profile) spec.Alert {
	up := spec.Metric(catalog.Up, spec.Eq("job", src.Exporter()))
	a := spec.Alert{
		Name:        "GatewayExporterDown",
		Expr:        spec.Or(spec.Filter(up, spec.OpEq, 0), spec.Call("absent", up)),
		For:         p.D(2 * time.Minute),
		Severity:    spec.Warning,
		Summary:     "gateway-exporter is down: pages arrive without their diagnosis",
		Description: "Prometheus cannot scrape job {{ $labels.job }}; ServiceDown still pages but without exit code, reason, restarts or memory.",
		RunbookURL:  RunbookURL,
	}
	step, m := p.step(), p.D(time.Minute)
	exp := target(src.Exporter(), "localhost:19818")
	desc := "Prometheus cannot scrape job " + src.Exporter() + "; ServiceDown still pages but without exit code, reason, restarts or memory."
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
			Series:   []spec.Series{series(catalog.Up, target(svc.JobName(), "gateway-1:8000"), hold(1, 4*m))},
			Expect: []spec.Expect{
				fires(a.For+m, spec.Firing{Labels: map[string]string{"job": src.Exporter()}, Summary: a.Summary, Description: desc}),
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
func DiagnosisSourceDown(svc spec.Service, p Profile) spec.Alert {
	a := spec.Alert{
		Name:        "DiagnosisSourceDown",
		Expr:        spec.Filter(spec.Metric(catalog.ExporterSourceUp), spec.OpEq, 0),
		For:         p.D(2 * time.Minute),
		Severity:    spec.Warning,
		Summary:     "gateway-exporter cannot reach {{ $labels.source }}",
		Description: "gateway-exporter on {{ $labels.instance }} has lost {{ $labels.source }}; container terminations or memory figures are going stale.",
		RunbookURL:  RunbookURL,
	}
	step, m := p.step(), p.D(time.Minute)
	l := map[string]string{"job": "gateway-exporter", "instance": "localhost:19818", catalog.LabelSource: "docker"}
	a.Tests = []spec.Test{
		{
			Name:     "fires when the Docker API has been unreachable for its for duration",
			Interval: step,
			Series:   []spec.Series{series(catalog.ExporterSourceUp, l, hold(1, m), hold(0, 4*m))},
			Expect: []spec.Expect{
				quiet(m + a.For - step),
				fires(m+a.For, spec.Firing{Labels: l, Summary: "gateway-exporter cannot reach docker",
					Description: "gateway-exporter on localhost:19818 has lost docker; container terminations or memory figures are going stale."}),
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

// CAdvisorDown fires when cAdvisor's target is down for 5 minutes. No absent()
// here: without cAdvisor the exporter reads Docker's stats API instead.
func CAdvisorDown(svc spec.Service, src spec.Sources, p Profile) spec.Alert {
	a := spec.Alert{
		Name:        "CAdvisorDown",
		Expr:        spec.Filter(spec.Metric(catalog.Up, spec.Eq("job", src.CAdvisor())), spec.OpEq, 0),
		For:         p.D(5 * time.Minute),
		Severity:    spec.Warning,
		Summary:     "cAdvisor is down",
		Description: "Prometheus cannot scrape {{ $labels.instance }} of job {{ $labels.job }}; container memory figures from cAdvisor are missing.",
		RunbookURL:  RunbookURL,
	}
	step, m := p.step(), p.D(time.Minute)
	l := target(src.CAdvisor(), "localhost:8080")
	a.Tests = []spec.Test{
		{
			Name:     "fires when its target has been down for its for duration",
			Interval: step,
			Series:   []spec.Series{series(catalog.Up, l, hold(1, m), hold(0, 7*m))},
			Expect: []spec.Expect{
				quiet(m + a.For - step),
				fires(m+a.For, spec.Firing{Labels: l, Summary: "cAdvisor is down",
					Description: "Prometheus cannot scrape localhost:8080 of job " + src.CAdvisor() + "; container memory figures from cAdvisor are missing."}),
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
