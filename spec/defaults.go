package spec

import "time"

// Defaults from the runbook (runbook-service-down.md, "Prevention"). Start
// from RunbookContainer and override fields: a zero field means "none", not
// "default", so what a spec says is what it gets.

// Default scrape jobs of the diagnostic sources.
const (
	DefaultExporterJob = "gateway-exporter"
	DefaultCAdvisorJob = "cadvisor"
	// DefaultPrometheusJob and DefaultAlertmanagerJob are the jobs the
	// alerting pipeline scrapes itself in.
	DefaultPrometheusJob   = "prometheus"
	DefaultAlertmanagerJob = "alertmanager"
)

// RunbookContainer returns the runbook's container policy for a service whose
// health endpoint is healthURL: restart unless-stopped (for the container's
// whole life; the alerts surface a crash loop), 4G limit with 2G reserved,
// and a curl healthcheck every 10s (timeout 5s, 3 retries, 30s start
// period). The runbook's on-failure policy (5s delay, 3 attempts, 120s
// window) is swarm's deploy.restart_policy: on a single engine compose
// would apply it as on-failure:3 for the container's life, never renewed,
// so it is left out (see Container.Restart).
func RunbookContainer(healthURL string) Container {
	return Container{
		Restart: "unless-stopped",
		Memory:  Memory{Limit: 4 * GiB, Reservation: 2 * GiB},
		Healthcheck: Healthcheck{
			Test:        []string{"CMD", "curl", "-f", healthURL},
			Interval:    10 * time.Second,
			Timeout:     5 * time.Second,
			Retries:     3,
			StartPeriod: 30 * time.Second,
		},
	}
}

// Runbook returns the runbook of alert a of service svc: the alert's own,
// else the service's, else the spec's. svc is nil for a Pipeline alert.
func (s Spec) Runbook(svc *Service, a Alert) string {
	switch {
	case a.RunbookURL != "":
		return a.RunbookURL
	case svc != nil && svc.RunbookURL != "":
		return svc.RunbookURL
	}
	return s.RunbookURL
}

// JobName returns the service's Prometheus job.
func (s Service) JobName() string {
	if s.Job != "" {
		return s.Job
	}
	return s.Name
}

// Exporter returns gateway-exporter's job name.
func (s Sources) Exporter() string {
	if s.ExporterJob != "" {
		return s.ExporterJob
	}
	return DefaultExporterJob
}

// Prometheus returns the job Prometheus scrapes itself in.
func (s Sources) Prometheus() string {
	if s.PrometheusJob != "" {
		return s.PrometheusJob
	}
	return DefaultPrometheusJob
}

// Alertmanager returns the job Prometheus scrapes its Alertmanagers in.
func (s Sources) Alertmanager() string {
	if s.AlertmanagerJob != "" {
		return s.AlertmanagerJob
	}
	return DefaultAlertmanagerJob
}

// CAdvisor returns cAdvisor's job name.
func (s Sources) CAdvisor() string {
	if s.CAdvisorJob != "" {
		return s.CAdvisorJob
	}
	return DefaultCAdvisorJob
}

// DefaultTestInterval is the sample interval of a Test that sets none.
const DefaultTestInterval = 15 * time.Second

// SampleInterval returns the test's sample interval.
func (t Test) SampleInterval() time.Duration {
	if t.Interval > 0 {
		return t.Interval
	}
	return DefaultTestInterval
}
