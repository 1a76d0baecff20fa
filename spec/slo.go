package spec

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// SLO is a service level objective of a service: the share of good events
// over a window. promgen records its error ratios over the windows its
// burn-rate alerts need, the remaining error budget, and the alerts of the
// Google SRE workbook's multi-window, multi-burn-rate scheme.
type SLO struct {
	// Name is the objective's name, the slo label of its series, in
	// lower-case (e.g. "availability", "latency").
	Name string
	// Objective is the target share of good events, e.g. 0.999.
	Objective float64
	// Window is the compliance window, e.g. 30 days.
	Window time.Duration
	// Exactly one SLI.
	Availability *AvailabilitySLI
	Latency      *LatencySLI
}

// AvailabilitySLI counts failed requests as bad, and the time no replica
// of the service answers (or none is left) as wholly bad: its own counters
// stop exactly when the runbook calls the error rate 100%.
type AvailabilitySLI struct {
	// Requests is the request counter, e.g. http_requests_total.
	Requests string
	// Errors selects the failed requests among them, e.g. Re("status", "5..").
	Errors []*labels.Matcher
}

// LatencySLI counts requests slower than a threshold as bad, from a
// histogram.
type LatencySLI struct {
	// Histogram is the histogram's name without _bucket, e.g.
	// http_request_duration_seconds.
	Histogram string
	// Threshold in seconds; it must be one of Buckets.
	Threshold float64
	// Buckets are the histogram's upper bounds, as the service declares
	// them: a threshold between two buckets cannot be measured.
	Buckets []float64
}

// Budget is the error budget, 1 - Objective, without the float noise of
// the subtraction (0.001, not 0.0010000000000000009).
func (o SLO) Budget() float64 { return Round(1 - o.Objective) }

// Round rounds v to 12 significant digits: thresholds computed from an
// objective read as written.
func Round(v float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 12, 64), 64)
	return r
}

// BurnWindow is one pair of alert windows: the alert fires when the error
// ratio over both exceeds Factor times the budget.
//
// BurnWindows are the multi-window, multi-burn-rate alert windows of the
// Google SRE workbook (chapter 5, table 5-8) for a 30-day window, scaled to
// the SLO's window so that each burn rate spends the same share of budget.
type BurnWindow struct {
	Long, Short time.Duration
	Factor      float64
	Page        bool
}

// BurnWindows returns the SLO's alert windows: two page (fast burn) and two
// ticket (slow burn), long and short each.
func (o SLO) BurnWindows() []BurnWindow {
	scale := func(d time.Duration) time.Duration {
		// Scaled windows are rounded to the second.
		return (time.Duration(float64(d) * float64(o.Window) / float64(30*24*time.Hour))).Round(time.Second)
	}
	return []BurnWindow{
		{Long: scale(time.Hour), Short: scale(5 * time.Minute), Factor: 14.4, Page: true},
		{Long: scale(6 * time.Hour), Short: scale(30 * time.Minute), Factor: 6, Page: true},
		{Long: scale(24 * time.Hour), Short: scale(2 * time.Hour), Factor: 3},
		{Long: scale(3 * 24 * time.Hour), Short: scale(6 * time.Hour), Factor: 1},
	}
}

// NowWindow is the window of the burn alerts' "now" condition: a fifth of
// the shortest alert window (1m of a 30-day objective). A burn alert fires
// only while the error ratio over it, or the service being down, says the
// budget is still burning, so an incident that is over sends nothing more
// although the longer windows still hold it (docs/slo.md).
func (o SLO) NowWindow() time.Duration { return (o.BurnWindows()[0].Short / 5).Round(time.Second) }

// ImpactWindow is the window the incident's impact is recorded over: an
// hour of a 30-day objective, scaled with the objective's window as the
// alert windows are.
func (o SLO) ImpactWindow() time.Duration { return (o.Window / 720).Round(time.Second) }

// Measurable says whether the objective's window yields alert windows
// Prometheus can evaluate. The rule builders skip an objective that is
// not, and leave the error to Validate, which names the field: they run
// before validation, on whatever a spec file holds.
func (o SLO) Measurable() bool { return o.windowProblem() == "" }

func (o SLO) windowProblem() string {
	if o.Window <= 0 {
		return "must be positive"
	}
	if short := o.BurnWindows()[0].Short; short < 30*time.Second {
		return fmt.Sprintf("%s is too short: its shortest alert window would be %s, under 30s", model.Duration(o.Window), short)
	}
	return ""
}

// Ranges returns every window the SLO's error ratio is recorded over,
// shortest first.
func (o SLO) Ranges() []time.Duration {
	var out []time.Duration
	for _, w := range o.BurnWindows() {
		out = append(out, w.Long, w.Short)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (v *validator) slos(s *Service) {
	seen := map[string]bool{}
	for i, o := range s.SLOs {
		at := func(field, format string, args ...any) {
			v.add(FieldError{Service: s.Name, Field: fmt.Sprintf("slos[%d]%s", i, field), Problem: fmt.Sprintf(format, args...)})
		}
		switch {
		case !sloNameRE.MatchString(o.Name):
			at(".name", "%q is not a lower-case name (letters, digits, '_')", o.Name)
		case seen[o.Name]:
			at(".name", "duplicate objective %q", o.Name)
		}
		seen[o.Name] = true
		if !(o.Objective > 0 && o.Objective < 1) || math.IsNaN(o.Objective) {
			at(".objective", "%v must be above 0 and below 1 (an objective of 100%% leaves no error budget)", o.Objective)
		}
		if r := v.spec.Prometheus.Retention; r > 0 && o.Window > r {
			at(".window", "objective %q: %s is longer than prometheus.retention %s: Prometheus would compute its budget over part of the window", o.Name, model.Duration(o.Window), model.Duration(r))
		}
		if p := o.windowProblem(); p != "" {
			at(".window", "%s", p)
		}
		switch {
		case (o.Availability == nil) == (o.Latency == nil):
			at("", "set exactly one of availability and latency")
		case o.Availability != nil:
			if !model.IsValidLegacyMetricName(o.Availability.Requests) {
				at(".availability.requests", "%q is not a metric name", o.Availability.Requests)
			}
			if len(o.Availability.Errors) == 0 {
				at(".availability.errors", "no matcher: every request would count as an error")
			}
		case o.Latency != nil:
			l := o.Latency
			if !model.IsValidLegacyMetricName(l.Histogram + "_bucket") {
				at(".latency.histogram", "%q is not a metric name", l.Histogram)
			}
			if !slices.Contains(l.Buckets, l.Threshold) {
				at(".latency.threshold", "%vs is not a bucket boundary of %s (%v): the share of slower requests cannot be read from the histogram", l.Threshold, l.Histogram, l.Buckets)
			}
		}
	}
}

var sloNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
