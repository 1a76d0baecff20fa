package rules

import (
	"fmt"
	"time"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/spec"
)

func highMemoryUsage(t platform) spec.Alert {
	return memoryAlert(t, "HighMemoryUsage", 0.85, t.profile().D(5*time.Minute), spec.Warning, "")
}

func criticalMemoryUsage(t platform) spec.Alert {
	return memoryAlert(t, "CriticalMemoryUsage", 0.95, t.profile().D(2*time.Minute), spec.Critical, ": OOM kill imminent")
}

// memoryAlert watches each container's working set against its memory
// limit. Working set, not usage: page cache inflates usage but is
// reclaimed before the OOM killer acts.
func memoryAlert(t platform, name string, threshold float64, forDur time.Duration, sev spec.Severity, warning string) spec.Alert {
	a := spec.Alert{
		Name:     name,
		Expr:     t.memoryAbove(threshold),
		For:      forDur,
		Severity: sev,
		Summary:  "{{ $labels.name }} is using {{ $value | humanizePercentage }} of its memory limit" + warning,
		Description: fmt.Sprintf("The working set of {{ $labels.name }} has been above %.0f%% of its ", threshold*100) +
			"memory limit (" + queryValue(t.memoryLimit(), "humanize1024", "B", "size unknown") + ") for " + promDuration(forDur) +
			" (now {{ $value | humanizePercentage }}).",
	}
	a.Tests = t.memoryTests(newMemoryCase(t, threshold, forDur, warning))
	return a
}

// memoryCase holds a memory alert's shared scenarios: container 1 of the
// service against a 4 GiB limit.
type memoryCase struct {
	t                  platform
	threshold, above   float64
	forDur, step, lead time.Duration
	limit              float64
	pct                string
	firing             spec.Firing
}

func newMemoryCase(t platform, threshold float64, forDur time.Duration, warning string) memoryCase {
	p := t.profile()
	c := memoryCase{t: t, threshold: threshold, above: threshold + 0.02, forDur: forDur, step: p.step(), lead: p.D(time.Minute), limit: float64(4 * spec.GiB)}
	c.pct = fmt.Sprintf("%.0f%%", c.above*100)
	name := t.alerted(1)[catalog.LabelName]
	c.firing = spec.Firing{
		Labels:  t.alerted(1),
		Summary: fmt.Sprintf("%s is using %s of its memory limit%s", name, c.pct, warning),
		Description: fmt.Sprintf("The working set of %s has been above %.0f%% of its memory limit (4GiB) for %s (now %s).",
			name, threshold*100, promDuration(forDur), c.pct),
	}
	return c
}

// fires: above the threshold for the for duration.
func (c memoryCase) fires() spec.Test {
	return spec.Test{
		Name:     fmt.Sprintf("fires after %s above %.0f%% of the limit", c.forDur, c.threshold*100),
		Interval: c.step,
		Series:   c.t.memory(1, c.limit, hold(0.5, c.lead), hold(c.above, c.forDur+c.lead)),
		Expect:   []spec.Expect{quiet(c.lead + c.forDur - c.step), fires(c.lead+c.forDur, c.firing)},
	}
}

// quietBelow: just below the threshold.
func (c memoryCase) quietBelow() spec.Test {
	return spec.Test{
		Name:     fmt.Sprintf("stays quiet just below %.0f%%", c.threshold*100),
		Interval: c.step,
		Series:   c.t.memory(1, c.limit, hold(c.threshold-0.01, c.lead+c.forDur+c.lead)),
		Expect:   []spec.Expect{quiet(c.lead + c.forDur)},
	}
}

// forgivesSpike: above the threshold for less than the for duration.
func (c memoryCase) forgivesSpike() spec.Test {
	return spec.Test{
		Name:     "forgives a spike shorter than its for duration",
		Interval: c.step,
		Series:   c.t.memory(1, c.limit, hold(c.above, c.forDur-c.step), hold(0.5, c.lead+c.step+c.lead)),
		Expect:   []spec.Expect{quiet(c.forDur), quiet(c.forDur + c.lead)},
	}
}
