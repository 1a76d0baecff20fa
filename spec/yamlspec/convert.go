package yamlspec

import (
	"errors"
	"slices"
	"time"

	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
)

// spec assembles the file's spec.Spec: the named alerts built by package
// rules' builders at the runbook's timings (rules.Production), the custom
// alerts parsed, each objective's records and burn-rate alerts added
// (rules.SLOs), as a Go spec assembles them (rules.Spec). Its errors are
// the custom alerts' PromQL the parser refuses, each an *Error.
func (d *Doc) spec() (spec.Spec, error) {
	f, p := d.File, rules.Production
	s := spec.Spec{
		RunbookURL: f.RunbookURL,
		GrafanaURL: f.GrafanaURL,
		Sources:    spec.Sources(f.Sources),
		Prometheus: spec.Prometheus{
			ScrapeInterval:     time.Duration(f.Prometheus.ScrapeInterval),
			ScrapeTimeout:      time.Duration(f.Prometheus.ScrapeTimeout),
			EvaluationInterval: time.Duration(f.Prometheus.EvaluationInterval),
			Alertmanagers:      f.Prometheus.Alertmanagers,
			ExporterPort:       f.Prometheus.ExporterPort,
			CAdvisorPort:       f.Prometheus.CAdvisorPort,
			RefreshInterval:    time.Duration(f.Prometheus.RefreshInterval),
			Retention:          time.Duration(f.Prometheus.Retention),
			Address:            f.Prometheus.Address,
			ExternalURL:        f.Prometheus.ExternalURL,
			Base:               f.Prometheus.Base,
			ExporterTLS:        (*spec.TLS)(f.Prometheus.ExporterTLS),
			ExporterBasicAuth:  (*spec.BasicAuth)(f.Prometheus.ExporterBasicAuth),
		},
	}
	for _, h := range f.Hosts {
		s.Hosts = append(s.Hosts, spec.Host{Name: h.Name, Address: h.Address, TLS: (*spec.TLS)(h.TLS), BasicAuth: (*spec.BasicAuth)(h.BasicAuth)})
	}
	if f.Kubernetes != nil {
		s.Kubernetes = &spec.Kubernetes{Namespace: f.Kubernetes.Namespace, RuleLabels: f.Kubernetes.RuleLabels}
	}
	var errs []error
	for _, fs := range f.Services {
		svc, err := service(d.Path, s.Kubernetes, fs, p)
		errs = append(errs, err...)
		s.Services = append(s.Services, svc)
	}
	for _, a := range f.Pipeline {
		s.Pipeline = append(s.Pipeline, rules.PipelineAlerts[a.Name](s, p))
	}
	s.Routing = routing(f.Routing)
	if f.Routing.RunbookInhibitions {
		s.Routing.Inhibitions = append(rules.Inhibitions(s), s.Routing.Inhibitions...)
	}
	return s, errors.Join(errs...)
}

func service(file string, k *spec.Kubernetes, fs Service, p rules.Profile) (spec.Service, []error) {
	c := fs.Container
	svc := spec.Service{
		Name:               fs.Name,
		Job:                fs.Job,
		ComposeProject:     fs.ComposeProject,
		RunbookURL:         fs.RunbookURL,
		EvaluationInterval: time.Duration(fs.EvaluationInterval),
		Container: spec.Container{
			Restart: c.Restart,
			Memory:  spec.Memory{Limit: spec.Bytes(c.Memory.Limit), Reservation: spec.Bytes(c.Memory.Reservation)},
			Healthcheck: spec.Healthcheck{
				Test:        c.Healthcheck.Test,
				Interval:    time.Duration(c.Healthcheck.Interval),
				Timeout:     time.Duration(c.Healthcheck.Timeout),
				Retries:     c.Healthcheck.Retries,
				StartPeriod: time.Duration(c.Healthcheck.StartPeriod),
			},
			Replicas: c.Replicas,
		},
		Scrape: spec.Scrape(fs.Scrape),
		Kubernetes: spec.KubernetesService{
			Namespace:  fs.Kubernetes.Namespace,
			Deployment: fs.Kubernetes.Deployment,
			Container:  fs.Kubernetes.Container,
			Job:        fs.Kubernetes.Job,
			Omit:       fs.Kubernetes.Omit,
		},
	}
	for _, m := range fs.Metrics {
		svc.Metrics = append(svc.Metrics, spec.ExposedMetric(m))
	}
	for _, o := range fs.SLOs {
		slo := spec.SLO{Name: o.Name, Objective: o.Objective, Window: time.Duration(o.Window)}
		if a := o.Availability; a != nil {
			slo.Availability = &spec.AvailabilitySLI{Requests: a.Requests, Errors: a.Errors}
		}
		if l := o.Latency; l != nil {
			slo.Latency = &spec.LatencySLI{Histogram: l.Histogram, Threshold: l.Threshold, Buckets: l.Buckets}
		}
		svc.SLOs = append(svc.SLOs, slo)
	}
	// The builders read the whole service: its alerts come last.
	var alerts []spec.Alert
	for _, a := range fs.Alerts {
		alerts = append(alerts, rules.Alerts[a.Name](svc, p))
	}
	var errs []error
	for _, c := range fs.CustomAlerts {
		a, err := custom(file, c)
		errs = append(errs, err...)
		alerts = append(alerts, a)
	}
	if k != nil && !svc.Kubernetes.Omit {
		svc.Kubernetes.Alerts = kubernetesAlerts(k, svc, fs.Kubernetes.Alerts, p)
		// There too, ServiceDown's impact reads the traffic it holds.
		if slices.ContainsFunc(svc.Kubernetes.Alerts, func(a spec.Alert) bool { return a.Name == "ServiceDown" }) {
			svc.Kubernetes.Records = append(svc.Kubernetes.Records, rules.KubernetesServedRate(k, svc, p))
		}
		if len(svc.SLOs) > 0 {
			records, burns := rules.KubernetesSLOs(k, svc)
			svc.Kubernetes.Records, svc.Kubernetes.Alerts = append(svc.Kubernetes.Records, records...), append(svc.Kubernetes.Alerts, burns...)
		}
	}
	svc.Alerts = alerts
	// ServiceDown's impact reads the traffic ServedRate holds.
	if slices.ContainsFunc(fs.Alerts, func(a Alert) bool { return a.Name == "ServiceDown" }) {
		svc.Records = append(svc.Records, rules.ServedRate(svc, p))
	}
	if len(svc.SLOs) > 0 {
		records, burns := rules.SLOs(svc)
		svc.Records, svc.Alerts = append(svc.Records, records...), append(svc.Alerts, burns...)
	}
	return svc, errs
}

// kubernetesAlerts are the runbook's alerts on Kubernetes that the file
// names, in its order; every one when it names none.
func kubernetesAlerts(k *spec.Kubernetes, svc spec.Service, names []KubernetesAlert, p rules.Profile) []spec.Alert {
	all := rules.KubernetesRunbook(k, svc, p)
	if len(names) == 0 {
		return all
	}
	var out []spec.Alert
	for _, n := range names {
		if i := slices.IndexFunc(all, func(a spec.Alert) bool { return a.Name == n.Name }); i >= 0 {
			out = append(out, all[i])
		}
	}
	return out
}

func routing(r Routing) spec.Routing {
	out := spec.Routing{
		BySeverity:     r.BySeverity,
		Default:        r.Default,
		GroupBy:        r.GroupBy,
		GroupWait:      time.Duration(r.GroupWait),
		GroupInterval:  time.Duration(r.GroupInterval),
		RepeatInterval: time.Duration(r.RepeatInterval),
		Incident:       spec.Incident(r.Incident),
		ExternalURL:    r.ExternalURL,
	}
	for _, rc := range r.Receivers {
		out.Receivers = append(out.Receivers, spec.Receiver{Name: rc.Name,
			PagerDuty: (*spec.PagerDuty)(rc.PagerDuty), Slack: (*spec.Slack)(rc.Slack), Webhook: (*spec.Webhook)(rc.Webhook)})
	}
	if len(r.RepeatBySeverity) > 0 {
		out.RepeatBySeverity = map[spec.Severity]time.Duration{}
		for sev, d := range r.RepeatBySeverity {
			out.RepeatBySeverity[sev] = time.Duration(d)
		}
	}
	for _, in := range r.Inhibitions {
		out.Inhibitions = append(out.Inhibitions, spec.Inhibition(in))
	}
	if h := r.Heartbeat; h != nil {
		out.Heartbeat = &spec.Heartbeat{Webhook: spec.Webhook(h.Webhook), Interval: time.Duration(h.Interval)}
	}
	return out
}
