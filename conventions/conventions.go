// Package conventions is the one home of the names promgen's house style is
// made of: the labels every alert carries, the annotations the on-call reads,
// the severities Alertmanager routes on and the shape of an alert name. The
// spec validates against it, the generator writes it, and lint checks it
// (as the default of its configurable conventions).
package conventions

import (
	"regexp"
	"time"

	"github.com/prometheus/common/model"
)

// Labels promgen sets on every alert. A spec may not set them itself.
const (
	// LabelSeverity routes an alert in Alertmanager.
	LabelSeverity = "severity"
	// LabelService names the service an alert is about; routing, grouping
	// and inhibition key on it, so the same alert name can serve many
	// services.
	LabelService = "service"
	// LabelAlertname is Prometheus' own name label.
	LabelAlertname = "alertname"
)

// ReservedLabels are the labels a spec's alert may not set.
var ReservedLabels = []string{LabelAlertname, LabelSeverity, LabelService}

// Annotations every alert carries: what is wrong, the detail, and where the
// runbook is.
const (
	AnnotationSummary     = "summary"
	AnnotationDescription = "description"
	AnnotationRunbookURL  = "runbook_url"
	// AnnotationDashboardURL links an alert to its dashboard panel, when
	// the spec names its Grafana.
	AnnotationDashboardURL = "dashboard_url"
)

// Annotations of the incident's impact so far (the runbook's Step 3),
// which ServiceDown computes at every evaluation and Alertmanager carries
// into the resolution message as last computed.
const (
	// AnnotationImpactDowntime is how long the service has been down.
	AnnotationImpactDowntime = "impact_downtime"
	// AnnotationImpactRequestsFailing is the requests per second failing now.
	AnnotationImpactRequestsFailing = "impact_requests_failing"
	// AnnotationImpactRequestsLost is the requests lost since the outage began.
	AnnotationImpactRequestsLost = "impact_requests_lost"
	// AnnotationImpactBudgetConsumed is the share of the availability
	// objective's error budget the outage consumed.
	AnnotationImpactBudgetConsumed = "impact_budget_consumed"
)

// RequiredAnnotations are the annotations every alert must carry.
var RequiredAnnotations = []string{AnnotationSummary, AnnotationDescription, AnnotationRunbookURL}

// Severity is the value of LabelSeverity.
type Severity string

// The severities, most urgent first: critical pages, warning goes to chat,
// info is for dashboards and reports.
const (
	Critical Severity = "critical"
	Warning  Severity = "warning"
	Info     Severity = "info"
)

// Severities lists every severity, most urgent first.
var Severities = []Severity{Critical, Warning, Info}

// SeverityNames returns Severities as strings.
func SeverityNames() []string {
	out := make([]string, len(Severities))
	for i, s := range Severities {
		out[i] = string(s)
	}
	return out
}

// Valid reports whether s is one of Severities.
func (s Severity) Valid() bool {
	for _, v := range Severities {
		if s == v {
			return true
		}
	}
	return false
}

// AlertWatchdog is the dead man's switch: an alert that always fires, which
// routing sends to the heartbeat receiver alone, never to a person, and
// which no inhibition may name (it would mute, or be muted, forever).
const AlertWatchdog = "Watchdog"

// AlertServiceDown is a service's page when none of its targets answers:
// its activation starts the outage that the impact annotations and the
// dashboard's outage panel count from.
const AlertServiceDown = "ServiceDown"

// AlertNamePattern is the shape of an alert name: CamelCase, as silences,
// inhibitions, routes and dashboards key on it.
const AlertNamePattern = `^[A-Z][A-Za-z0-9]*$`

// AlertName matches AlertNamePattern.
var AlertName = regexp.MustCompile(AlertNamePattern)

// GroupEvery names the rule group of a service's records that are
// evaluated at an interval of their own (spec.Record.Interval), beside the
// service's group.
func GroupEvery(service string, interval time.Duration) string {
	return service + "-every-" + model.Duration(interval).String()
}
