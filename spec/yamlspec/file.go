// Package yamlspec is the spec as a YAML file, for teams that use the stock
// promgen binary instead of writing Go: it decodes strictly into the same
// spec.Spec, naming the runbook's alerts (package rules' builders) instead
// of writing their expressions. Every error names file:line:column.
package yamlspec

import (
	"github.com/sre-tools/promgen/spec"
)

// File is a promgen.yaml: every field mirrors the spec.Spec field of the
// same name, snake_cased as validation errors name it.
type File struct {
	// RunbookURL is the runbook of every alert whose service names none.
	RunbookURL string `yaml:"runbook_url,omitempty" jsonschema:"format=uri"`
	// GrafanaURL is the base URL of the Grafana showing the generated
	// dashboards; when set, alerts link to their panel.
	GrafanaURL string `yaml:"grafana_url,omitempty" jsonschema:"format=uri"`
	// ComposeBase is the compose file, relative to this file, that the
	// generated fragments are validated over; none validates them alone.
	ComposeBase string `yaml:"compose_base,omitempty"`
	// Sources names the scrape jobs of the diagnosis sources.
	Sources Sources `yaml:"sources,omitempty"`
	// Prometheus is how the generated prometheus.yml scrapes and evaluates.
	Prometheus Prometheus `yaml:"prometheus,omitempty"`
	// Hosts are the Docker daemons the services run on; none is the local one.
	Hosts []Host `yaml:"hosts,omitempty"`
	// Kubernetes, when set, also builds the Kubernetes target.
	Kubernetes *Kubernetes `yaml:"kubernetes,omitempty"`
	// Routing is how Alertmanager delivers the alerts; none writes no
	// Alertmanager configuration.
	Routing Routing `yaml:"routing,omitempty"`
	// Pipeline names the spec-wide alerts on the monitoring pipeline itself.
	Pipeline []PipelineAlert `yaml:"pipeline,omitempty"`
	// Services are the monitored services.
	Services []Service `yaml:"services"`
}

// Sources is spec.Sources.
type Sources struct {
	// ExporterJob is gateway-exporter's scrape job. Default "gateway-exporter".
	ExporterJob string `yaml:"exporter_job,omitempty"`
	// CAdvisorJob is cAdvisor's scrape job. Default "cadvisor".
	CAdvisorJob string `yaml:"cadvisor_job,omitempty"`
	// WithoutCAdvisor says gateway-exporter reads memory from Docker's stats
	// API: no cAdvisor job, no CAdvisorDown.
	WithoutCAdvisor bool `yaml:"without_cadvisor,omitempty"`
	// PrometheusJob is the job Prometheus scrapes itself in. Default "prometheus".
	PrometheusJob string `yaml:"prometheus_job,omitempty"`
	// AlertmanagerJob is the job of the Alertmanagers. Default "alertmanager".
	AlertmanagerJob string `yaml:"alertmanager_job,omitempty"`
}

// Prometheus is spec.Prometheus; every field left out takes its default.
type Prometheus struct {
	// ScrapeInterval of every job. Default 15s.
	ScrapeInterval Duration `yaml:"scrape_interval,omitempty"`
	// ScrapeTimeout of every job. Default 10s.
	ScrapeTimeout Duration `yaml:"scrape_timeout,omitempty"`
	// EvaluationInterval of the rule groups that set none. Default 15s.
	EvaluationInterval Duration `yaml:"evaluation_interval,omitempty"`
	// Alertmanagers are host:port targets. Default localhost:9093.
	Alertmanagers []string `yaml:"alertmanagers,omitempty"`
	// ExporterPort is gateway-exporter's port on every host. Default 19818.
	ExporterPort int `yaml:"exporter_port,omitempty"`
	// CAdvisorPort is cAdvisor's port on every host. Default 8080.
	CAdvisorPort int `yaml:"cadvisor_port,omitempty"`
	// RefreshInterval of docker_sd_configs. Default 1m.
	RefreshInterval Duration `yaml:"refresh_interval,omitempty"`
	// Retention is Prometheus' --storage.tsdb.retention.time; every
	// objective's window must fit in it.
	Retention Duration `yaml:"retention,omitempty"`
	// Address is where Prometheus listens and scrapes itself. Default localhost:9090.
	Address string `yaml:"address,omitempty"`
	// ExternalURL is Prometheus' --web.external-url. Default http://localhost:9090.
	ExternalURL string `yaml:"external_url,omitempty" jsonschema:"format=uri"`
	// ExporterTLS scrapes gateway-exporter over https with it.
	ExporterTLS *TLS `yaml:"exporter_tls,omitempty"`
	// ExporterBasicAuth is what gateway-exporter's --web.config.file asks.
	ExporterBasicAuth *BasicAuth `yaml:"exporter_basic_auth,omitempty"`
	// Base is the team's own prometheus.yml, read where promgen runs:
	// its settings and jobs are kept and promgen's added.
	Base string `yaml:"base,omitempty"`
}

// Host is spec.Host: a Docker daemon.
type Host struct {
	// Name is the host label of its targets.
	Name string `yaml:"name"`
	// Address is the daemon's address: unix:///var/run/docker.sock,
	// tcp://node-2:2375, or https://node-2:2376 for a daemon behind TLS.
	Address string `yaml:"address"`
	// TLS verifies the daemon and proves Prometheus to it; https:// only.
	TLS *TLS `yaml:"tls,omitempty"`
	// BasicAuth is for a daemon behind an authenticating proxy.
	BasicAuth *BasicAuth `yaml:"basic_auth,omitempty"`
}

// TLS is spec.TLS: files as the Prometheus that reads the config sees them.
type TLS struct {
	// CAFile verifies the server's certificate. Empty: the system's roots.
	CAFile string `yaml:"ca_file,omitempty"`
	// CertFile and KeyFile are Prometheus' client certificate and key.
	CertFile string `yaml:"cert_file,omitempty"`
	KeyFile  string `yaml:"key_file,omitempty"`
	// ServerName is the name the server's certificate must hold.
	ServerName string `yaml:"server_name,omitempty"`
}

// BasicAuth is spec.BasicAuth: the password only ever from a file.
type BasicAuth struct {
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
}

// Kubernetes is spec.Kubernetes.
type Kubernetes struct {
	// Namespace of the Deployments and PrometheusRules. Default "default".
	Namespace string `yaml:"namespace,omitempty"`
	// RuleLabels are labels of every PrometheusRule.
	RuleLabels map[string]string `yaml:"rule_labels,omitempty"`
}

// Routing is spec.Routing.
type Routing struct {
	// Receivers are where notifications go.
	Receivers []Receiver `yaml:"receivers,omitempty"`
	// BySeverity names the receivers of each severity.
	BySeverity map[spec.Severity][]string `yaml:"by_severity,omitempty"`
	// Default is the receiver of what no severity route takes.
	Default string `yaml:"default,omitempty"`
	// GroupBy are the labels notifications are grouped by. Default [service].
	GroupBy []string `yaml:"group_by,omitempty"`
	// GroupWait, GroupInterval and RepeatInterval are Alertmanager's.
	GroupWait      Duration `yaml:"group_wait,omitempty"`
	GroupInterval  Duration `yaml:"group_interval,omitempty"`
	RepeatInterval Duration `yaml:"repeat_interval,omitempty"`
	// RepeatBySeverity overrides RepeatInterval per severity.
	RepeatBySeverity map[spec.Severity]Duration `yaml:"repeat_by_severity,omitempty"`
	// RunbookInhibitions adds the runbook's inhibitions (rules.Inhibitions)
	// among the spec's alerts, before Inhibitions.
	RunbookInhibitions bool `yaml:"runbook_inhibitions,omitempty"`
	// Inhibitions mute target alerts while a source alert fires.
	Inhibitions []Inhibition `yaml:"inhibitions,omitempty"`
	// Heartbeat sends the Watchdog to a dead man's switch.
	Heartbeat *Heartbeat `yaml:"heartbeat,omitempty"`
	// Incident is how notifications speak of an incident.
	Incident Incident `yaml:"incident,omitempty"`
	// ExternalURL is where people reach Alertmanager.
	ExternalURL string `yaml:"external_url,omitempty" jsonschema:"format=uri"`
}

// Receiver is spec.Receiver: one of pagerduty, slack and webhook.
type Receiver struct {
	Name      string     `yaml:"name"`
	PagerDuty *PagerDuty `yaml:"pagerduty,omitempty"`
	Slack     *Slack     `yaml:"slack,omitempty"`
	Webhook   *Webhook   `yaml:"webhook,omitempty"`
}

// PagerDuty is spec.PagerDuty; a real key stays in a file.
type PagerDuty struct {
	RoutingKeyFile string `yaml:"routing_key_file,omitempty"`
	RoutingKey     string `yaml:"routing_key,omitempty"`
	URL            string `yaml:"url,omitempty" jsonschema:"format=uri"`
}

// Slack is spec.Slack; a real webhook URL stays in a file.
type Slack struct {
	APIURLFile string `yaml:"api_url_file,omitempty"`
	APIURL     string `yaml:"api_url,omitempty" jsonschema:"format=uri"`
	Channel    string `yaml:"channel"`
}

// Webhook is spec.Webhook: a URL, or a file holding it.
type Webhook struct {
	URL     string `yaml:"url,omitempty"`
	URLFile string `yaml:"url_file,omitempty"`
}

// Inhibition is spec.Inhibition.
type Inhibition struct {
	Source  string   `yaml:"source"`
	Targets []string `yaml:"targets"`
	Equal   []string `yaml:"equal,omitempty"`
}

// Heartbeat is spec.Heartbeat.
type Heartbeat struct {
	Webhook  Webhook  `yaml:"webhook"`
	Interval Duration `yaml:"interval,omitempty"`
}

// Incident is spec.Incident.
type Incident struct {
	Channel       string                   `yaml:"channel,omitempty"`
	WarRoom       string                   `yaml:"war_room,omitempty"`
	Commander     string                   `yaml:"commander,omitempty"`
	SeverityNames map[spec.Severity]string `yaml:"severity_names,omitempty"`
}

// Service is spec.Service, its alerts named.
type Service struct {
	// Name is the compose service name.
	Name string `yaml:"name"`
	// Job is the Prometheus scrape job. Default: the name.
	Job string `yaml:"job,omitempty"`
	// ComposeProject restricts the alerts to one compose project.
	ComposeProject string `yaml:"compose_project,omitempty"`
	// RunbookURL of the service's alerts. Default: the spec's.
	RunbookURL string `yaml:"runbook_url,omitempty" jsonschema:"format=uri"`
	// EvaluationInterval of the service's rule group.
	EvaluationInterval Duration `yaml:"evaluation_interval,omitempty"`
	// Container is the policy written to the compose fragment.
	Container Container `yaml:"container,omitempty"`
	// Scrape is how Prometheus scrapes the service.
	Scrape Scrape `yaml:"scrape,omitempty"`
	// Alerts name the runbook's alerts on the service (package rules).
	Alerts []Alert `yaml:"alerts,omitempty"`
	// CustomAlerts are the team's own alerts, written as PromQL, with
	// their scenarios in promtool's test format; after Alerts.
	CustomAlerts []CustomAlert `yaml:"custom_alerts,omitempty"`
	// SLOs are the service's objectives; their records and burn-rate
	// alerts are added (rules.SLOs).
	SLOs []SLO `yaml:"slos,omitempty"`
	// Kubernetes are the service's names and alerts on the Kubernetes target.
	Kubernetes KubernetesService `yaml:"kubernetes,omitempty"`
	// Metrics are the service's own metrics its custom alerts read: lint
	// knows their names and types.
	Metrics []ExposedMetric `yaml:"metrics,omitempty"`
}

// ExposedMetric is spec.ExposedMetric.
type ExposedMetric struct {
	// Name is the metric's name (a histogram's without _bucket).
	Name string `yaml:"name"`
	// Type is the metric's type, as its exposition declares it.
	Type string `yaml:"type" jsonschema:"enum=counter,enum=gauge,enum=histogram,enum=summary"`
	// Help says what it counts or measures.
	Help string `yaml:"help,omitempty"`
}

// Container is spec.Container.
type Container struct {
	// Restart: no, always, unless-stopped or on-failure[:N].
	Restart string `yaml:"restart,omitempty"`
	// Memory limit and reservation.
	Memory Memory `yaml:"memory,omitempty"`
	// Healthcheck of the container.
	Healthcheck Healthcheck `yaml:"healthcheck,omitempty"`
	// Replicas is compose's deploy.replicas.
	Replicas uint64 `yaml:"replicas,omitempty"`
}

// Memory is spec.Memory.
type Memory struct {
	Limit       Bytes `yaml:"limit,omitempty"`
	Reservation Bytes `yaml:"reservation,omitempty"`
}

// Healthcheck is spec.Healthcheck.
type Healthcheck struct {
	// Test is the command in compose's form, e.g. [CMD, curl, -f, URL].
	Test        []string `yaml:"test,omitempty"`
	Interval    Duration `yaml:"interval,omitempty"`
	Timeout     Duration `yaml:"timeout,omitempty"`
	Retries     uint64   `yaml:"retries,omitempty"`
	StartPeriod Duration `yaml:"start_period,omitempty"`
}

// Scrape is spec.Scrape.
type Scrape struct {
	// Port of the metrics endpoint in each container.
	Port int `yaml:"port,omitempty"`
	// Path of the metrics endpoint. Default /metrics.
	Path string `yaml:"path,omitempty"`
	// Static host:port targets, instead of discovering containers.
	Static []string `yaml:"static,omitempty"`
}

// SLO is spec.SLO: exactly one of availability and latency.
type SLO struct {
	// Name is the slo label, lower-case.
	Name string `yaml:"name"`
	// Objective is the share of good events, e.g. 0.999.
	Objective float64 `yaml:"objective"`
	// Window is the compliance window, e.g. 30d.
	Window       Duration         `yaml:"window"`
	Availability *AvailabilitySLI `yaml:"availability,omitempty"`
	Latency      *LatencySLI      `yaml:"latency,omitempty"`
}

// AvailabilitySLI is spec.AvailabilitySLI.
type AvailabilitySLI struct {
	// Requests is the request counter, e.g. http_requests_total.
	Requests string `yaml:"requests"`
	// Errors selects the failed requests, as PromQL matchers: {status=~"5.."}.
	Errors Matchers `yaml:"errors"`
}

// LatencySLI is spec.LatencySLI.
type LatencySLI struct {
	// Histogram is the histogram's name without _bucket.
	Histogram string `yaml:"histogram"`
	// Threshold in seconds, one of Buckets.
	Threshold float64 `yaml:"threshold"`
	// Buckets are the histogram's upper bounds.
	Buckets []float64 `yaml:"buckets"`
}

// KubernetesService is spec.KubernetesService, its alerts named.
type KubernetesService struct {
	Namespace  string `yaml:"namespace,omitempty"`
	Deployment string `yaml:"deployment,omitempty"`
	Container  string `yaml:"container,omitempty"`
	Job        string `yaml:"job,omitempty"`
	// Alerts name the runbook's alerts on Kubernetes. Default: every one
	// rules.KubernetesRunbook builds for the service.
	Alerts []KubernetesAlert `yaml:"alerts,omitempty"`
	// Omit leaves the service out of the Kubernetes target.
	Omit bool `yaml:"omit,omitempty"`
}
