package rules

import (
	"fmt"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/spec"
)

// ReplicaDown is the Docker target's alone: on Kubernetes a single pod
// down is ContainerUnhealthy's warning.

// ReplicaDown warns when one target of the service does not answer while
// another does: the service serves, with less headroom. It names its own
// container's termination in the annotations. When no target answers,
// ServiceDown pages instead.
func ReplicaDown(svc spec.Service, p Profile) spec.Alert {
	job := svc.JobName()
	up := spec.Metric(catalog.Up, spec.Eq("job", job))
	serving := spec.Filter(spec.Max(up, "job"), spec.OpGt, 0)
	own := spec.Call("scalar", spec.Metric(catalog.AlertsForState,
		append([]*labels.Matcher{spec.Eq("alertname", "ReplicaDown"), spec.Eq("job", job)}, sameAs(catalog.LabelName, catalog.LabelHost)...)...))
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
