package rules

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/conventions"
	"github.com/sre-tools/promgen/spec"
)

// Service level objectives, after the Google SRE workbook (chapter 5) and
// with Sloth's semantics, so a team can compare: error ratios recorded over
// every alert window, a page when two windows burn the budget fast, a ticket
// when two burn it slowly. Unlike Sloth's rules:
//   - an availability SLI counts the time no replica answers (or no target
//     is left at all) as wholly bad, at the traffic of the time up, so an
//     outage burns budget although the service's own counters stop, and a
//     stopped replica whose sibling serves every request burns none;
//   - a ratio over a window without a request is absent, never NaN;
//   - each burn alert also needs the budget burning now (the ratio over a
//     fifth of the shortest window, with the service's up now), so an
//     incident that is over sends nothing more;
//   - ratios are recorded as one series per objective (sum, no other labels),
//     so a label that comes and goes cannot break a long window;
//   - the alerts carry the service and severity labels, so ServiceDown
//     inhibits the burn-rate page of its own service;
//   - what no page reads (the 1d and 3d windows, composed from recorded 5m
//     rates, and the budget) runs in a slow group of its own, a fifth as
//     often at 30s: docs/rule-cost.md has what that saves.

func impactWindow(o spec.SLO) time.Duration { return o.ImpactWindow() }

func recordDowntime(o spec.SLO) string     { return catalog.RecordDowntime(impactWindow(o)) }
func recordRequestsLost(o spec.SLO) string { return catalog.RecordRequestsLost(impactWindow(o)) }
func recordBudgetSpent(o spec.SLO) string  { return catalog.RecordBudgetSpent(impactWindow(o)) }

// Recorded names, from the catalog.
const (
	recordUpMax           = catalog.RecordUpMax
	recordRequestsRate    = catalog.RecordRequestsRate
	recordBudgetRemaining = catalog.RecordBudgetRemaining
)

var recordErrorRatio = catalog.RecordErrorRatio

// SLOs returns the recording rules and burn-rate alerts of every objective
// of svc: add them to svc.Records and svc.Alerts. A service with an
// availability objective also records the incident's impact (the runbook's
// "Calculate Impact" step): downtime, requests lost and budget spent.
func SLOs(svc spec.Service) ([]spec.Record, []spec.Alert) {
	var recs []spec.Record
	var alerts []spec.Alert
	impact := false
	for _, o := range svc.SLOs {
		if !o.Measurable() {
			continue
		}
		if a := o.Availability; a != nil && !impact {
			recs = append(recs, impactRecords(svc, o)...)
			impact = true
		}
		r, a := slo(svc, o)
		recs, alerts = append(recs, r...), append(alerts, a...)
	}
	return recs, alerts
}

func slo(svc spec.Service, o spec.SLO) ([]spec.Record, []spec.Alert) {
	sloLabel := map[string]string{catalog.LabelSLO: o.Name}
	// The rates first: rules of a group run in order, and the ratios read
	// this evaluation's.
	shortest := o.Ranges()[0]
	errs, all := sliRates(svc, o, shortest)
	recs := []spec.Record{
		{Name: catalog.RecordEventsRate(shortest), Expr: all, Labels: sloLabel},
		{Name: catalog.RecordErrorsRate(shortest), Expr: errs, Labels: sloLabel},
		{Name: recordErrorRatio(o.NowWindow()), Expr: nowRatio(svc, o), Labels: sloLabel},
	}
	// What no page reads, the tickets' long windows and the budget, is
	// evaluated in a slow group: a tenth as often at a 15s interval.
	slow := slowInterval(svc, o)
	for _, w := range o.Ranges() {
		r := spec.Record{Name: recordErrorRatio(w), Expr: errorRatio(svc, o, w), Labels: sloLabel}
		if ticketOnly(o, w) {
			r.Interval = slow
		}
		recs = append(recs, r)
	}
	recs = append(recs,
		spec.Record{
			Name: recordBudgetRemaining,
			Expr: spec.Sub(spec.Num(1), spec.Binary(parser.DIV,
				spec.Call("avg_over_time", spec.Range(recorded(svc, o, recordErrorRatio(shortest)), o.Window)), spec.Num(o.Budget()))),
			Labels:   sloLabel,
			Interval: slow,
		},
		spec.Record{
			Name: recordBudgetSpent(o),
			Expr: spec.Binary(parser.DIV, spec.Binary(parser.MUL, recorded(svc, o, recordErrorRatio(longestUpTo(o, impactWindow(o)))), spec.Num(impactWindow(o).Seconds())),
				spec.Num(o.Budget()*o.Window.Seconds())),
			Labels: sloLabel,
		},
	)
	recs[len(recs)-2].Tests = []spec.Test{idleTest(svc, o)}
	return recs, burnAlerts(svc, o)
}

// prometheusLookback is Prometheus' default --query.lookback-delta: an
// instant query sees a series whose last sample is at most this old.
const prometheusLookback = 5 * time.Minute

// slowInterval is the interval of o's slow group: half its shortest window
// (2m30s of a 30-day objective), at most half the lookback, so a slow
// record stays visible between two evaluations even when one runs late;
// zero, the service's own group, when that is no slower.
func slowInterval(svc spec.Service, o spec.SLO) time.Duration {
	d := min(o.Ranges()[0], prometheusLookback) / 2
	if d <= svc.EvaluationInterval {
		return 0
	}
	return d
}

// idleTest is a service up and serving nothing for twice the shortest
// window, after an hour of traffic: no series the objective records may
// be NaN, and a ratio with no request in its window is absent.
func idleTest(svc spec.Service, o spec.SLO) spec.Test {
	step, long, idle := o.Ranges()[0]/10, o.BurnWindows()[0].Long, 2*o.Ranges()[0]
	at := long + idle
	windows := append(o.Ranges(), o.NowWindow())
	var qs []spec.Query
	for _, w := range windows {
		qs = append(qs, isNumber(recorded(svc, o, recordErrorRatio(w)), at, o.Latency != nil && w <= idle))
	}
	shortest := o.Ranges()[0]
	qs = append(qs, isNumber(recorded(svc, o, recordBudgetRemaining), at, false), isNumber(recorded(svc, o, recordBudgetSpent(o)), at, false),
		isNumber(recorded(svc, o, catalog.RecordEventsRate(shortest)), at, false), isNumber(recorded(svc, o, catalog.RecordErrorsRate(shortest)), at, false))
	if o.Availability != nil {
		for _, name := range []string{recordUpMax, recordRequestsRate, recordDowntime(o), recordRequestsLost(o)} {
			qs = append(qs, isNumber(spec.Metric(name, spec.Eq(conventions.LabelService, svc.Name)), at, false))
		}
	}
	return spec.Test{
		Name:     fmt.Sprintf("no series is NaN after %s without a request", promDuration(idle)),
		Interval: step,
		Series:   sliSeries(svc, o, step, phase{d: long}, phase{d: idle, idle: true}),
		Queries:  qs,
	}
}

// longestUpTo is the longest recorded window not above d.
func longestUpTo(o spec.SLO, d time.Duration) time.Duration {
	best := o.Ranges()[0]
	for _, w := range o.Ranges() {
		if w <= d {
			best = w
		}
	}
	return best
}

// jobUp is up of the service's targets.
func jobUp(svc spec.Service) *parser.VectorSelector {
	return spec.Metric(catalog.Up, spec.Eq("job", svc.JobName()))
}

// errorRatio is the SLO's bad share over w. The shortest window reads
// the objective's recorded rates; a ticket's window sums them over time,
// as Sloth and Pyrra compose their long windows: one recorded series
// each, already summed over replicas and labels, rather than every raw
// counter over a day or three.
func errorRatio(svc spec.Service, o spec.SLO, w time.Duration) parser.Expr {
	up := spec.Aggregate(parser.AVG, spec.Call("avg_over_time", spec.Range(serviceUp(svc), w)))
	shortest := o.Ranges()[0]
	errsRec, allRec := recorded(svc, o, catalog.RecordErrorsRate(shortest)), recorded(svc, o, catalog.RecordEventsRate(shortest))
	switch {
	case w == shortest:
		return ratio(o, spec.Aggregate(parser.SUM, errsRec), spec.Aggregate(parser.SUM, allRec), up)
	case ticketOnly(o, w):
		// The sums of rates over the same samples: the ratio of the
		// window's events, weighted by traffic. While no replica answers
		// the rates are absent and add nothing; up counts that time.
		// The sum lags the raw rate by half the shortest window (each
		// rate looks that far back on average): 2.5 minutes of a day,
		// nothing to a ticket, but a page's short lead, so the windows a
		// page reads stay raw.
		sumOver := func(v *parser.VectorSelector) parser.Expr {
			return spec.Aggregate(parser.SUM, spec.Call("sum_over_time", spec.Range(v, w)))
		}
		return ratio(o, sumOver(errsRec), sumOver(allRec), up)
	}
	errs, all := sliRates(svc, o, w)
	return ratio(o, errs, all, up)
}

// ticketOnly reports whether w is longer than every window a page reads:
// only a ticket's long window (the 1d and 3d of a 30-day objective).
func ticketOnly(o spec.SLO, w time.Duration) bool {
	for _, b := range o.BurnWindows() {
		if b.Page && w <= b.Long {
			return false
		}
	}
	return true
}

// nowRatio is the SLO's bad share now: the burn alerts' "now" condition.
// For availability it takes the service's up now, not over the window, so
// the ratio is 1 while no replica answers and drops as soon as one does.
func nowRatio(svc spec.Service, o spec.SLO) parser.Expr {
	errs, all := sliRates(svc, o, o.NowWindow())
	return ratio(o, errs, all, spec.Max(serviceUp(svc)))
}

// sliRates are the SLO's bad and all events per second over w, summed
// over the service's targets: failed and all requests, or the
// histogram's observations above the threshold and all of them.
func sliRates(svc spec.Service, o spec.SLO, w time.Duration) (errs, all parser.Expr) {
	if l := o.Latency; l != nil {
		fast := spec.Metric(l.Histogram+"_bucket", spec.Eq("job", svc.JobName()), spec.Eq("le", leValue(l.Threshold)))
		all := sumRate(spec.Metric(l.Histogram+"_count", spec.Eq("job", svc.JobName())), w)
		return spec.Sub(all, sumRate(fast, w)), all
	}
	a := o.Availability
	return sumRate(spec.Metric(a.Requests, append([]*labels.Matcher{spec.Eq("job", svc.JobName())}, a.Errors...)...), w),
		sumRate(spec.Metric(a.Requests, spec.Eq("job", svc.JobName())), w)
}

// ratio is the SLO's bad share of a window with errs and all its bad and
// all events (values without labels), and for availability up the
// service's share of it up. A window without an event has no ratio:
// absent (the division by a rate > 0), never 0/0 = NaN, which would
// poison every average over it.
func ratio(o spec.SLO, errs, all, up parser.Expr) parser.Expr {
	share := spec.Binary(parser.DIV, errs, spec.Filter(all, spec.OpGt, 0))
	if o.Latency != nil {
		return share
	}
	// The requests' error ratio, 0 when there were no requests to count
	// (or no errors series yet), weighted by the share of time up:
	// 1 - (1 - errors/requests) * up. Down for the whole window is 1.
	// That is the traffic-weighted count: the time down at the rate of
	// the time up, (errors + lost) / (requests + lost) with lost =
	// requests * (1-up)/up, since a service that is down counts nothing.
	// vector(0), not up * 0: the up share is read once a window.
	requestErrors := spec.Or(share, spec.Call("vector", spec.Num(0)))
	return spec.Sub(spec.Num(1), spec.Binary(parser.MUL, spec.Paren(spec.Sub(spec.Num(1), spec.Paren(requestErrors))), up))
}

// serviceUp is the recorded service-level up of svc: 1 while any replica
// answers, 0 while none does or no target is left.
func serviceUp(svc spec.Service) *parser.VectorSelector {
	return spec.Metric(recordUpMax, spec.Eq(conventions.LabelService, svc.Name))
}

func sumRate(v *parser.VectorSelector, w time.Duration) parser.Expr {
	return spec.Aggregate(parser.SUM, spec.Call("rate", spec.Range(v, w)))
}

// leValue is a bucket bound as Prometheus 3 stores le: a float, "1.0" not "1".
func leValue(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// recorded selects one of the SLO's recorded series of svc.
func recorded(svc spec.Service, o spec.SLO, name string) *parser.VectorSelector {
	return spec.Metric(name, spec.Eq(conventions.LabelService, svc.Name), spec.Eq("slo", o.Name))
}

// impactRecords are the runbook's impact figures for svc: whether it is
// scraped, its request rate, the seconds it was down in the last hour, and
// the requests that time cost at the highest rate of the hour (the rate
// before the outage, when the outage began within the hour).
func impactRecords(svc spec.Service, o spec.SLO) []spec.Record {
	sel := func(name string) *parser.VectorSelector {
		return spec.Metric(name, spec.Eq(conventions.LabelService, svc.Name))
	}
	step, iw := o.Ranges()[0]/10, impactWindow(o)
	// Healthy at requestRate, then down for a sixth of the impact window:
	// that much downtime within the window, and requestRate times as many
	// requests lost.
	healthy, down := iw*5/6, iw/6
	fixture := sliSeries(svc, o, step, phase{d: healthy}, phase{d: down, down: true})
	// Recorded values are floats: a test checks a range.
	within := func(at time.Duration, name string, want float64) spec.Query {
		return spec.Query{At: at, Expr: fmt.Sprintf("(%s > bool %g) * (%s < bool %g)", sel(name), want*0.95, sel(name), want*1.05),
			Samples: []spec.Sample{{Labels: map[string]string{conventions.LabelService: svc.Name}, Value: 1}}}
	}
	downSeconds := down.Seconds()
	return []spec.Record{
		// No target at all (the containers removed, never started) is
		// down too: up is absent then, and the service counts as 0.
		{Name: recordUpMax, Expr: spec.Or(spec.Max(jobUp(svc)), spec.Call("vector", spec.Num(0)))},
		{Name: recordRequestsRate, Expr: spec.Aggregate(parser.SUM, spec.Call("rate", spec.Range(spec.Metric(o.Availability.Requests, spec.Eq("job", svc.JobName())), 5*time.Minute))),
			Tests: []spec.Test{{Name: "is the request rate", Interval: step, Series: fixture,
				Queries: []spec.Query{within(healthy-step, recordRequestsRate, requestRate)}}}},
		{Name: recordDowntime(o), Expr: spec.Binary(parser.MUL, spec.Paren(spec.Sub(spec.Num(1), spec.Call("avg_over_time", spec.Range(sel(recordUpMax), iw)))), spec.Num(iw.Seconds())),
			Tests: []spec.Test{
				{Name: "counts the time down within its window", Interval: step, Series: fixture,
					Queries: []spec.Query{within(healthy+down, recordDowntime(o), downSeconds)}},
				{Name: "counts the time without any target as down: the containers removed", Interval: step,
					Series:  sliSeries(svc, o, step, phase{d: healthy}, phase{d: down, gone: true}),
					Queries: []spec.Query{within(healthy+down, recordDowntime(o), downSeconds)}},
			}},
		{Name: recordRequestsLost(o), Expr: spec.Binary(parser.MUL, sel(recordDowntime(o)), spec.Call("max_over_time", spec.Range(sel(recordRequestsRate), iw))),
			Tests: []spec.Test{{Name: "estimates the requests lost from the rate before the outage", Interval: step, Series: fixture,
				Queries: []spec.Query{within(healthy+down, recordRequestsLost(o), downSeconds*requestRate)}}}},
	}
}

// requestRate is the request rate of the SLO test fixtures, per second.
const requestRate = 10

// phase is a stretch of an SLO test: how long and the share of bad
// requests, or which replicas answer: all of them (the zero phase), some
// stopped (up 0, their counters stopped, the others serving every request),
// none (down), no target at all (gone: the containers removed, up absent),
// or all up and no request (idle).
type phase struct {
	d       time.Duration
	bad     float64
	stopped int
	down    bool
	gone    bool
	idle    bool
}

// sliSeries are the input series of an SLO test of one replica: up, and the
// SLI's counters growing at requestRate with the phase's share of bad
// requests.
func sliSeries(svc spec.Service, o spec.SLO, step time.Duration, phases ...phase) []spec.Series {
	return sliReplicas(svc, o, step, 1, phases...)
}

// sliReplicas are the input series of an SLO test of n replicas: each
// one's up, and its counters; the serving replicas share requestRate.
func sliReplicas(svc spec.Service, o spec.SLO, step time.Duration, n int, phases ...phase) []spec.Series {
	var out []spec.Series
	var good, bad, total [][]spec.Segment
	for r := 1; r <= n; r++ {
		var up, gs, bs, ts []spec.Segment
		var g, b float64
		for _, ph := range phases {
			stopped := ph.down || ph.gone || r > n-ph.stopped
			switch {
			case ph.gone:
				up = append(up, stale(ph.d))
			case stopped:
				up = append(up, hold(0, ph.d))
			default:
				up = append(up, hold(1, ph.d))
			}
			if stopped {
				gs, bs, ts = append(gs, stale(ph.d)), append(bs, stale(ph.d)), append(ts, stale(ph.d))
				continue
			}
			perStep := requestRate * step.Seconds() / float64(n-ph.stopped)
			if ph.idle {
				perStep = 0
			}
			gi, bi := perStep*(1-ph.bad), perStep*ph.bad
			gs = append(gs, spec.Segment{Value: g, Increase: gi, For: ph.d})
			bs = append(bs, spec.Segment{Value: b, Increase: bi, For: ph.d})
			ts = append(ts, spec.Segment{Value: g + b, Increase: gi + bi, For: ph.d})
			k := float64(ph.d / step)
			g, b = g+gi*k, b+bi*k
		}
		out = append(out, series(catalog.Up, replica(svc, r), up...))
		good, bad, total = append(good, gs), append(bad, bs), append(total, ts)
	}
	for r := 1; r <= n; r++ {
		target := replica(svc, r)
		if l := o.Latency; l != nil {
			out = append(out,
				series(l.Histogram+"_bucket", merge(target, "le", leValue(l.Threshold)), good[r-1]...),
				series(l.Histogram+"_count", target, total[r-1]...))
			continue
		}
		okLabels, errLabels := merge(target), merge(target)
		for _, m := range o.Availability.Errors {
			errLabels[m.Name] = exampleOf(m)
			okLabels[m.Name] = "ok"
		}
		out = append(out, series(o.Availability.Requests, okLabels, good[r-1]...), series(o.Availability.Requests, errLabels, bad[r-1]...))
	}
	return out
}

// exampleOf is a label value an error matcher selects, e.g. "500" for
// status=~"5..": the first of a few usual ones it matches.
func exampleOf(m *labels.Matcher) string {
	for _, v := range []string{"500", "503", "error", "5xx", "true", m.Value} {
		if m.Matches(v) {
			return v
		}
	}
	return m.Value
}

// title is an SLO name as the start of a CamelCase alert name.
func title(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// burnAlerts are the page (fast burn) and ticket (slow burn) of o.
func burnAlerts(svc spec.Service, o spec.SLO) []spec.Alert {
	var fast, slow []spec.BurnWindow
	for _, w := range o.BurnWindows() {
		if w.Page {
			fast = append(fast, w)
		} else {
			slow = append(slow, w)
		}
	}
	alert := func(name string, sev spec.Severity, ws []spec.BurnWindow, pace string) spec.Alert {
		var expr parser.Expr
		for _, w := range ws {
			over := func(d time.Duration) parser.Expr {
				return spec.Filter(recorded(svc, o, recordErrorRatio(d)), spec.OpGt, spec.Round(w.Factor*o.Budget()))
			}
			// The workbook's two windows, and the budget burning now: an
			// incident that is over leaves the windows high for as long as
			// they are, and must not page or ticket after it.
			both := spec.And(spec.And(over(w.Long), over(w.Short)), over(o.NowWindow()))
			if expr == nil {
				expr = both
			} else {
				expr = spec.Or(expr, both)
			}
		}
		last := ws[len(ws)-1]
		return spec.Alert{
			Name:     title(o.Name) + name,
			Expr:     expr,
			Severity: sev,
			Labels:   map[string]string{"slo": o.Name},
			Summary:  fmt.Sprintf("%s is burning its %s error budget %s", svc.Name, o.Name, pace),
			Description: fmt.Sprintf("%s spends its %s error budget (%s of %s) at least %.4g times as fast as its %s objective allows: at this pace it is gone within %s. Recovery needs the error ratio back under the budget (runbook: error rate <1%% for 10+ minutes).",
				svc.Name, o.Name, percent(o.Budget()), promDuration(o.Window), last.Factor, percent(o.Objective), promDuration(time.Duration(float64(o.Window)/last.Factor).Round(time.Minute))),
		}
	}
	page, ticket := alert("FastBurn", spec.Critical, fast, "fast"), alert("SlowBurn", spec.Warning, slow, "slowly")
	step := o.Ranges()[0] / 10
	long, short := fast[0].Long, fast[0].Short
	fired := func(a spec.Alert) spec.Firing {
		return spec.Firing{Labels: map[string]string{"slo": o.Name}, Summary: a.Summary, Description: a.Description}
	}
	page.Tests = []spec.Test{
		{
			Name: "pages within the short window when every request fails", Interval: step,
			Series: sliSeries(svc, o, step, phase{d: long}, phase{d: 2 * short, bad: 1}),
			Expect: []spec.Expect{quiet(long - step), fires(long+short, fired(page))},
		},
		{
			Name: "stays quiet on errors under its burn rates", Interval: step,
			Series: sliSeries(svc, o, step, phase{d: long + 2*short, bad: 4 * o.Budget()}),
			Expect: []spec.Expect{quiet(long + short)},
		},
	}
	ticket.Tests = []spec.Test{
		{
			Name: "tickets a slow leak the page ignores", Interval: step,
			Series: sliSeries(svc, o, step, phase{d: 2 * long, bad: 4 * o.Budget()}),
			Expect: []spec.Expect{fires(long, fired(ticket))},
		},
		{
			Name: "stays quiet under the objective", Interval: step,
			Series: sliSeries(svc, o, step, phase{d: 2 * long, bad: o.Budget() / 2}),
			Expect: []spec.Expect{quiet(long)},
		},
	}
	if o.Availability != nil {
		page.Tests = append(page.Tests,
			spec.Test{
				Name: "pages when the service is down and its own counters stop", Interval: step,
				Series: sliSeries(svc, o, step, phase{d: long}, phase{d: 2 * short, down: true}),
				Expect: []spec.Expect{quiet(long - step), fires(long+short, fired(page))},
			},
			spec.Test{
				Name: "pages when the service's containers are removed and no target is left", Interval: step,
				Series: sliSeries(svc, o, step, phase{d: long}, phase{d: 2 * short, gone: true}),
				Expect: []spec.Expect{quiet(long - step), fires(long+short, fired(page))},
			})
	}
	// Scenarios both alerts share: what users saw, and an incident that is
	// over.
	// After an incident, half an hour healthy: the 6h/30m pair's short
	// window held the page that long.
	after := long / 2
	for _, a := range []*spec.Alert{&page, &ticket} {
		ws := fast
		if a == &ticket {
			ws = slow
		}
		// firesDuring expects the alert during the incident when its
		// burn rates say it must fire (a 5-minute outage pages a 99.9%
		// objective, not a 99% one); the point is the quiet after it.
		firesDuring := func(at, badFor time.Duration) []spec.Expect {
			if burns(ws, o.Budget(), badFor, at) {
				return []spec.Expect{fires(at, fired(*a))}
			}
			return nil
		}
		if o.Availability != nil {
			a.Tests = append(a.Tests,
				spec.Test{
					Name: "burns no budget while one replica of two is stopped and the other serves every request", Interval: step,
					Series:  sliReplicas(svc, o, step, 2, phase{d: long}, phase{d: 2 * short, stopped: 1}),
					Expect:  []spec.Expect{quiet(long + short), quiet(long + 2*short - step)},
					Queries: []spec.Query{ratioIs(svc, o, recordErrorRatio(short), long+2*short-step, 0), ratioIs(svc, o, recordErrorRatio(long), long+2*short-step, 0), ratioIs(svc, o, recordBudgetRemaining, long+2*short-step, 1)},
				},
				// Quiet from the first evaluation after recovery: one
				// sample later, whatever the evaluation interval.
				spec.Test{
					Name: fmt.Sprintf("sends nothing once a %s outage is over", promDuration(short)), Interval: step,
					Series: sliSeries(svc, o, step, phase{d: long}, phase{d: short, down: true}, phase{d: after}),
					Expect: append(firesDuring(long+short/2, short/2), quietAfter(long+short+step, long+short+after-step, step, short)...),
				})
		}
		// Twice the short window of bad requests: enough to page for any
		// budget up to 1% (a tenth of the hour is over 14.4%).
		bad := 2 * short
		a.Tests = append(a.Tests, spec.Test{
			Name: fmt.Sprintf("sends nothing once %s of %s are over", promDuration(bad), badRequests(o)), Interval: step,
			Series: sliSeries(svc, o, step, phase{d: long}, phase{d: bad, bad: 1}, phase{d: after}),
			Expect: append(firesDuring(long+bad-step, bad-step), quietAfter(long+bad+o.NowWindow()+step, long+bad+after-step, step, short)...),
		})
	}
	return []spec.Alert{page, ticket}
}

// burns reports whether a test whose every request failed for the last
// badFor of its history (all good before) clearly exceeds, a fifth above,
// the thresholds of both windows of one of ws: a window longer than the
// history holds the history alone.
func burns(ws []spec.BurnWindow, budget float64, badFor, history time.Duration) bool {
	share := func(w time.Duration) float64 { return badFor.Seconds() / min(w, history).Seconds() }
	for _, w := range ws {
		if t := 1.2 * w.Factor * budget; share(w.Long) > t && share(w.Short) > t {
			return true
		}
	}
	return false
}

// quietAfter expects the alert quiet from from until until: at every
// sample for the first short window, then once a short window.
func quietAfter(from, until, step, short time.Duration) []spec.Expect {
	var out []spec.Expect
	for t := from; t <= until; {
		out = append(out, quiet(t))
		if t < from+short {
			t += step
		} else {
			t += short
		}
	}
	return out
}

// badRequests says what o counts as bad, for a test's name.
func badRequests(o spec.SLO) string {
	if o.Latency != nil {
		return "slow requests"
	}
	return "failing requests"
}

// ratioIs expects one of o's recorded series of svc to be v at at.
func ratioIs(svc spec.Service, o spec.SLO, name string, at time.Duration, v float64) spec.Query {
	return spec.Query{At: at, Expr: recorded(svc, o, name).String(),
		Samples: []spec.Sample{{Labels: map[string]string{"__name__": name, conventions.LabelService: svc.Name, catalog.LabelSLO: o.Name}, Value: v}}}
}

// isNumber expects sel to be a number at at, not NaN (NaN == NaN is false),
// or absent when absent is set.
func isNumber(sel *parser.VectorSelector, at time.Duration, absent bool) spec.Query {
	q := spec.Query{At: at, Expr: fmt.Sprintf("%s == bool %s", sel, sel)}
	if !absent {
		ls := map[string]string{}
		for _, m := range sel.LabelMatchers {
			if m.Name != "__name__" {
				ls[m.Name] = m.Value
			}
		}
		q.Samples = []spec.Sample{{Labels: ls, Value: 1}}
	}
	return q
}

func percent(v float64) string { return strconv.FormatFloat(spec.Round(v*100), 'f', -1, 64) + "%" }
