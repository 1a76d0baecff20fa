package rules

import (
	"fmt"
	"time"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/spec"
)

// HighMemoryUsage warns when the working set stays above 85% of the memory
// limit for 5 minutes (runbook, "Monitoring Improvements").
func HighMemoryUsage(svc spec.Service, p Profile) spec.Alert {
	return memoryAlert(svc, p, "HighMemoryUsage", 0.85, p.D(5*time.Minute), spec.Warning, "")
}

// CriticalMemoryUsage says an OOM kill is imminent: above 95% for 2 minutes.
func CriticalMemoryUsage(svc spec.Service, p Profile) spec.Alert {
	return memoryAlert(svc, p, "CriticalMemoryUsage", 0.95, p.D(2*time.Minute), spec.Critical, ": OOM kill imminent")
}

// memoryAlert watches gateway-exporter's working-set ratio, which is absent
// for a container without a limit; lint rejects the alert on such a service.
// Working set, not usage: page cache inflates usage but is reclaimed before
// the OOM killer acts.
func memoryAlert(svc spec.Service, p Profile, name string, threshold float64, forDur time.Duration, sev spec.Severity, warning string) spec.Alert {
	a := spec.Alert{
		Name:     name,
		Expr:     spec.Filter(containers(svc, catalog.ContainerMemoryUsageRatio), spec.OpGt, threshold),
		For:      forDur,
		Severity: sev,
		Summary:  "{{ $labels.name }} is using {{ $value | humanizePercentage }} of its memory limit" + warning,
		Description: fmt.Sprintf("The working set of {{ $labels.name }} has been above %.0f%% of its ", threshold*100) +
			"memory limit (" + queryValue(spec.Metric(catalog.ContainerMemoryLimitBytes, sameAs(catalog.LabelName, catalog.LabelHost)...), "humanize1024", "B", "size unknown") + ") for " + promDuration(forDur) +
			" (now {{ $value | humanizePercentage }}).",
	}
	step, lead := p.step(), p.D(time.Minute)
	c := container(svc, 1)
	limitSeries := series(catalog.ContainerMemoryLimitBytes, c, hold(float64(4*spec.GiB), lead+forDur+lead))
	above := threshold + 0.02
	pct := fmt.Sprintf("%.0f%%", above*100)
	firing := spec.Firing{
		Labels:  c,
		Summary: fmt.Sprintf("%s is using %s of its memory limit%s", c[catalog.LabelName], pct, warning),
		Description: fmt.Sprintf("The working set of %s has been above %.0f%% of its memory limit (4GiB) for %s (now %s).",
			c[catalog.LabelName], threshold*100, promDuration(forDur), pct),
	}
	// A `docker compose run` task of the service, with its limit, and the
	// serving container as a hand-written setup labels it.
	run := oneoff(svc, 1)
	bare := merge(c)
	delete(bare, catalog.LabelComposeOneoff)
	a.Tests = []spec.Test{
		{
			Name:     fmt.Sprintf("fires after %s above %.0f%% of the limit", forDur, threshold*100),
			Interval: step,
			Series: []spec.Series{
				series(catalog.ContainerMemoryUsageRatio, c, hold(0.5, lead), hold(above, forDur+lead)),
				limitSeries,
			},
			Expect: []spec.Expect{quiet(lead + forDur - step), fires(lead+forDur, firing)},
		},
		{
			Name:     fmt.Sprintf("stays quiet just below %.0f%%", threshold*100),
			Interval: step,
			Series: []spec.Series{
				series(catalog.ContainerMemoryUsageRatio, c, hold(threshold-0.01, lead+forDur+lead)),
				limitSeries,
			},
			Expect: []spec.Expect{quiet(lead + forDur)},
		},
		{
			Name:     fmt.Sprintf("stays quiet while a docker compose run one-off of the service sits at %s of its limit", pct),
			Interval: step,
			Series: []spec.Series{
				series(catalog.ContainerMemoryUsageRatio, c, hold(0.5, lead+forDur+lead)),
				series(catalog.ContainerMemoryUsageRatio, run, hold(above, lead+forDur+lead)),
				limitSeries,
			},
			Expect: []spec.Expect{quiet(lead + forDur)},
		},
		{
			Name:     fmt.Sprintf("fires for the serving container only when it and a one-off are both at %s", pct),
			Interval: step,
			Series: []spec.Series{
				series(catalog.ContainerMemoryUsageRatio, c, hold(0.5, lead), hold(above, forDur+lead)),
				series(catalog.ContainerMemoryUsageRatio, run, hold(above, lead+forDur+lead)),
				limitSeries,
			},
			Expect: []spec.Expect{quiet(lead + forDur - step), fires(lead+forDur, firing)},
		},
		{
			Name:     "fires for series without compose_oneoff, as a hand-written setup publishes them",
			Interval: step,
			Series: []spec.Series{
				series(catalog.ContainerMemoryUsageRatio, bare, hold(0.5, lead), hold(above, forDur+lead)),
				limitSeries,
			},
			Expect: []spec.Expect{quiet(lead + forDur - step), fires(lead+forDur, spec.Firing{Labels: bare, Summary: firing.Summary, Description: firing.Description})},
		},
		{
			Name:     "forgives a spike shorter than its for duration",
			Interval: step,
			Series: []spec.Series{
				series(catalog.ContainerMemoryUsageRatio, c, hold(above, forDur-step), hold(0.5, lead+step+lead)),
				limitSeries,
			},
			Expect: []spec.Expect{quiet(forDur), quiet(forDur + lead)},
		},
	}
	return a
}
