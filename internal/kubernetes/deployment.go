package kubernetes

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/sre-tools/promgen/spec"
)

// DeploymentPatch is the compose fragment's counterpart: a strategic-merge
// patch of the service's Deployment (for kustomize) that sets its
// container's memory limit and request from the memory policy, liveness,
// readiness and startup probes from the healthcheck, and the replicas.
// Restart policies have no counterpart: a Deployment's pods always restart,
// with the kubelet's back-off. A healthcheck that cannot become a probe is
// an error naming the service and field.
func DeploymentPatch(w spec.Workload, c spec.Container) (*appsv1.Deployment, error) {
	ctr := corev1.Container{Name: w.Container}
	if c.Memory.Limit > 0 {
		ctr.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: *resource.NewQuantity(int64(c.Memory.Limit), resource.BinarySI)}
	}
	if c.Memory.Reservation > 0 {
		ctr.Resources.Requests = corev1.ResourceList{corev1.ResourceMemory: *resource.NewQuantity(int64(c.Memory.Reservation), resource.BinarySI)}
	}
	if c.Memory.Limit > 0 && c.Memory.Reservation > c.Memory.Limit {
		return nil, &spec.FieldError{Service: w.Service, Field: "container.memory.reservation",
			Problem: fmt.Sprintf("the memory request %s exceeds the limit %s, which Kubernetes refuses", ctr.Resources.Requests.Memory(), ctr.Resources.Limits.Memory())}
	}
	probes, err := Probes(w.Service, c.Healthcheck)
	if err != nil {
		return nil, err
	}
	if probes != nil {
		ctr.LivenessProbe, ctr.ReadinessProbe, ctr.StartupProbe = probes.Liveness, probes.Readiness, probes.Startup
	}
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: appsv1.SchemeGroupVersion.String(), Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: w.Deployment, Namespace: w.Namespace},
		Spec:       appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{ctr}}}},
	}
	if c.Replicas > 0 {
		n := int32(c.Replicas)
		d.Spec.Replicas = &n
	}
	return d, nil
}

// ProbeSet is the probes a healthcheck becomes.
type ProbeSet struct {
	// Liveness restarts the container after Retries failures, as Docker's
	// restart policy does for an unhealthy one under an orchestrator.
	Liveness *corev1.Probe
	// Readiness takes the pod out of the Service's endpoints after Retries
	// failures: Docker's unhealthy.
	Readiness *corev1.Probe
	// Startup holds the other two off for the start period (Docker's
	// start_period), then allows Retries failures more; nil without one.
	Startup *corev1.Probe
}

// Probes turns a compose healthcheck into probes: httpGet when it fetches
// a URL of the container itself with curl or wget, exec otherwise. No
// healthcheck, or NONE, is no probes. Probes count in whole seconds, and
// reach the pod's own IP: a healthcheck that fetches another host, or
// whose timings are not whole seconds, cannot become a probe.
func Probes(service string, hc spec.Healthcheck) (*ProbeSet, error) {
	if len(hc.Test) == 0 || hc.Test[0] == "NONE" {
		return nil, nil
	}
	at := func(field, format string, args ...any) error {
		return &spec.FieldError{Service: service, Field: "container.healthcheck." + field, Problem: fmt.Sprintf(format, args...)}
	}
	var errs []error
	seconds := func(field string, d time.Duration, min time.Duration) int32 {
		if d < min || d%time.Second != 0 {
			errs = append(errs, at(field, "%s cannot become a probe's %s: probes count in whole seconds, at least %s", d, field+"Seconds", min))
		}
		return int32(d / time.Second)
	}
	period := seconds("interval", hc.Interval, time.Second)
	timeout := seconds("timeout", hc.Timeout, time.Second)
	var startDelay int32
	if hc.StartPeriod > 0 {
		startDelay = seconds("start_period", hc.StartPeriod, time.Second)
	}
	if hc.Retries == 0 {
		errs = append(errs, at("retries", "must be at least 1 to become a probe's failureThreshold"))
	}
	handler, err := handler(hc.Test)
	if err != "" {
		errs = append(errs, at("test", "%s", err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	probe := func(failures int32) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: handler, PeriodSeconds: period, TimeoutSeconds: timeout, FailureThreshold: failures, SuccessThreshold: 1}
	}
	ps := &ProbeSet{Liveness: probe(int32(hc.Retries)), Readiness: probe(int32(hc.Retries))}
	if startDelay > 0 {
		// Docker ignores failures during the start period and then counts
		// Retries of them: so many tries before the container is given up.
		ps.Startup = probe((startDelay+period-1)/period + int32(hc.Retries))
	}
	return ps, nil
}

// handler maps a healthcheck command onto a probe's action, or says why it
// cannot.
func handler(test []string) (corev1.ProbeHandler, string) {
	var argv []string
	shell := false
	switch test[0] {
	case "CMD":
		argv = test[1:]
	case "CMD-SHELL":
		if len(test) != 2 {
			return corev1.ProbeHandler{}, "CMD-SHELL takes one command line"
		}
		argv, shell = strings.Fields(test[1]), true
	default:
		return corev1.ProbeHandler{}, fmt.Sprintf("%q is not CMD, CMD-SHELL or NONE", test[0])
	}
	if len(argv) == 0 {
		return corev1.ProbeHandler{}, "no command"
	}
	if tool := path.Base(argv[0]); tool == "curl" || tool == "wget" {
		var raw []string
		for _, a := range argv[1:] {
			if strings.Contains(a, "://") {
				raw = append(raw, a)
			}
		}
		if len(raw) != 1 {
			return corev1.ProbeHandler{}, fmt.Sprintf("%s must fetch exactly one URL to become an httpGet probe, it fetches %d", tool, len(raw))
		}
		h, problem := httpGet(raw[0])
		return corev1.ProbeHandler{HTTPGet: h}, problem
	}
	if shell {
		return corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"/bin/sh", "-c", test[1]}}}, ""
	}
	return corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: append([]string(nil), argv...)}}, ""
}

// httpGet maps a URL the container fetches from itself onto an httpGet
// action on the pod's IP.
func httpGet(raw string) (*corev1.HTTPGetAction, string) {
	u, err := url.Parse(strings.Trim(raw, `'"`))
	if err != nil {
		return nil, fmt.Sprintf("%q is not a URL: %v", raw, err)
	}
	scheme := corev1.URISchemeHTTP
	port := 80
	switch u.Scheme {
	case "http":
	case "https":
		scheme, port = corev1.URISchemeHTTPS, 443
	default:
		return nil, fmt.Sprintf("%q: an httpGet probe speaks http or https, not %q", raw, u.Scheme)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !(ip.IsLoopback() || ip.IsUnspecified())) {
		return nil, fmt.Sprintf("%q fetches host %q: a probe can only reach the pod itself (localhost), so point the healthcheck at localhost or use a command", raw, host)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Sprintf("%q: port %q is not a port number", raw, p)
		}
		port = n
	}
	if u.User != nil {
		return nil, fmt.Sprintf("%q carries credentials, which an httpGet probe would write into the Deployment", raw)
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return &corev1.HTTPGetAction{Path: p, Port: intstr.FromInt32(int32(port)), Scheme: scheme}, ""
}

// MarshalPatch writes a Deployment patch without the fields a patch must
// not set: a status, and the creation timestamps that k8s.io/api's types
// write as null.
func MarshalPatch(d *appsv1.Deployment) ([]byte, error) {
	b, err := yaml.Marshal(d)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	delete(m, "status")
	prune(m)
	return yaml.Marshal(m)
}

// prune drops null values and the empty objects they leave, recursively.
func prune(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case map[string]any:
		for k, x := range v {
			if prune(x) {
				delete(v, k)
			}
		}
		return len(v) == 0
	case []any:
		for _, x := range v {
			prune(x)
		}
	}
	return false
}

// ValidatePatch decodes a rendered patch strictly into k8s.io/api's
// Deployment (an unknown or misspelt field fails) and checks it says what
// was meant to be written.
func ValidatePatch(path string, content []byte, want *appsv1.Deployment) error {
	var got appsv1.Deployment
	if err := yaml.UnmarshalStrict(content, &got); err != nil {
		return fmt.Errorf("%s: does not decode strictly into k8s.io/api's Deployment: %w", path, err)
	}
	if !equality.Semantic.DeepEqual(got.Spec, want.Spec) || got.Name != want.Name || got.Namespace != want.Namespace || got.TypeMeta != want.TypeMeta {
		return fmt.Errorf("%s: decodes into a different Deployment than was rendered", path)
	}
	return nil
}
