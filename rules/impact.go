package rules

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	promtemplate "github.com/prometheus/prometheus/template"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/conventions"
	"github.com/sre-tools/promgen/spec"
)

// The runbook's Step 3 ("Calculate Impact") for the incident at hand, from
// when it began, whatever its length: ServiceDown's impact annotations
// read the outage's start from the alert's own activation time
// (ALERTS_FOR_STATE), as its diagnosis does. A service that is down counts
// no request of its own, so the requests it loses are estimated from the
// traffic it served last, which ServedRate holds through the outage.

// ServedRate records the request rate of svc while any of its targets
// answers, and holds the last one while none does: the traffic an outage
// loses, however long ago the service last answered. Add it to the
// service's Records wherever ServiceDown watches the service; without it
// the page says the requests are unknown (and ServiceDown's tests fail).
func ServedRate(svc spec.Service, p Profile) spec.Record {
	job := svc.JobName()
	answering := spec.Filter(spec.Max(spec.Metric(catalog.Up, spec.Eq("job", job))), spec.OpGt, 0)
	// Both sides of or carry no label, so the held value stands in only
	// while the live rate is absent.
	// ServiceDown's tests prove it: its impact reads it past an hour
	// after the service's counters stopped.
	return spec.Record{Name: catalog.RecordRequestsRateServed, Expr: spec.Or(spec.And(servedNow(svc, p, spec.Eq("job", job)), answering), heldServed(svc))}
}

// servedNow is the rate of the requests svc answers, from its series
// selected by scope.
func servedNow(svc spec.Service, p Profile, scope ...*labels.Matcher) parser.Expr {
	return spec.Aggregate(parser.SUM, spec.Call("rate", spec.Range(spec.Metric(requestsOf(svc), scope...), p.D(5*time.Minute))))
}

// heldServed is the rate ServedRate recorded for svc, with the extra
// matchers of the record's scope.
func heldServed(svc spec.Service, extra ...*labels.Matcher) parser.Expr {
	m := append([]*labels.Matcher{spec.Eq(conventions.LabelService, svc.Name)}, extra...)
	return spec.Aggregate(parser.SUM, spec.Metric(catalog.RecordRequestsRateServed, m...))
}

// requestsOf is the counter of the requests svc answers: its availability
// objective's, else the catalog's HTTP request counter.
func requestsOf(svc spec.Service) string {
	if o, ok := availability(svc); ok {
		return o.Availability.Requests
	}
	return catalog.HTTPRequestsTotal
}

// impactAnnotations are the outage's impact so far, for an outage that
// began at the time since yields: downtime, the requests failing now and
// lost since (at the rate ServedRate holds, held), and, when svc has an
// availability objective, the share of its error budget that downtime
// consumed.
func impactAnnotations(svc spec.Service, since, served parser.Expr) map[string]string {
	downFor := spec.Sub(spec.Call("time"), since)
	out := map[string]string{
		conventions.AnnotationImpactDowntime:        queryValue(downFor, "humanizeDuration", "", "unknown"),
		conventions.AnnotationImpactRequestsFailing: queryValue(served, `humanize | printf "%s/s"`, "", "unknown"),
		conventions.AnnotationImpactRequestsLost:    queryValue(spec.Binary(parser.MUL, served, downFor), "humanize", "", "unknown"),
	}
	if o, ok := availability(svc); ok {
		out[conventions.AnnotationImpactBudgetConsumed] = queryValue(spec.Binary(parser.DIV, downFor, spec.Num(o.Budget()*o.Window.Seconds())), "humanizePercentage", "", "unknown")
	}
	return out
}

// availability is svc's first availability objective.
func availability(svc spec.Service) (spec.SLO, bool) {
	for _, o := range svc.SLOs {
		if o.Availability != nil {
			return o, true
		}
	}
	return spec.SLO{}, false
}

// ImpactAfter is what ServiceDown's impact annotations render down into
// an outage of svc at the held rate served (negative: none held), with
// Prometheus' own template functions: its tests' expectations, and the
// sample notifications' annotations.
func ImpactAfter(svc spec.Service, down time.Duration, served float64) map[string]string {
	human := func(fn string, v float64) string {
		out, err := promtemplate.NewTemplateExpander(context.Background(), "{{ . | "+fn+" }}", "impact", v, 0, nil, nil, nil).Expand()
		if err != nil {
			panic(fmt.Sprintf("rules: %s of %g: %v", fn, v, err))
		}
		return out
	}
	out := map[string]string{
		conventions.AnnotationImpactDowntime:        human("humanizeDuration", down.Seconds()),
		conventions.AnnotationImpactRequestsFailing: "unknown",
		conventions.AnnotationImpactRequestsLost:    "unknown",
	}
	if served >= 0 {
		out[conventions.AnnotationImpactRequestsFailing] = human("humanize", served) + "/s"
		out[conventions.AnnotationImpactRequestsLost] = human("humanize", served*down.Seconds())
	}
	if o, ok := availability(svc); ok {
		out[conventions.AnnotationImpactBudgetConsumed] = human("humanizePercentage", down.Seconds()/(o.Budget()*o.Window.Seconds()))
	}
	return out
}
