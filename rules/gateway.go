package rules

import (
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/spec"
)

// The inference gateway's own spec: the only place its names are written.

// GatewayService is the inference gateway's compose service and job name.
const GatewayService = "inference-gateway"

// GatewayRunbookURL is the runbook the gateway's alerts link to.
const GatewayRunbookURL = "https://runbooks.example.com/inference-gateway/service-down"

// GatewayPort is where the gateway serves its API and metrics, on the
// host network.
const GatewayPort = 8000

// GatewayPrometheus is the stack's Prometheus in a profile: the defaults
// (15s), and in the e2e profile every interval at 1s, as the fault matrix
// runs it, with a replica discovered within 5s of its start.
func GatewayPrometheus(p Profile) spec.Prometheus {
	if p.Name == E2E.Name {
		// The fault matrix's Prometheus keeps Prometheus' default 15d.
		return spec.Prometheus{ScrapeInterval: time.Second, ScrapeTimeout: time.Second, EvaluationInterval: time.Second,
			RefreshInterval: 5 * time.Second, Retention: 15 * 24 * time.Hour}
	}
	return spec.Prometheus{Retention: GatewayRetention, ExternalURL: PrometheusURL}
}

// GatewayRetention is how long the stack's Prometheus keeps samples
// (compose/docker-compose.yml): the 30-day objectives' window and a day,
// so the oldest block still holds the window's first sample.
const GatewayRetention = 31 * 24 * time.Hour

// GatewaySources are the stack's diagnosis sources: gateway-exporter and
// cAdvisor, and in the e2e profile gateway-exporter alone, reading memory
// from Docker's stats API, since cAdvisor's image cannot be pulled there.
func GatewaySources(p Profile) spec.Sources {
	return spec.Sources{WithoutCAdvisor: p.Name == E2E.Name}
}

// HealthURL is the gateway's health endpoint, as in the runbook.
const HealthURL = "http://localhost:8000/health"

// StandinHealthcheck is the healthcheck of the project's stand-in gateway,
// whose FROM scratch image has no curl.
var StandinHealthcheck = []string{"CMD", "/standin-gateway", "healthcheck"}

// GatewayContainer is the gateway's container policy in a profile: the
// runbook's, and for the fault matrix a limit small enough to OOM quickly
// and the stand-in's healthcheck at the profile's pace.
func GatewayContainer(p Profile) spec.Container {
	c := spec.RunbookContainer(HealthURL)
	if p.Name == E2E.Name {
		c.Memory = spec.Memory{Limit: 256 * spec.MiB, Reservation: 128 * spec.MiB}
		c.Healthcheck = spec.Healthcheck{
			Test:        StandinHealthcheck,
			Interval:    time.Second,
			Timeout:     time.Second,
			Retries:     3,
			StartPeriod: 2 * time.Second,
		}
	}
	return c
}

// The gateway's receivers: the runbook pages PagerDuty for a P0 and posts in
// Slack #incidents ("Acknowledge Immediately"). Secrets stay in files where
// Alertmanager runs, mounted by compose/docker-compose.yml.
const (
	PagerDutyKeyFile = "/etc/alertmanager/secrets/pagerduty-routing-key"
	SlackURLFile     = "/etc/alertmanager/secrets/slack-incidents-url"
	SlackChannel     = "#incidents"
	// HeartbeatURLFile holds the dead man's switch's URL (healthchecks.io,
	// say), where the Watchdog is posted every minute.
	HeartbeatURLFile = "/etc/alertmanager/secrets/heartbeat-url"
)

// GrafanaURL is the Grafana the stack's users add (compose/grafana
// provisions the generated dashboards into it); alerts link to its panels.
const GrafanaURL = "http://localhost:3000"

// E2EWebhookAddr is where the fault matrix listens for the e2e profile's
// notifications: one path per receiver.
const E2EWebhookAddr = "127.0.0.1:19095"

// The paths of the fault matrix's stand-ins for Slack's and PagerDuty's
// APIs and for the dead man's switch, at E2EWebhookAddr, and the stand-in's
// routing key (no secret: nothing but the test reads it).
const (
	E2ESlackPath     = "/slack"
	E2EPagerDutyPath = "/pagerduty"
	E2EHeartbeatPath = "/heartbeat"
	E2EPagerDutyKey  = "e2e0stand0in0routing0key00000000"
)

// GatewayIncident is how the runbook's Communication section speaks of an
// incident: in #incidents, led by the on-call engineer, in the war room,
// a critical alert being a P0.
var GatewayIncident = spec.Incident{
	Channel:       SlackChannel,
	WarRoom:       "https://zoom.us/j/emergency",
	Commander:     "@oncall-engineer",
	SeverityNames: map[spec.Severity]string{spec.Critical: "P0 - All Hands"},
}

// PrometheusURL and AlertmanagerURL are where the stack's users reach its
// Prometheus and Alertmanager (compose/docker-compose.yml runs them with
// these --web.external-url): every link of a notification points there.
const (
	PrometheusURL   = "http://localhost:9090"
	AlertmanagerURL = "http://localhost:9093"
)

// GatewayRouting is the gateway's Alertmanager routing in a profile:
// critical pages and posts in #incidents, warnings only post. The e2e
// profile sends both to the fault matrix's receivers on loopback instead,
// and groups, repeats and beats ten times faster so notifications arrive
// within its budgets.
func GatewayRouting(p Profile) spec.Routing {
	r := spec.Routing{
		Receivers: []spec.Receiver{
			{Name: "pagerduty", PagerDuty: &spec.PagerDuty{RoutingKeyFile: PagerDutyKeyFile}},
			{Name: "slack-incidents", Slack: &spec.Slack{APIURLFile: SlackURLFile, Channel: SlackChannel}},
		},
		BySeverity: map[spec.Severity][]string{
			spec.Critical: {"pagerduty", "slack-incidents"},
			spec.Warning:  {"slack-incidents"},
			spec.Info:     {"slack-incidents"},
		},
		Default:        "slack-incidents",
		GroupWait:      30 * time.Second,
		GroupInterval:  5 * time.Minute,
		RepeatInterval: 4 * time.Hour,
		// The runbook's status updates: every 5 minutes while a P0 lasts.
		RepeatBySeverity: map[spec.Severity]time.Duration{spec.Critical: 5 * time.Minute},
		Incident:         GatewayIncident,
		// The dead man's switch: the Watchdog every minute.
		Heartbeat:   &spec.Heartbeat{Webhook: spec.Webhook{URLFile: HeartbeatURLFile}, Interval: time.Minute},
		ExternalURL: AlertmanagerURL,
	}
	if p.Name == E2E.Name {
		// The matrix's webhooks (page, chat) carry the labels it checks;
		// beside them, Alertmanager's real PagerDuty and Slack notifiers
		// post the generated templates to the test's stand-ins of their
		// APIs, as production's receivers would.
		at := "http://" + E2EWebhookAddr
		r.Receivers = []spec.Receiver{
			{Name: "page", Webhook: &spec.Webhook{URL: at + "/page"}},
			{Name: "pagerduty", PagerDuty: &spec.PagerDuty{RoutingKey: E2EPagerDutyKey, URL: at + E2EPagerDutyPath}},
			{Name: "chat", Webhook: &spec.Webhook{URL: at + "/chat"}},
			{Name: "slack-incidents", Slack: &spec.Slack{APIURL: at + E2ESlackPath, Channel: SlackChannel}},
		}
		r.BySeverity = map[spec.Severity][]string{
			spec.Critical: {"page", "pagerduty", "chat", "slack-incidents"},
			spec.Warning:  {"chat", "slack-incidents"},
			spec.Info:     {"chat", "slack-incidents"},
		}
		r.Default = "chat"
		r.GroupWait, r.GroupInterval, r.RepeatInterval = time.Second, 5*time.Second, time.Hour
		// The runbook's 5-minute updates, ten times faster.
		r.RepeatBySeverity = map[spec.Severity]time.Duration{spec.Critical: p.D(5 * time.Minute)}
		r.Heartbeat = &spec.Heartbeat{Webhook: spec.Webhook{URL: at + E2EHeartbeatPath}, Interval: p.D(time.Minute)}
	}
	return r
}

// GatewayLatencyBuckets are the bounds of the gateway's request-duration
// histogram.
var GatewayLatencyBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5}

// GatewaySLOs are the gateway's objectives: 99.9% of requests succeed, and
// 99% are served within 0.5s, over 30 days (3 days in the e2e profile, whose
// alert windows are ten times shorter too). Time no replica of the gateway
// answers counts as failed requests.
func GatewaySLOs(p Profile) []spec.SLO {
	window := p.D(30 * 24 * time.Hour)
	return []spec.SLO{
		{
			Name: "availability", Objective: 0.999, Window: window,
			Availability: &spec.AvailabilitySLI{Requests: catalog.HTTPRequestsTotal, Errors: []*labels.Matcher{spec.Re(catalog.LabelHTTPStatus, "5..")}},
		},
		{
			Name: "latency", Objective: 0.99, Window: window,
			Latency: &spec.LatencySLI{Histogram: catalog.HTTPRequestDurationSeconds, Threshold: 0.5, Buckets: GatewayLatencyBuckets},
		},
	}
}

// GatewayKubernetes is the gateway's Kubernetes target: its Deployment,
// container and job are named after the service, in the default namespace,
// as the runbook's kubectl commands assume.
var GatewayKubernetes = &spec.Kubernetes{}

// Spec returns the inference gateway's spec for a profile: every alert of
// the runbook on the gateway, the pipeline alerts that say when its pages
// would arrive without their diagnosis, and their routing.
func Spec(p Profile) spec.Spec {
	svc := spec.Service{
		Name:               GatewayService,
		EvaluationInterval: p.EvaluationInterval,
		Container:          GatewayContainer(p),
		Scrape:             spec.Scrape{Port: GatewayPort},
	}
	// Objectives first: ServiceDown counts the budget its outage consumes.
	svc.SLOs = GatewaySLOs(p)
	svc.Alerts = Runbook(svc, p)
	records, sloAlerts := SLOs(svc)
	svc.Records, svc.Alerts = append([]spec.Record{ServedRate(svc, p)}, records...), append(svc.Alerts, sloAlerts...)
	s := spec.Spec{RunbookURL: GatewayRunbookURL, GrafanaURL: GrafanaURL, Prometheus: GatewayPrometheus(p), Sources: GatewaySources(p)}
	// The runbook runs on Kubernetes too (it rolls back with kubectl
	// rollout undo): the production spec also builds that target.
	if p.Name == Production.Name {
		s.Kubernetes = GatewayKubernetes
		svc.Kubernetes.Alerts = KubernetesRunbook(s.Kubernetes, svc, p)
		kubeRecords, kubeBurns := KubernetesSLOs(s.Kubernetes, svc)
		svc.Kubernetes.Records, svc.Kubernetes.Alerts = append([]spec.Record{KubernetesServedRate(s.Kubernetes, svc, p)}, kubeRecords...), append(svc.Kubernetes.Alerts, kubeBurns...)
	}
	s.Services = []spec.Service{svc}
	s.Pipeline = Pipeline(s, p)
	s.Routing = GatewayRouting(p)
	s.Routing.Inhibitions = Inhibitions(s)
	return s
}
