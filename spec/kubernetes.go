package spec

import (
	"fmt"
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Kubernetes asks for the Kubernetes target of a spec: a PrometheusRule per
// service for the Prometheus Operator, the same rules as a plain rule file
// with their promtool tests, and a strategic-merge patch of each service's
// Deployment. Its alerts read kube-state-metrics and the kubelet's cAdvisor
// instead of gateway-exporter; they are each service's
// KubernetesService.Alerts.
type Kubernetes struct {
	// Namespace is where the services' Deployments and PrometheusRules live,
	// unless a service names its own. Default "default".
	Namespace string
	// RuleLabels are labels of every PrometheusRule, e.g. those the
	// Prometheus resource's ruleSelector matches.
	RuleLabels map[string]string
}

// DefaultNamespace is the namespace of a Kubernetes target that names none.
const DefaultNamespace = "default"

// KubernetesService is a service's names on Kubernetes and its alerts there;
// every name defaults to one derived from the service.
type KubernetesService struct {
	// Namespace of the service's Deployment. Default: Kubernetes.Namespace.
	Namespace string
	// Deployment is the Deployment's name. Default: the service's Name.
	Deployment string
	// Container is the name of the service's container in the pod
	// template. Default: the service's Name.
	Container string
	// Job is the Prometheus scrape job of the service's pods (with the
	// Operator, the ServiceMonitor's job, by default the Kubernetes
	// Service's name). Default: the service's JobName.
	Job string
	// Alerts watch the service on Kubernetes; rules.KubernetesRunbook builds
	// the runbook's, rules.KubernetesSLOs the burn-rate alerts of its
	// objectives. They share the names (and so the routing and
	// inhibitions) of the Docker target's alerts of the same meaning.
	Alerts []Alert
	// Records are the recording rules of the service's Kubernetes group,
	// e.g. its objectives' error ratios (rules.KubernetesSLOs); the Docker
	// target's Records read series only Docker hosts have.
	Records []Record
	// Omit leaves the service out of the Kubernetes target, e.g. a batch
	// worker that runs as a Job rather than a Deployment: no files, no
	// alerts. Without it a service of a Kubernetes spec must have Alerts.
	Omit bool
}

// Workload is a service's resolved names on Kubernetes: what the Kubernetes
// alert builders and the patch are written from.
type Workload struct {
	// Service is the spec service's name, the service label of its alerts.
	Service    string
	Namespace  string
	Deployment string
	Container  string
	Job        string
}

// Workload resolves svc's names on the Kubernetes target k (nil k: every
// default).
func (k *Kubernetes) Workload(svc Service) Workload {
	ks := svc.Kubernetes
	w := Workload{Service: svc.Name, Namespace: ks.Namespace, Deployment: ks.Deployment, Container: ks.Container, Job: ks.Job}
	if w.Namespace == "" && k != nil {
		w.Namespace = k.Namespace
	}
	if w.Namespace == "" {
		w.Namespace = DefaultNamespace
	}
	if w.Deployment == "" {
		w.Deployment = svc.Name
	}
	if w.Container == "" {
		w.Container = svc.Name
	}
	if w.Job == "" {
		w.Job = svc.JobName()
	}
	return w
}

// KubernetesAlerts are svc's alerts on the Kubernetes target of s: none
// when s builds no Kubernetes target. Routing and inhibitions serve them as
// the Docker target's alerts of the same names.
func (svc Service) KubernetesAlerts(s Spec) []Alert {
	if s.Kubernetes == nil || svc.Kubernetes.Omit {
		return nil
	}
	return svc.Kubernetes.Alerts
}

// kubernetes checks the Kubernetes target: every name a valid Kubernetes
// name, every service with Kubernetes alerts, and those alerts as any
// other. Problems are located as service, then "kubernetes." and the field.
// Whether a healthcheck can become a probe is the patch writer's to say,
// since only it knows the mapping.
func (v *validator) kubernetes() {
	k := v.spec.Kubernetes
	if k == nil {
		for _, svc := range v.spec.Services {
			if len(svc.Kubernetes.Alerts) > 0 {
				v.add(FieldError{Service: svc.Name, Field: "kubernetes.alerts", Problem: "set, but the spec has no Kubernetes target (Spec.Kubernetes)"})
			}
		}
		return
	}
	if k.Namespace != "" {
		for _, p := range validation.IsDNS1123Label(k.Namespace) {
			v.add(FieldError{Field: "kubernetes.namespace", Problem: fmt.Sprintf("%q is not a Kubernetes namespace name: %s", k.Namespace, p)})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(k.RuleLabels)) {
		for _, p := range validation.IsQualifiedName(name) {
			v.add(FieldError{Field: "kubernetes.rule_labels." + name, Problem: "is not a Kubernetes label name: " + p})
		}
		for _, p := range validation.IsValidLabelValue(k.RuleLabels[name]) {
			v.add(FieldError{Field: "kubernetes.rule_labels." + name, Problem: fmt.Sprintf("%q is not a Kubernetes label value: %s", k.RuleLabels[name], p)})
		}
	}
	for i := range v.spec.Services {
		svc := &v.spec.Services[i]
		if svc.Kubernetes.Omit {
			if len(svc.Kubernetes.Alerts) > 0 {
				v.add(FieldError{Service: svc.Name, Field: "kubernetes.alerts", Problem: "set, but the service is omitted from the Kubernetes target (kubernetes.omit)"})
			}
			continue
		}
		w := k.Workload(*svc)
		at := func(field, value, kind, hint string, problems []string) {
			for _, p := range problems {
				v.add(FieldError{Service: svc.Name, Field: "kubernetes." + field,
					Problem: fmt.Sprintf("%q is not a Kubernetes %s: %s%s", value, kind, p, hint)})
			}
		}
		hint := func(set string) string {
			if set == "" {
				return " (it defaults to the service's name; set it)"
			}
			return ""
		}
		if svc.Kubernetes.Namespace != "" { // else the spec's, checked once above
			at("namespace", w.Namespace, "namespace name", "", validation.IsDNS1123Label(w.Namespace))
		}
		at("deployment", w.Deployment, "Deployment name", hint(svc.Kubernetes.Deployment), validation.IsDNS1123Subdomain(w.Deployment))
		at("container", w.Container, "container name", hint(svc.Kubernetes.Container), validation.IsDNS1123Label(w.Container))
		// The PrometheusRule is named after the service.
		at("name", svc.Name, "object name for the service's PrometheusRule", "", validation.IsDNS1123Subdomain(svc.Name))
		if len(svc.Kubernetes.Alerts) == 0 {
			v.add(FieldError{Service: svc.Name, Field: "kubernetes.alerts", Problem: "no alerts: build them with rules.KubernetesRunbook or its builders"})
		}
		before := len(v.errs)
		v.alerts(svc, svc.Kubernetes.Alerts)
		v.prefix(before, "kubernetes.alerts.")
		before = len(v.errs)
		onKube := *svc
		onKube.Records = svc.Kubernetes.Records
		v.records(&onKube) // located as records[i]
		v.prefix(before, "kubernetes.")
	}
}

// prefix puts p before the field of every problem found since the first
// before.
func (v *validator) prefix(before int, p string) {
	for _, err := range v.errs[before:] {
		if fe, ok := err.(*FieldError); ok {
			fe.Field = p + fe.Field
		}
	}
}
