// Command ml-platform is another team's promgen, written only against
// promgen's public packages (spec, its scenario helpers, rules, the
// runbook's builders and the CLI package) from a module of its own, so the
// compiler refuses anything under promgen's internal/: three services of
// their own in one compose project, built, tested and drift-checked in CI
// like the gateway's; the two that serve also run on the team's Kubernetes
// cluster. Run from examples/, the module's folder:
//
//	go run ./ml-platform build          # writes ml-platform/generated
//	go run ./ml-platform build --check  # CI: fails when generated/ is stale
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/sre-tools/promgen/cmd/promgen/commands"
	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"

	"example.com/promgen-examples/ml-platform/alerts"
)

// Spec is the ML platform team's alerting: its services' alerts, and
// their objectives on the cluster too, counted in its namespace.
func Spec(p rules.Profile) spec.Spec {
	s := services(p)
	for i := range s.Services {
		svc := &s.Services[i]
		if len(svc.SLOs) > 0 && !svc.Kubernetes.Omit {
			records, burns := rules.KubernetesSLOs(s.Kubernetes, *svc)
			svc.Kubernetes.Records, svc.Kubernetes.Alerts = append(svc.Kubernetes.Records, records...), append(svc.Kubernetes.Alerts, burns...)
		}
	}
	// ServiceDown mutes the burn alerts on the cluster too.
	s.Routing.Inhibitions = rules.Inhibitions(s)
	return s
}

// services is the team's services, on Docker hosts and on the cluster.
func services(p rules.Profile) spec.Spec {
	// The ranker serves traffic from two replicas: every runbook alert.
	ranker := spec.Service{
		Name:           "ranker",
		Job:            "ranker-api",
		ComposeProject: "ml-platform",
		Container:      spec.RunbookContainer("http://localhost:9000/health"),
		// Prometheus discovers each replica on the team's Docker hosts.
		Scrape: spec.Scrape{Port: 9000},
	}
	ranker.Container.Replicas = 2
	// On Kubernetes the Deployment keeps the job's name.
	ranker.Kubernetes.Deployment = "ranker-api"
	// 99.5% of ranking requests succeed over 28 days; time the ranker
	// cannot be scraped counts as failed. Declared before the alerts:
	// ServiceDown counts the budget an outage consumes.
	ranker.SLOs = []spec.SLO{{
		Name: "availability", Objective: 0.995, Window: p.D(28 * 24 * time.Hour),
		Availability: &spec.AvailabilitySLI{Requests: "ranker_requests_total", Errors: []*labels.Matcher{spec.Re("code", "5..")}},
	}}
	ranker.Alerts = rules.Runbook(ranker, p)
	records, burns := rules.SLOs(ranker)
	// ServiceDown's impact reads the traffic ServedRate holds.
	ranker.Records, ranker.Alerts = append([]spec.Record{rules.ServedRate(ranker, p)}, records...), append(ranker.Alerts, burns...)

	// The embedder runs without a memory limit, so no memory alerts (lint
	// would refuse them), and has a runbook of its own.
	embedder := spec.Service{
		Name:           "embedder",
		ComposeProject: "ml-platform",
		RunbookURL:     "https://runbooks.example.com/ml-platform/embedder",
		Container:      spec.RunbookContainer("http://localhost:9100/healthz"),
		// Scraped through its load balancer: its page carries the most
		// recent termination of any replica.
		Scrape: spec.Scrape{Static: []string{"embedder.ml.example.com:9100"}, Path: "/internal/metrics"},
	}
	embedder.Container.Memory = spec.Memory{}
	// Its pod's container is called server.
	embedder.Kubernetes.Container = "server"
	embedder.Metrics = alerts.Metrics
	embedder.Records = []spec.Record{rules.ServedRate(embedder, p)}
	embedder.Alerts = []spec.Alert{
		rules.ServiceDown(embedder, p),
		rules.ReplicaDown(embedder, p),
		rules.ContainerOOMKilled(embedder, p),
		rules.ContainerCrashLooping(embedder, p),
		rules.ContainerUnhealthy(embedder, p),
		// The team's own alert, proven by its own scenarios.
		alerts.EmbeddingBacklog(embedder),
	}

	// The nightly batch worker exits when done: exit 0 is expected, it is
	// not scraped and has no healthcheck. Only failures matter: an OOM
	// kill, or Docker restarting it over and over. At most 3 restarts in
	// the container's life: Docker never renews an on-failure budget, only
	// recreating the container starts a new one.
	batch := spec.Service{
		Name:           "batch-worker",
		ComposeProject: "ml-platform",
		Container: spec.Container{
			Restart: "on-failure:3",
			Memory:  spec.Memory{Limit: 8 * spec.GiB},
		},
	}
	batch.Alerts = []spec.Alert{
		rules.ContainerOOMKilled(batch, p),
		rules.ContainerCrashLooping(batch, p),
	}
	// On the cluster it is a CronJob, not a Deployment.
	batch.Kubernetes.Omit = true

	// The cluster runs the serving services in the team's namespace, and
	// the team's Prometheus selects rules by the release label.
	k8s := &spec.Kubernetes{Namespace: "ml-platform", RuleLabels: map[string]string{"release": "kube-prometheus-stack"}}
	ranker.Kubernetes.Alerts = rules.KubernetesRunbook(k8s, ranker, p)
	embedder.Kubernetes.Alerts = rules.KubernetesRunbook(k8s, embedder, p)
	// ServiceDown's impact reads the traffic it holds on the cluster too.
	ranker.Kubernetes.Records = []spec.Record{rules.KubernetesServedRate(k8s, ranker, p)}
	embedder.Kubernetes.Records = []spec.Record{rules.KubernetesServedRate(k8s, embedder, p)}

	// One client certificate and CA for both Docker daemons, as files on
	// the Prometheus machine; promgen writes only their paths.
	dockerTLS := &spec.TLS{CAFile: "/etc/prometheus/docker/ca.pem",
		CertFile: "/etc/prometheus/docker/client.pem", KeyFile: "/etc/prometheus/docker/client-key.pem"}
	s := spec.Spec{
		Services: []spec.Service{ranker, embedder, batch},
		Sources:  spec.Sources{ExporterJob: "docker-diagnosis"},
		// Two Docker hosts: every target and every exporter series carries
		// its host label, so a page joins its own container's diagnosis.
		// Their daemons run with --tlsverify on 2376: Prometheus shows its
		// client certificate (files on the Prometheus machine).
		Hosts: []spec.Host{
			{Name: "gpu-1", Address: "https://gpu-1.ml.example.com:2376", TLS: dockerTLS},
			{Name: "gpu-2", Address: "https://gpu-2.ml.example.com:2376", TLS: dockerTLS},
		},
		RunbookURL: "https://runbooks.example.com/ml-platform/service-down",
		Kubernetes: k8s,
		// The team's own prometheus.yml (its node and redis jobs, labels
		// and remote storage); promgen adds its rules and jobs to it.
		Prometheus: spec.Prometheus{Base: "ml-platform/prometheus-base.yml",
			// The exporters serve behind --web.config.file: TLS with
			// client certificates and basic auth.
			ExporterTLS:       &spec.TLS{CAFile: "/etc/prometheus/exporter/ca.pem", CertFile: "/etc/prometheus/exporter/client.pem", KeyFile: "/etc/prometheus/exporter/client-key.pem"},
			ExporterBasicAuth: &spec.BasicAuth{Username: "prometheus", PasswordFile: "/etc/prometheus/exporter/password"},
		},
	}
	// Pipeline alerts are declared once, after the services: they name the
	// services whose pages would lose their diagnosis.
	s.Pipeline = rules.Pipeline(s, p)
	s.Routing = routing()
	// The runbook's inhibitions among the alerts this team has: the batch
	// worker has no ServiceDown, so nothing mutes its OOM kills.
	s.Routing.Inhibitions = rules.Inhibitions(s)
	return s
}

// routing pages the team's own PagerDuty service for critical alerts and
// posts everything in its Slack channel; the secrets are files where the
// team's Alertmanager runs.
func routing() spec.Routing {
	return spec.Routing{
		Receivers: []spec.Receiver{
			{Name: "ml-oncall", PagerDuty: &spec.PagerDuty{RoutingKeyFile: "/etc/alertmanager/secrets/ml-oncall-routing-key"}},
			{Name: "ml-platform-chat", Slack: &spec.Slack{APIURLFile: "/etc/alertmanager/secrets/ml-platform-slack-url", Channel: "#ml-platform-alerts"}},
		},
		BySeverity: map[spec.Severity][]string{
			spec.Critical: {"ml-oncall", "ml-platform-chat"},
			spec.Warning:  {"ml-platform-chat"},
		},
		Default: "ml-platform-chat",
		// Updates every 10 minutes while a page lasts, in the team's words.
		RepeatBySeverity: map[spec.Severity]time.Duration{spec.Critical: 10 * time.Minute},
		Incident: spec.Incident{
			Channel:       "#ml-platform-alerts",
			Commander:     "@ml-oncall",
			SeverityNames: map[spec.Severity]string{spec.Critical: "SEV1", spec.Warning: "SEV3"},
		},
		ExternalURL: "https://alertmanager.ml.example.com",
		// The dead man's switch: the Watchdog every 5 minutes.
		Heartbeat: &spec.Heartbeat{Webhook: spec.Webhook{URLFile: "/etc/alertmanager/secrets/ml-heartbeat-url"}, Interval: 5 * time.Minute},
	}
}

func main() {
	app := commands.NewApp(commands.Config{
		Name:        "ml-platform",
		Origin:      "ml-platform/",
		Outputs:     []commands.Output{{Spec: Spec(rules.Production)}},
		Out:         "ml-platform/generated",
		ComposeBase: "ml-platform/docker-compose.yml",
	})
	if err := app.Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "ml-platform:", err)
		os.Exit(1)
	}
}
