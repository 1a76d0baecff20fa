package rules

import (
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/conventions"
	"github.com/sre-tools/promgen/spec"
)

// Self-monitoring: the alerting pipeline watching itself. A page that
// cannot be evaluated, sent or delivered is silence, and silence reads as
// "all is well"; these alerts, and the Watchdog that stops when nothing
// else can speak, say otherwise. They are spec-wide, in the pipeline's
// group, and read Prometheus' and Alertmanager's own metrics from the jobs
// prometheus.yml scrapes them in (spec.Sources).

// SelfMonitoring returns the pipeline's self-alerts for s: the Watchdog,
// and Prometheus failing to evaluate rules, to reach an Alertmanager or to
// send it alerts, and Alertmanager failing to deliver notifications.
func SelfMonitoring(s spec.Spec, p Profile) []spec.Alert {
	return []spec.Alert{
		Watchdog(p),
		PrometheusRuleEvaluationFailing(s, p),
		PrometheusAlertmanagerMissing(s, p),
		PrometheusNotificationsDropped(s, p),
		AlertmanagerNotificationsFailing(s, p),
	}
}

// prometheusInstance and alertmanagerInstance are the targets of the
// self-scrape jobs in test fixtures, at their documented default ports.
const (
	prometheusInstance   = "localhost:9090"
	alertmanagerInstance = "localhost:9093"
)

// Watchdog always fires. Routing sends it to the heartbeat receiver alone
// (spec.Routing.Heartbeat), a dead man's switch that alerts when the
// heartbeats stop: Prometheus down, Alertmanager down, or the path between
// them or to the receiver broken. It never pages, and no inhibition names
// it.
func Watchdog(p Profile) spec.Alert {
	a := spec.Alert{
		Name:     conventions.AlertWatchdog,
		Expr:     spec.Call("vector", spec.Num(1)),
		Severity: spec.Info,
		Summary:  "The alerting pipeline is alive",
		Description: "Always firing: Alertmanager sends it to the heartbeat receiver at every interval. " +
			"When the heartbeats stop, Prometheus, Alertmanager or the path between them is down, and no other alert can say so.",
	}
	step := p.step()
	a.Tests = []spec.Test{{
		Name:     "fires always, even with every target down",
		Interval: step,
		Series:   []spec.Series{series(catalog.Up, target(spec.DefaultPrometheusJob, prometheusInstance), hold(0, p.D(time.Hour)+step))},
		Expect: []spec.Expect{
			fires(0, spec.Firing{Summary: a.Summary, Description: a.Description}),
			fires(p.D(time.Hour), spec.Firing{Summary: a.Summary, Description: a.Description}),
		},
	}}
	return a
}

// increased is the increase of a counter of job over window, above zero.
func increased(metric, job string, window time.Duration, by ...string) parser.Expr {
	inc := parser.Expr(spec.Call("increase", spec.Range(spec.Metric(metric, spec.Eq("job", job)), window)))
	if len(by) > 0 {
		inc = spec.Aggregate(parser.SUM, inc, by...)
	}
	return spec.Filter(inc, spec.OpGt, 0)
}

// counterTests are the scenarios of an alert on a counter that grows: quiet
// while it stands still, firing once it has grown for the alert's for.
func counterTests(a spec.Alert, p Profile, metric string, in, out map[string]string, summary, description string) []spec.Test {
	step, m := p.step(), p.D(time.Minute)
	return []spec.Test{
		{
			Name:     "fires once the counter has grown for its for duration",
			Interval: step,
			Series:   []spec.Series{series(metric, in, hold(0, 2*m), spec.Segment{Value: 1, Increase: 1, For: a.For + 3*m})},
			Expect: []spec.Expect{
				quiet(2*m + a.For - step),
				fires(2*m+a.For+step, spec.Firing{Labels: out, Summary: summary, Description: description}),
			},
		},
		{
			Name:     "stays quiet while the counter stands still",
			Interval: step,
			Series:   []spec.Series{series(metric, in, hold(7, a.For+4*m))},
			Expect:   []spec.Expect{quiet(a.For + 3*m)},
		},
	}
}

// PrometheusRuleEvaluationFailing fires when a rule group's evaluations
// fail (a many-to-many join, a query that times out) for 5 minutes: its
// alerts cannot fire.
func PrometheusRuleEvaluationFailing(s spec.Spec, p Profile) spec.Alert {
	job := s.Sources.Prometheus()
	window := p.D(5 * time.Minute)
	a := spec.Alert{
		Name:     "PrometheusRuleEvaluationFailing",
		Expr:     increased(catalog.PrometheusRuleEvaluationFailuresTotal, job, window),
		For:      p.D(5 * time.Minute),
		Severity: spec.Warning,
		Summary:  "Prometheus fails to evaluate {{ $labels.rule_group }}",
		Description: "Prometheus {{ $labels.instance }} failed evaluations of rule group {{ $labels.rule_group }} within " + window.String() +
			": its alerts cannot fire. The rule's error is on Prometheus' /rules page.",
	}
	group := "/etc/prometheus/promgen/rules/" + spec.PipelineGroup + ".rules.yml;" + spec.PipelineGroup
	l := merge(target(job, prometheusInstance), catalog.LabelRuleGroup, group)
	a.Tests = counterTests(a, p, catalog.PrometheusRuleEvaluationFailuresTotal, l, l,
		"Prometheus fails to evaluate "+group,
		"Prometheus "+prometheusInstance+" failed evaluations of rule group "+group+" within "+window.String()+
			": its alerts cannot fire. The rule's error is on Prometheus' /rules page.")
	return a
}

// PrometheusAlertmanagerMissing fires when Prometheus has no Alertmanager
// to send alerts to for 5 minutes: every alert fires into the void. Only
// the Watchdog's silence, or another Prometheus, reports it.
func PrometheusAlertmanagerMissing(s spec.Spec, p Profile) spec.Alert {
	job := s.Sources.Prometheus()
	a := spec.Alert{
		Name:     "PrometheusAlertmanagerMissing",
		Expr:     spec.Filter(spec.Metric(catalog.PrometheusNotificationsAlertmanagersDiscovered, spec.Eq("job", job)), spec.OpLt, 1),
		For:      p.D(5 * time.Minute),
		Severity: spec.Warning,
		Summary:  "Prometheus has no Alertmanager to send alerts to",
		Description: "Prometheus {{ $labels.instance }} has discovered no Alertmanager: no alert it fires reaches anyone. " +
			"Check its alerting configuration and that Alertmanager runs.",
	}
	step, m := p.step(), p.D(time.Minute)
	l := target(job, prometheusInstance)
	desc := "Prometheus " + prometheusInstance + " has discovered no Alertmanager: no alert it fires reaches anyone. " +
		"Check its alerting configuration and that Alertmanager runs."
	a.Tests = []spec.Test{
		{
			Name:     "fires once no Alertmanager has been discovered for its for duration",
			Interval: step,
			Series:   []spec.Series{series(catalog.PrometheusNotificationsAlertmanagersDiscovered, l, hold(1, 2*m), hold(0, a.For+2*m))},
			Expect: []spec.Expect{
				quiet(2*m + a.For - step),
				fires(2*m+a.For, spec.Firing{Labels: l, Summary: a.Summary, Description: desc}),
			},
		},
		{
			Name:     "stays quiet while an Alertmanager is discovered",
			Interval: step,
			Series:   []spec.Series{series(catalog.PrometheusNotificationsAlertmanagersDiscovered, l, hold(1, a.For+4*m))},
			Expect:   []spec.Expect{quiet(a.For + 3*m)},
		},
	}
	return a
}

// PrometheusNotificationsDropped fires when Prometheus drops alerts it
// could not send to Alertmanager, for 5 minutes.
func PrometheusNotificationsDropped(s spec.Spec, p Profile) spec.Alert {
	job := s.Sources.Prometheus()
	window := p.D(5 * time.Minute)
	a := spec.Alert{
		Name:     "PrometheusNotificationsDropped",
		Expr:     increased(catalog.PrometheusNotificationsDroppedTotal, job, window),
		For:      p.D(5 * time.Minute),
		Severity: spec.Warning,
		Summary:  "Prometheus drops alerts it cannot send to Alertmanager",
		Description: "Prometheus {{ $labels.instance }} dropped alerts within " + window.String() +
			" that no Alertmanager accepted: pages are being lost. Its log names the Alertmanager and the error.",
	}
	l := target(job, prometheusInstance)
	a.Tests = counterTests(a, p, catalog.PrometheusNotificationsDroppedTotal, l, l, a.Summary,
		"Prometheus "+prometheusInstance+" dropped alerts within "+window.String()+
			" that no Alertmanager accepted: pages are being lost. Its log names the Alertmanager and the error.")
	return a
}

// AlertmanagerNotificationsFailing fires when Alertmanager fails to
// deliver notifications through an integration for 5 minutes. It is
// critical: routed to every critical receiver, it reaches a person through
// whichever integration still works.
func AlertmanagerNotificationsFailing(s spec.Spec, p Profile) spec.Alert {
	job := s.Sources.Alertmanager()
	window := p.D(5 * time.Minute)
	a := spec.Alert{
		Name:     "AlertmanagerNotificationsFailing",
		Expr:     increased(catalog.AlertmanagerNotificationsFailedTotal, job, window, "job", "instance", catalog.LabelIntegration),
		For:      p.D(5 * time.Minute),
		Severity: spec.Critical,
		Summary:  "Alertmanager fails to deliver {{ $labels.integration }} notifications",
		Description: "Alertmanager {{ $labels.instance }} failed to deliver notifications through {{ $labels.integration }} within " + window.String() +
			": its receivers miss pages. Its log names the receiver and the error (a revoked key, a removed webhook).",
	}
	in := merge(target(job, alertmanagerInstance), catalog.LabelIntegration, "slack", "reason", "clientError")
	out := merge(target(job, alertmanagerInstance), catalog.LabelIntegration, "slack")
	a.Tests = counterTests(a, p, catalog.AlertmanagerNotificationsFailedTotal, in, out,
		"Alertmanager fails to deliver slack notifications",
		"Alertmanager "+alertmanagerInstance+" failed to deliver notifications through slack within "+window.String()+
			": its receivers miss pages. Its log names the receiver and the error (a revoked key, a removed webhook).")
	return a
}
