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
//   - an availability SLI counts the time the service cannot be scraped as
//     wholly bad, so an outage burns budget although the service's own
//     counters stop;
//   - ratios are recorded as one series per objective (sum, no other labels),
//     so a label that comes and goes cannot break a long window;
//   - the alerts carry the service and severity labels, so ServiceDown
//     inhibits the burn-rate page of its own service.

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
	var recs []spec.Record
	for _, w := range o.Ranges() {
		recs = append(recs, spec.Record{Name: recordErrorRatio(w), Expr: errorRatio(svc, o, w), Labels: sloLabel})
	}
	shortest := o.Ranges()[0]
	recs = append(recs,
		spec.Record{
			Name: recordBudgetRemaining,
			Expr: spec.Sub(spec.Num(1), spec.Binary(parser.DIV,
				spec.Call("avg_over_time", spec.Range(recorded(svc, o, recordErrorRatio(shortest)), o.Window)), spec.Num(o.Budget()))),
			Labels: sloLabel,
		},
		spec.Record{
			Name: recordBudgetSpent(o),
			Expr: spec.Binary(parser.DIV, spec.Binary(parser.MUL, recorded(svc, o, recordErrorRatio(longestUpTo(o, impactWindow(o)))), spec.Num(impactWindow(o).Seconds())),
				spec.Num(o.Budget()*o.Window.Seconds())),
			Labels: sloLabel,
		},
	)
	return recs, burnAlerts(svc, o)
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

// errorRatio is the SLO's bad share over w.
func errorRatio(svc spec.Service, o spec.SLO, w time.Duration) parser.Expr {
	if l := o.Latency; l != nil {
		fast := spec.Metric(l.Histogram+"_bucket", spec.Eq("job", svc.JobName()), spec.Eq("le", leValue(l.Threshold)))
		all := spec.Metric(l.Histogram+"_count", spec.Eq("job", svc.JobName()))
		return spec.Sub(spec.Num(1), spec.Binary(parser.DIV, sumRate(fast, w), sumRate(all, w)))
	}
	a := o.Availability
	errs := spec.Metric(a.Requests, append([]*labels.Matcher{spec.Eq("job", svc.JobName())}, a.Errors...)...)
	all := spec.Metric(a.Requests, spec.Eq("job", svc.JobName()))
	scraped := spec.Aggregate(parser.AVG, spec.Call("avg_over_time", spec.Range(jobUp(svc), w)))
	// The requests' error ratio, 0 when there were no requests to count
	// (or no errors series yet), weighted by the share of time scraped:
	// 1 - (1 - errors/requests) * scraped. Down for the whole window is 1.
	requestErrors := spec.Or(spec.Binary(parser.DIV, sumRate(errs, w), sumRate(all, w)), spec.Binary(parser.MUL, scraped, spec.Num(0)))
	return spec.Sub(spec.Num(1), spec.Binary(parser.MUL, spec.Paren(spec.Sub(spec.Num(1), spec.Paren(requestErrors))), scraped))
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
		{Name: recordUpMax, Expr: spec.Max(jobUp(svc))},
		{Name: recordRequestsRate, Expr: spec.Aggregate(parser.SUM, spec.Call("rate", spec.Range(spec.Metric(o.Availability.Requests, spec.Eq("job", svc.JobName())), 5*time.Minute))),
			Tests: []spec.Test{{Name: "is the request rate", Interval: step, Series: fixture,
				Queries: []spec.Query{within(healthy-step, recordRequestsRate, requestRate)}}}},
		{Name: recordDowntime(o), Expr: spec.Binary(parser.MUL, spec.Paren(spec.Sub(spec.Num(1), spec.Call("avg_over_time", spec.Range(sel(recordUpMax), iw)))), spec.Num(iw.Seconds())),
			Tests: []spec.Test{{Name: "counts the time down within its window", Interval: step, Series: fixture,
				Queries: []spec.Query{within(healthy+down, recordDowntime(o), downSeconds)}}}},
		{Name: recordRequestsLost(o), Expr: spec.Binary(parser.MUL, sel(recordDowntime(o)), spec.Call("max_over_time", spec.Range(sel(recordRequestsRate), iw))),
			Tests: []spec.Test{{Name: "estimates the requests lost from the rate before the outage", Interval: step, Series: fixture,
				Queries: []spec.Query{within(healthy+down, recordRequestsLost(o), downSeconds*requestRate)}}}},
	}
}

// requestRate is the request rate of the SLO test fixtures, per second.
const requestRate = 10

// phase is a stretch of an SLO test: how long, the share of bad requests,
// or the service down (not scraped, its counters stopped).
type phase struct {
	d    time.Duration
	bad  float64
	down bool
}

// sliSeries are the input series of an SLO test: up, and the SLI's
// counters growing at requestRate with the phase's share of bad requests.
func sliSeries(svc spec.Service, o spec.SLO, step time.Duration, phases ...phase) []spec.Series {
	target := replica(svc, 1)
	perStep := requestRate * step.Seconds()
	var good, bad, total, up []spec.Segment
	var g, b float64
	for _, ph := range phases {
		n := float64(ph.d / step)
		up = append(up, hold(map[bool]float64{false: 1, true: 0}[ph.down], ph.d))
		if ph.down {
			for _, segs := range []*[]spec.Segment{&good, &bad, &total} {
				*segs = append(*segs, stale(ph.d))
			}
			continue
		}
		gi, bi := perStep*(1-ph.bad), perStep*ph.bad
		good = append(good, spec.Segment{Value: g, Increase: gi, For: ph.d})
		bad = append(bad, spec.Segment{Value: b, Increase: bi, For: ph.d})
		total = append(total, spec.Segment{Value: g + b, Increase: gi + bi, For: ph.d})
		g, b = g+gi*n, b+bi*n
	}
	out := []spec.Series{series(catalog.Up, target, up...)}
	if l := o.Latency; l != nil {
		return append(out,
			series(l.Histogram+"_bucket", merge(target, "le", leValue(l.Threshold)), good...),
			series(l.Histogram+"_count", target, total...))
	}
	a := o.Availability
	okLabels, errLabels := merge(target), merge(target)
	for _, m := range a.Errors {
		errLabels[m.Name] = exampleOf(m)
		okLabels[m.Name] = "ok"
	}
	return append(out, series(a.Requests, okLabels, good...), series(a.Requests, errLabels, bad...))
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
			both := spec.And(over(w.Long), over(w.Short))
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
	if o.Availability != nil {
		page.Tests = append(page.Tests, spec.Test{
			Name: "pages when the service is down and its own counters stop", Interval: step,
			Series: sliSeries(svc, o, step, phase{d: long}, phase{d: 2 * short, down: true}),
			Expect: []spec.Expect{quiet(long - step), fires(long+short, fired(page))},
		})
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
	return []spec.Alert{page, ticket}
}

func percent(v float64) string { return strconv.FormatFloat(spec.Round(v*100), 'f', -1, 64) + "%" }
