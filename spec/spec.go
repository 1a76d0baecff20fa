// Package spec is the typed vocabulary a team writes its alerting in: the
// services Prometheus scrapes and Docker runs, the alerts that watch them, and
// the scenarios that prove each alert. promgen turns a Spec into Prometheus
// rule files, promtool unit tests and docker compose fragments.
package spec

import (
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/conventions"
)

// Spec is everything promgen builds from.
type Spec struct {
	// Services are the monitored services, one rule group (and rule file,
	// test file and compose fragment) each. The same alert may appear in
	// every service: the service label tells the instances apart.
	Services []Service
	// Pipeline are spec-wide alerts on the monitoring pipeline itself (the
	// diagnosis sources), declared once and generated once in a group of
	// their own, PipelineGroup; they carry no service label.
	Pipeline []Alert
	// Sources names the scrape jobs of the diagnostic sources the alerts read.
	Sources Sources
	// RunbookURL is the runbook of every alert that neither it nor its
	// service names one of its own.
	RunbookURL string
	// Routing is how Alertmanager delivers the alerts; zero writes no
	// Alertmanager configuration.
	Routing Routing
	// GrafanaURL is the base URL of the Grafana that shows the generated
	// dashboards; when set, every service alert links to its panel with a
	// dashboard_url annotation.
	GrafanaURL string
	// Hosts are the Docker daemons Prometheus discovers the services'
	// containers on, one per host; none means DefaultHost, the local one.
	Hosts []Host
	// Prometheus is how the generated prometheus.yml scrapes and evaluates.
	Prometheus Prometheus
	// Kubernetes, when set, also builds the Kubernetes target: a
	// PrometheusRule, a plain rule file with its promtool tests and a
	// Deployment patch per service, under kubernetes/. Nil: Docker only.
	Kubernetes *Kubernetes
}

// PipelineGroup names the rule group and files of a spec's Pipeline alerts;
// no service may take the name.
const PipelineGroup = "promgen-pipeline"

// Sources names the Prometheus jobs that publish diagnostic data, so alerts
// can tell "service down" from "we cannot see why".
type Sources struct {
	// ExporterJob is gateway-exporter's scrape job. Default "gateway-exporter".
	ExporterJob string
	// CAdvisorJob is cAdvisor's scrape job. Default "cadvisor".
	CAdvisorJob string
	// WithoutCAdvisor says gateway-exporter reads memory from Docker's
	// stats API (--cadvisor.url=""), so there is no cAdvisor to scrape:
	// prometheus.yml has no cAdvisor job and rules.Pipeline no CAdvisorDown.
	WithoutCAdvisor bool
	// PrometheusJob is the job Prometheus scrapes itself in, and
	// AlertmanagerJob its Alertmanagers': the alerting pipeline's own health
	// (rules.SelfMonitoring). Defaults "prometheus" and "alertmanager".
	PrometheusJob, AlertmanagerJob string
}

// Service is one monitored service: a Prometheus job backed by a docker
// compose service.
type Service struct {
	// Name is the compose service name; it also names the generated files and
	// the service label of every alert.
	Name string
	// Job is the Prometheus scrape job of the service. Default: Name.
	Job string
	// ComposeProject is the compose project the service runs in. When set,
	// alerts read only that project's containers, so two projects on one
	// host may each have a service of the same name. Default: any project.
	ComposeProject string
	// RunbookURL is the runbook of the service's alerts that name none of
	// their own. Default: the spec's RunbookURL.
	RunbookURL string
	// EvaluationInterval is the rule group's interval. Zero leaves Prometheus'
	// global evaluation_interval in force.
	EvaluationInterval time.Duration
	// Container is the container policy written to the compose fragment.
	Container Container
	// Alerts watch the service.
	Alerts []Alert
	// SLOs are the service's objectives; rules.SLO builds their recording
	// rules and burn-rate alerts.
	SLOs []SLO
	// Records are recording rules of the service's group, evaluated before
	// its alerts, which may read them.
	Records []Record
	// Scrape is how Prometheus scrapes the service: a port on each of its
	// containers, discovered on the spec's hosts, or static targets.
	Scrape Scrape
	// Kubernetes are the service's names and alerts on the Kubernetes
	// target; read only when the spec's Kubernetes is set.
	Kubernetes KubernetesService
	// Metrics are the service's own metrics that its custom alerts read,
	// beyond promgen's catalog and the SLOs' request and latency metrics:
	// declared, lint knows their names and types (a rate() of a gauge is
	// an error, a typo a warning) instead of warning that it knows none.
	Metrics []ExposedMetric
}

// ExposedMetric is a metric a service exposes, as its exposition declares
// it (# TYPE and # HELP).
type ExposedMetric struct {
	// Name is the metric's name; a histogram's or summary's without the
	// _bucket, _sum or _count suffix.
	Name string
	// Type is counter, gauge, histogram or summary.
	Type string
	// Help says what it counts or measures.
	Help string
}

// Record is a recording rule and the scenarios that prove it.
type Record struct {
	// Name is the recorded metric, of the form level:metric:operations.
	Name string
	// Expr is the PromQL expression.
	Expr parser.Expr
	// Labels are static labels of the recorded series.
	Labels map[string]string
	// Interval, when set, evaluates the record in a group of its own at
	// that interval, beside its service's group: a window of a day or
	// more that no page reads changes little between two evaluations, and
	// the groups of many services stay short. Zero keeps the record in its
	// service's group.
	Interval time.Duration
	// Tests prove the record with Queries; promgen writes them as promtool
	// unit tests.
	Tests []Test
}

// Container is the runtime policy of a service's containers, after the
// runbook's "Auto-Restart Configuration" and "Health Checks".
type Container struct {
	// Restart is compose's restart field, which compose hands to Docker as
	// the container's restart policy: no, always, unless-stopped or
	// on-failure[:N]. The runbook's unless-stopped restarts the container
	// for its whole life, with Docker's own backoff (100ms doubling to a
	// minute, reset once it has run 10s); a crash loop is surfaced by
	// ContainerCrashLooping and ServiceDown, not stopped. on-failure:N
	// bounds the restarts, but Docker never renews that budget: its restart
	// count only goes back to 0 when the container is recreated (or started
	// by hand), so N crashes weeks apart leave it dead. There is no
	// deploy.restart_policy: outside swarm compose lets it override restart
	// and applies only its condition and max_attempts (delay and window are
	// swarm's), so it could only say less than this field.
	Restart string
	// Memory holds the limit and reservation; without a limit the memory
	// ratio alerts are meaningless and lint rejects them.
	Memory Memory
	// Healthcheck is the container healthcheck.
	Healthcheck Healthcheck
	// Replicas is compose's deploy.replicas. Zero: compose's default, one.
	Replicas uint64
}

// Memory is a memory limit and reservation.
type Memory struct {
	// Limit is the hard limit; the kernel OOM-kills above it. Zero: none.
	Limit Bytes
	// Reservation is the soft guarantee. Zero: none.
	Reservation Bytes
}

// Healthcheck is a container healthcheck.
type Healthcheck struct {
	// Test is the command in compose's form, e.g. ["CMD", "curl", "-f", URL].
	// An image without curl needs another command.
	Test []string
	// Interval between checks.
	Interval time.Duration
	// Timeout of one check.
	Timeout time.Duration
	// Retries before the container turns unhealthy.
	Retries uint64
	// StartPeriod during which failures do not count.
	StartPeriod time.Duration
}

// Enabled reports whether the healthcheck probes the container: Docker
// reports a health status only then.
func (h Healthcheck) Enabled() bool { return len(h.Test) > 0 && h.Test[0] != "NONE" }

// Bytes is a size in bytes.
type Bytes int64

// Binary size units.
const (
	KiB Bytes = 1 << 10
	MiB Bytes = 1 << 20
	GiB Bytes = 1 << 30
)

// Severity routes an alert; critical pages. The values are the
// conventions package's.
type Severity = conventions.Severity

// The severities an alert may have.
const (
	Critical = conventions.Critical
	Warning  = conventions.Warning
	Info     = conventions.Info
)

// Alert is one Prometheus alerting rule and the scenarios that prove it.
type Alert struct {
	// Name is the CamelCase alert name.
	Name string
	// Expr is the PromQL expression, built from typed parts (see Metric, Join).
	Expr parser.Expr
	// For is how long Expr must hold before the alert fires.
	For time.Duration
	// KeepFiringFor keeps the alert firing this long after Expr stopped
	// holding, so a flapping source does not resolve and re-page.
	KeepFiringFor time.Duration
	// Severity is the severity label.
	Severity Severity
	// Labels are extra static labels. Never put volatile values here: a label
	// that changes resets the For timer.
	Labels map[string]string
	// Summary and Description are annotation templates.
	Summary     string
	Description string
	// Annotations are further annotation templates, by conventions' names
	// (e.g. the impact of ServiceDown).
	Annotations map[string]string
	// RunbookURL is the runbook_url annotation. Default: the service's, then
	// the spec's RunbookURL.
	RunbookURL string
	// Tests prove the alert; promgen writes them as promtool unit tests.
	Tests []Test
}

// Test is one scenario of input series and the alerts expected over time.
type Test struct {
	// Name says, as a sentence, what the scenario proves.
	Name string
	// Interval between input samples. Default 15s.
	Interval time.Duration
	// Series are the input series.
	Series []Series
	// Expect lists what must be firing at given times.
	Expect []Expect
	// Queries are expressions checked at given times, e.g. a recorded
	// series' value (promtool's promql_expr_test).
	Queries []Query
}

// Query expects an expression's result at one time.
type Query struct {
	// At is the evaluation time from the start of the test.
	At time.Duration
	// Expr is the PromQL expression, e.g. a recorded series' selector.
	Expr string
	// Samples are the expected result; empty asserts an empty result.
	Samples []Sample
}

// Sample is one expected series of a Query.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Series is one input series of a Test.
type Series struct {
	// Metric is the metric name; use catalog constants.
	Metric string
	// Labels of the series.
	Labels map[string]string
	// Values is the series over time, segment after segment.
	Values []Segment
}

// Segment holds a value for a while, or ends the series.
type Segment struct {
	// Value of every sample in the segment.
	Value float64
	// For is the segment's duration; it holds For/Interval samples.
	For time.Duration
	// Stale ends the series with a staleness marker, as Prometheus writes
	// when a target stops answering; the rest of the segment is missing.
	Stale bool
	// Gap leaves the segment without samples and, unlike Stale, writes no
	// staleness marker: a series not yet born, or a gap in every series
	// while Prometheus itself was restarting.
	Gap bool
	// Increase is added at every sample after the segment's first, as a
	// counter grows: Value, Value+Increase, Value+2*Increase, ...
	Increase float64
}

// Expect is what must be firing at one time. An empty Firing asserts that
// the alert does not fire.
type Expect struct {
	// At is the evaluation time from the start of the test.
	At time.Duration
	// Firing are the expected alert instances.
	Firing []Firing
}

// Firing is one expected alert instance. The alert's static labels (severity,
// service and Labels) and its annotation runbook_url are added by promgen;
// everything that comes from the data is written here.
type Firing struct {
	// Labels from the series the alert fired on.
	Labels map[string]string
	// Summary and Description as rendered.
	Summary     string
	Description string
	// Annotations are the alert's further annotations as rendered.
	Annotations map[string]string
}
