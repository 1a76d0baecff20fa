package rules

import (
	"time"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/spec"
)

// The runbook's "Common Failure Patterns" as alerts.

// containerOOMKilled fires after the kernel OOM-killed a container, for 15
// minutes from the kill.
//
// One incident, one page: when the kill took the whole service down,
// ServiceDown pages with the kill as its diagnosis, so the kill does not
// page again, neither while ServiceDown fires (the inhibition) nor after
// the service is back (it stays quiet for its window after a ServiceDown
// of the service fired). Its for gives ServiceDown the time to fire first;
// a kill the restart policy recovers from at once, or that leaves other
// replicas serving, pages on its own.
func containerOOMKilled(t platform) spec.Alert {
	p := t.profile()
	window := p.D(15 * time.Minute)
	outage := spec.Call("max_over_time", spec.Range(t.serviceDownAlerts(catalog.Alerts, spec.Eq("alertstate", "firing")), window))
	a := spec.Alert{
		Name:     "ContainerOOMKilled",
		Expr:     spec.UnlessAny(t.oomKilled(window), outage),
		For:      p.D(2 * time.Minute),
		Severity: spec.Critical,
		Summary:  "{{ $labels.name }} was OOM-killed (exit code {{ $labels.exit_code }})",
		Description: "The kernel killed {{ $labels.name }} for exceeding its memory limit (" + queryValue(t.memoryLimit(), "humanize1024", "B", "size unknown") +
			") in the last " + promDuration(window) + ". Raise the limit or find the leak (runbook strategy 4).",
	}
	a.Tests = t.oomTests(a, window)
	return a
}

// containerCrashLooping warns when the platform restarted a container three
// times within 15 minutes (pattern 2), with the restart count and the last
// exit in its description.
func containerCrashLooping(t platform) spec.Alert {
	window := t.profile().D(15 * time.Minute)
	a := spec.Alert{
		Name:     "ContainerCrashLooping",
		Expr:     t.crashLooping(window),
		Severity: spec.Warning,
		Summary:  "{{ $labels.name }} is crash looping",
		Description: t.restarted("{{ $labels.name }}", "{{ printf `%.0f` $value }}", window) +
			" (restart count " + queryValue(t.restartCount(), "", "", "unknown") +
			"); last exit code " + queryValue(t.lastExitCode(), "", "", "unknown") +
			" (" + queryLabel(t.lastReason(), catalog.LabelReason, "unknown") + ").",
	}
	a.Tests = t.crashLoopTests(crashCase{t: t, window: window, step: t.profile().step(), m: t.profile().D(time.Minute)})
	return a
}

// oomPage is what ContainerOOMKilled says of the container labelled l,
// killed with exit code 137 under a 128 MiB limit: its scenarios'
// expectation on every platform.
func oomPage(l map[string]string, window time.Duration) spec.Firing {
	return spec.Firing{
		Labels:  l,
		Summary: l[catalog.LabelName] + " was OOM-killed (exit code 137)",
		Description: "The kernel killed " + l[catalog.LabelName] + " for exceeding its memory limit (128MiB) in the last " +
			promDuration(window) + ". Raise the limit or find the leak (runbook strategy 4).",
	}
}

// crashCase holds the crash loop's shared scenarios on container 1.
type crashCase struct {
	t            platform
	window, step time.Duration
	m            time.Duration
}

// firing is the warning for container 1 after times restarts, with the
// restart count, last exit code and reason its description reads.
func (c crashCase) firing(times, count, exit, reason string) spec.Firing {
	l := c.t.alerted(1)
	return spec.Firing{Labels: l, Summary: l[catalog.LabelName] + " is crash looping",
		Description: c.t.restarted(l[catalog.LabelName], times, c.window) + " (restart count " + count + "); last exit code " + exit + " (" + reason + ")."}
}

// fires: the third restart within the window, after an exit with code 1.
func (c crashCase) fires() spec.Test {
	m := c.m
	return spec.Test{
		Name:     "fires on the third restart and carries the restart count and last exit",
		Interval: c.step,
		Series: append([]spec.Series{c.t.restarts(1, hold(0, m), hold(1, m), hold(2, m), hold(3, 3*m))},
			c.t.lastExit(1, 1, catalog.ReasonError, 6*m)...),
		Expect: []spec.Expect{quiet(3*m - c.step), fires(3*m, c.firing("3", "3", "1", catalog.ReasonError))},
	}
}

// spread: as many restarts, spread wider than the window.
func (c crashCase) spread() spec.Test {
	w := c.window
	return spec.Test{
		Name:     "stays quiet for restarts spread wider than the window",
		Interval: c.step,
		Series:   []spec.Series{c.t.restarts(1, hold(0, w/2), hold(1, w/2), hold(2, w/2), hold(3, w/2))},
		Expect:   []spec.Expect{quiet(2*w - c.step)},
	}
}

// containerUnhealthy warns for a container that runs without serving, as
// the platform's health signal says, for a minute.
func containerUnhealthy(t platform) spec.Alert {
	a := spec.Alert{
		Name:     "ContainerUnhealthy",
		Expr:     t.unhealthy(),
		For:      t.profile().D(time.Minute),
		Severity: spec.Warning,
		Summary:  "{{ $labels.name }} is unhealthy",
	}
	a.Description = t.unhealthyWords(a.For)
	a.Tests = t.unhealthyTests(a)
	return a
}
