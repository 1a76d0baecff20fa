package rules

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/spec"
)

// The runbook on Kubernetes: the same alerts, under the same names and
// severities (so the same routes and inhibitions apply), reading
// kube-state-metrics and the kubelet's cAdvisor instead of gateway-exporter.
// A container is named "<pod>/<container>" in the name label, as Docker
// names it in gateway-exporter's, so the summaries and the
// CriticalMemoryUsage inhibition read the same on both targets.

// Kube builds the runbook's alerts for one service's workload on
// Kubernetes; each method is named after the alert it returns.
type Kube struct {
	// W is the service's resolved names on Kubernetes.
	W spec.Workload
	// P is the timing profile.
	P Profile
}

// OnKubernetes returns the alert builders of svc on the Kubernetes target k.
func OnKubernetes(k *spec.Kubernetes, svc spec.Service, p Profile) Kube {
	return Kube{W: k.Workload(svc), P: p}
}

// KubernetesRunbook returns every runbook alert of svc on the Kubernetes
// target k. The memory alerts need a memory limit to divide by, so a
// service without one gets none (Runbook leaves that to lint; on
// Kubernetes there would be no series to catch).
func KubernetesRunbook(k *spec.Kubernetes, svc spec.Service, p Profile) []spec.Alert {
	b := OnKubernetes(k, svc, p)
	out := []spec.Alert{b.ServiceDown()}
	if svc.Container.Memory.Limit > 0 {
		out = append(out, b.HighMemoryUsage(), b.CriticalMemoryUsage())
	}
	return append(out, b.ContainerOOMKilled(), b.ContainerCrashLooping(), b.ContainerUnhealthy())
}

// KubeReasons maps kube-state-metrics' last terminated reason and exit
// code, joined as "<reason>;<exit code>", onto the Docker target's reason
// words (catalog.Reason), first match wins: one runbook reads both.
var KubeReasons = []struct{ Match, Reason string }{
	{catalog.KubeReasonOOMKilled + ";.*", catalog.ReasonOOMKilled},
	{catalog.KubeReasonCompleted + ";.*", catalog.ReasonCompleted},
	{".*;137", catalog.ReasonKilled},
	{".*;139", catalog.ReasonSegfault},
	{".*;143", catalog.ReasonTerminated},
	{".*;0", catalog.ReasonCompleted},
	{".*;.*", catalog.ReasonError},
}

// podPattern matches the pods of a Deployment: <deployment>-<pod template
// hash>-<suffix>, as its ReplicaSets name them.
func (k Kube) podPattern() string { return regexp.QuoteMeta(k.W.Deployment) + "-[a-z0-9]+-[a-z0-9]+" }

// pods selects metric for the service's pods.
func (k Kube) pods(metric string, extra ...*labels.Matcher) *parser.VectorSelector {
	m := []*labels.Matcher{spec.Eq(catalog.LabelNamespace, k.W.Namespace), spec.Re(catalog.LabelPod, k.podPattern())}
	return spec.Metric(metric, append(m, extra...)...)
}

// containers selects metric for the service's container in its pods.
func (k Kube) containers(metric string, extra ...*labels.Matcher) *parser.VectorSelector {
	return k.pods(metric, append([]*labels.Matcher{spec.Eq(catalog.LabelContainer, k.W.Container)}, extra...)...)
}

// deployment selects a kube-state-metrics series of the Deployment.
func (k Kube) deployment(metric string) *parser.VectorSelector {
	return spec.Metric(metric, spec.Eq(catalog.LabelNamespace, k.W.Namespace), spec.Eq(catalog.LabelDeployment, k.W.Deployment))
}

// byContainer keeps only the identity labels of a container, dropping
// those of the source that published it (kube-state-metrics' own job and
// instance, the pod's uid).
func byContainer(e parser.Expr) *parser.AggregateExpr { return spec.Max(e, catalog.KubePodLabels...) }

// named adds the name label "<pod>/<container>".
func named(e parser.Expr) *parser.Call {
	return spec.Call("label_join", e, spec.Str(catalog.LabelName), spec.Str("/"), spec.Str(catalog.LabelPod), spec.Str(catalog.LabelContainer))
}

// recent keeps the containers whose last termination is younger than
// window; its value is the termination's time.
func (k Kube) recent(window time.Duration) parser.Expr {
	return spec.Binary(spec.OpGt, byContainer(k.containers(catalog.KubePodContainerLastTerminatedTimestamp)),
		spec.Sub(spec.Call("time"), spec.Num(window.Seconds())))
}

// exitCodes turns the last exit code's value into an exit_code label.
func (k Kube) exitCodes() parser.Expr {
	a := spec.Aggregate(parser.COUNT_VALUES, k.containers(catalog.KubePodContainerLastTerminatedExitCode), catalog.KubePodLabels...)
	a.Param = spec.Str(catalog.LabelExitCode)
	return a
}

// diagnosis is the last termination of each of the service's containers
// that ended within window, with the labels reason (in the Docker target's
// words) and exit_code; its value is the termination's time, so topk picks
// the most recent.
func (k Kube) diagnosis(window time.Duration) parser.Expr {
	reasons := spec.Max(k.containers(catalog.KubePodContainerLastTerminatedReason), append(catalog.KubePodLabels, catalog.LabelReason)...)
	info := spec.Join(k.exitCodes(), reasons, catalog.KubePodLabels, []string{catalog.LabelReason})
	// group_left keeps info's labels, which one-to-one on() would drop.
	var e parser.Expr = spec.Join(info, k.recent(window), catalog.KubePodLabels, nil)
	e = spec.Call("label_join", e, spec.Str(catalog.LabelReason), spec.Str(";"), spec.Str(catalog.LabelReason), spec.Str(catalog.LabelExitCode))
	for _, r := range KubeReasons {
		e = spec.Call("label_replace", e, spec.Str(catalog.LabelReason), spec.Str(r.Reason), spec.Str(catalog.LabelReason), spec.Str(r.Match))
	}
	return e
}

// unlessAny is lhs unless on() rhs: lhs only while rhs has no series at all.
func unlessAny(lhs, rhs parser.Expr) *parser.BinaryExpr {
	return &parser.BinaryExpr{Op: parser.LUNLESS, LHS: spec.Paren(lhs), RHS: rhs,
		VectorMatching: &parser.VectorMatching{Card: parser.CardManyToMany, On: true}}
}

// query renders an annotation fragment from a fixed PromQL query.
func query(q parser.Expr, pipe, unit, fallback string) string {
	if pipe != "" {
		pipe = " | " + pipe
	}
	return fmt.Sprintf("{{ with query `%s` }}{{ . | first | value%s }}%s{{ else }}%s{{ end }}", q.String(), pipe, unit, fallback)
}

// podQuery is the format of a query on one pod's container, for queried:
// the pod comes from the alert's labels.
func (k Kube) podQuery(metric string, extra ...string) string {
	m := []string{
		fmt.Sprintf("%s=%q", catalog.LabelNamespace, k.W.Namespace),
		catalog.LabelPod + "=%q",
		fmt.Sprintf("%s=%q", catalog.LabelContainer, k.W.Container),
	}
	return fmt.Sprintf("max(%s{%s})", metric, strings.Join(append(m, extra...), ","))
}

// memoryLimit is the query of a pod's container's memory limit.
func (k Kube) memoryLimit() string {
	return k.podQuery(catalog.KubePodContainerResourceLimits, fmt.Sprintf("%s=%q", catalog.LabelResource, "memory"))
}

// ServiceDown pages when Prometheus cannot scrape a pod of the service
// (up == 0), with the diagnosis of that pod's container from
// kube-state-metrics as the labels reason and exit_code, as the Docker
// target's does. A pod that crash-loops leaves the Service's endpoints and,
// once it is replaced, Prometheus' targets: so it also pages when no up
// series of the job remains while the Deployment wants replicas and has
// none available, then with the most recent termination of any of its
// pods. Every join falls back with or to the bare page.
func (k Kube) ServiceDown() spec.Alert {
	w, p := k.W, k.P
	window := p.D(diagnosisWindow)
	up := spec.Metric(catalog.Up, spec.Eq("job", w.Job))
	podDown := spec.Filter(up, spec.OpEq, 0)
	diag := k.diagnosis(window)
	diagnosed := spec.Join(podDown, spec.TopK(1, diag, catalog.LabelNamespace, catalog.LabelPod),
		[]string{catalog.LabelNamespace, catalog.LabelPod}, []string{catalog.LabelExitCode, catalog.LabelReason})
	scraped := spec.Or(diagnosed, podDown, "job", "instance")

	wanted := spec.Filter(spec.Max(k.deployment(catalog.KubeDeploymentSpecReplicas), catalog.LabelNamespace, catalog.LabelDeployment), spec.OpGt, 0)
	none := spec.Filter(spec.Max(k.deployment(catalog.KubeDeploymentReplicasAvailable), catalog.LabelNamespace, catalog.LabelDeployment), spec.OpEq, 0)
	gone := spec.Call("label_replace", unlessAny(spec.And(wanted, none, catalog.LabelNamespace, catalog.LabelDeployment), up),
		spec.Str("job"), spec.Str(w.Job), spec.Str(""), spec.Str(""))
	goneDiagnosed := spec.Join(gone, spec.TopK(1, diag, catalog.LabelNamespace),
		[]string{catalog.LabelNamespace}, []string{catalog.LabelExitCode, catalog.LabelReason})
	vanished := spec.Or(goneDiagnosed, gone, catalog.LabelNamespace, catalog.LabelDeployment)

	restarts := spec.Max(k.containers(catalog.KubePodContainerRestartsTotal))
	peak := spec.Binary(parser.DIV,
		spec.Max(spec.Call("max_over_time", spec.Range(k.containers(catalog.CAdvisorContainerMemoryWorkingSet), p.D(10*time.Minute)))),
		spec.Max(k.containers(catalog.KubePodContainerResourceLimits, spec.Eq(catalog.LabelResource, "memory"))))
	where := fmt.Sprintf("%s/%s", w.Namespace, w.Deployment)
	a := spec.Alert{
		Name:          "ServiceDown",
		Expr:          spec.Or(scraped, vanished),
		For:           p.D(time.Minute),
		KeepFiringFor: p.D(time.Minute),
		Severity:      spec.Critical,
		Summary:       "{{ $labels.job }} is down{{ if $labels.reason }} ({{ $labels.reason }}, exit code {{ $labels.exit_code }}){{ end }}",
		Description: "{{ if $labels.instance }}Prometheus cannot scrape {{ $labels.instance }} (pod {{ $labels.pod }}) of job {{ $labels.job }}." +
			"{{ else }}No pod of Deployment " + where + " is available and Prometheus has no target of job {{ $labels.job }} left.{{ end }} " +
			"Last termination: {{ if $labels.reason }}exit code {{ $labels.exit_code }} ({{ $labels.reason }}){{ else }}none recorded by kube-state-metrics{{ end }}. " +
			"Restarts: " + query(restarts, "", "", "unknown") + ". " +
			"Peak memory: " + query(peak, "humanizePercentage", "", "unknown") + " of the limit.",
	}

	step, f := p.step(), a.For
	healthyFor, downFor := p.D(time.Minute), p.D(5*time.Minute)
	total := healthyFor + downFor
	upDown := []spec.Segment{hold(1, healthyFor), hold(0, downFor)}
	t1, t2 := k.target(1), k.target(2)
	page := func(t map[string]string, diag ...string) map[string]string { return merge(t, diag...) }
	at := func(d time.Duration) float64 { return d.Seconds() }
	term := func(n int, reason string, code float64, when time.Duration, d time.Duration) []spec.Series {
		return []spec.Series{
			series(catalog.KubePodContainerLastTerminatedReason, k.ksm(n, catalog.LabelReason, reason), hold(1, d)),
			series(catalog.KubePodContainerLastTerminatedExitCode, k.ksm(n), hold(code, d)),
			series(catalog.KubePodContainerLastTerminatedTimestamp, k.ksm(n), hold(at(when), d)),
		}
	}
	replicas := func(wanted float64, available ...spec.Segment) []spec.Series {
		return []spec.Series{
			series(catalog.KubeDeploymentSpecReplicas, k.ksmDeployment(), hold(wanted, total)),
			series(catalog.KubeDeploymentReplicasAvailable, k.ksmDeployment(), available...),
		}
	}
	desc := func(t map[string]string, last, restarts, peak string) string {
		return fmt.Sprintf("Prometheus cannot scrape %s (pod %s) of job %s. Last termination: %s. Restarts: %s. Peak memory: %s of the limit.",
			t["instance"], t[catalog.LabelPod], w.Job, last, restarts, peak)
	}
	goneDesc := func(last string) string {
		return fmt.Sprintf("No pod of Deployment %s is available and Prometheus has no target of job %s left. Last termination: %s. Restarts: unknown. Peak memory: unknown of the limit.",
			where, w.Job, last)
	}
	none0 := "none recorded by kube-state-metrics"
	bare := w.Job + " is down"
	limit := float64(4 * spec.GiB)

	a.Tests = []spec.Test{
		{
			Name:     "pages with the OOM diagnosis when kube-state-metrics saw the container OOM-killed",
			Interval: step,
			Series: append(append(term(1, catalog.KubeReasonOOMKilled, 137, healthyFor-step, total),
				series(catalog.Up, t1, upDown...),
				series(catalog.KubePodContainerRestartsTotal, k.ksm(1), hold(2, total)),
				series(catalog.CAdvisorContainerMemoryWorkingSet, k.kubelet(1), hold(0.99*limit, healthyFor), stale(downFor)),
				series(catalog.KubePodContainerResourceLimits, k.ksm(1, catalog.LabelResource, "memory", catalog.LabelUnit, "byte"), hold(limit, total))),
				replicas(1, hold(1, healthyFor), hold(0, downFor))...),
			Expect: []spec.Expect{
				quiet(healthyFor + f - step),
				fires(healthyFor+f, spec.Firing{
					Labels:      page(t1, catalog.LabelReason, catalog.ReasonOOMKilled, catalog.LabelExitCode, "137"),
					Summary:     w.Job + " is down (oom_killed, exit code 137)",
					Description: desc(t1, "exit code 137 (oom_killed)", "2", "99%"),
				}),
			},
		},
		{
			Name:     "pages each pod with its own diagnosis when two pods terminated differently",
			Interval: step,
			Series: append(append(term(1, catalog.KubeReasonOOMKilled, 137, healthyFor/3, total), term(2, catalog.KubeReasonError, 139, 2*healthyFor/3, total)...),
				series(catalog.Up, t1, upDown...), series(catalog.Up, t2, upDown...),
				series(catalog.KubePodContainerRestartsTotal, k.ksm(1), hold(1, total)),
				series(catalog.KubePodContainerRestartsTotal, k.ksm(2), hold(4, total))),
			Expect: []spec.Expect{
				fires(healthyFor+f,
					spec.Firing{
						Labels:      page(t1, catalog.LabelReason, catalog.ReasonOOMKilled, catalog.LabelExitCode, "137"),
						Summary:     w.Job + " is down (oom_killed, exit code 137)",
						Description: desc(t1, "exit code 137 (oom_killed)", "4", "unknown"),
					},
					spec.Firing{
						Labels:      page(t2, catalog.LabelReason, catalog.ReasonSegfault, catalog.LabelExitCode, "139"),
						Summary:     w.Job + " is down (segfault, exit code 139)",
						Description: desc(t2, "exit code 139 (segfault)", "4", "unknown"),
					}),
			},
		},
		{
			Name:     "pages with the latest termination when every pod has left the endpoints and no up series remains",
			Interval: step,
			Series: append(append(term(1, catalog.KubeReasonError, 1, healthyFor/2, total), term(2, catalog.KubeReasonError, 143, healthyFor, total)...),
				append(replicas(2, hold(2, healthyFor), hold(0, downFor)),
					series(catalog.Up, t1, hold(1, healthyFor), stale(downFor)),
					series(catalog.Up, t2, hold(1, healthyFor), stale(downFor)))...),
			Expect: []spec.Expect{
				quiet(healthyFor + f - step),
				fires(healthyFor+f, spec.Firing{
					Labels: map[string]string{"job": w.Job, catalog.LabelNamespace: w.Namespace, catalog.LabelDeployment: w.Deployment,
						catalog.LabelReason: catalog.ReasonTerminated, catalog.LabelExitCode: "143"},
					Summary:     w.Job + " is down (terminated, exit code 143)",
					Description: goneDesc("exit code 143 (terminated)"),
				}),
			},
		},
		{
			Name:     "pages without a diagnosis when the pods are gone and kube-state-metrics has no termination",
			Interval: step,
			Series:   replicas(3, hold(3, healthyFor), hold(0, downFor)),
			Expect: []spec.Expect{
				fires(healthyFor+f, spec.Firing{
					Labels:      map[string]string{"job": w.Job, catalog.LabelNamespace: w.Namespace, catalog.LabelDeployment: w.Deployment},
					Summary:     bare,
					Description: goneDesc(none0),
				}),
			},
		},
		{
			Name:     "pages without a diagnosis when kube-state-metrics has no data",
			Interval: step,
			Series:   []spec.Series{series(catalog.Up, t1, upDown...)},
			Expect: []spec.Expect{
				quiet(healthyFor + f - step),
				fires(healthyFor+f, spec.Firing{Labels: page(t1), Summary: bare, Description: desc(t1, none0, "unknown", "unknown")}),
			},
		},
		{
			Name:     "does not blame the page on a termination older than the diagnosis window",
			Interval: step,
			Series: append(term(1, catalog.KubeReasonOOMKilled, 137, step, window+total),
				series(catalog.Up, t1, hold(1, window+healthyFor), hold(0, downFor))),
			Expect: []spec.Expect{
				fires(window+healthyFor+f, spec.Firing{Labels: page(t1), Summary: bare, Description: desc(t1, none0, "unknown", "unknown")}),
			},
		},
		{
			Name:     "keeps paging through one answered scrape between two crashes, and resolves once the pod stays up",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, t1, hold(1, healthyFor), hold(0, f+step), hold(1, step), hold(0, step), hold(1, downFor)),
			},
			Expect: []spec.Expect{
				fires(healthyFor+f+step, spec.Firing{Labels: page(t1), Summary: bare, Description: desc(t1, none0, "unknown", "unknown")}),
				fires(healthyFor+f+3*step, spec.Firing{Labels: page(t1), Summary: bare, Description: desc(t1, none0, "unknown", "unknown")}),
				quiet(healthyFor + f + 3*step + a.KeepFiringFor + step),
			},
		},
		{
			Name:     "stays quiet while the pods are scraped and available, whatever their past terminations",
			Interval: step,
			Series: append(append(term(1, catalog.KubeReasonOOMKilled, 137, step, total), series(catalog.Up, t1, hold(1, total))),
				replicas(1, hold(1, total))...),
			Expect: []spec.Expect{quiet(healthyFor), quiet(total - step)},
		},
		{
			Name:     "stays quiet when the Deployment is scaled to zero",
			Interval: step,
			Series: []spec.Series{
				series(catalog.KubeDeploymentSpecReplicas, k.ksmDeployment(), hold(1, healthyFor), hold(0, downFor)),
				series(catalog.KubeDeploymentReplicasAvailable, k.ksmDeployment(), hold(1, healthyFor), hold(0, downFor)),
				series(catalog.Up, t1, hold(1, healthyFor), stale(downFor)),
			},
			Expect: []spec.Expect{quiet(healthyFor + f), quiet(total - step)},
		},
	}
	return a
}

// ContainerOOMKilled fires for 15 minutes after the kernel OOM-killed the
// service's container in a pod, from kube-state-metrics' last terminated
// reason.
func (k Kube) ContainerOOMKilled() spec.Alert {
	p := k.P
	window := p.D(15 * time.Minute)
	oom := spec.Join(k.exitCodes(), byContainer(k.containers(catalog.KubePodContainerLastTerminatedReason, spec.Eq(catalog.LabelReason, catalog.KubeReasonOOMKilled))),
		catalog.KubePodLabels, nil)
	a := spec.Alert{
		Name:     "ContainerOOMKilled",
		Expr:     named(spec.And(oom, k.recent(window), catalog.KubePodLabels...)),
		Severity: spec.Critical,
		Summary:  "{{ $labels.name }} was OOM-killed (exit code {{ $labels.exit_code }})",
		Description: "The kernel killed {{ $labels.name }} for exceeding its memory limit (" + queried(k.memoryLimit(), catalog.LabelPod, "humanize1024", "B", "size unknown") +
			") in the last " + promDuration(window) + ". Raise the limit or find the leak (runbook strategy 4).",
	}
	step, total, killedAt := p.step(), p.D(20*time.Minute), p.D(time.Minute)
	killed := func(reason string, code float64) []spec.Series {
		return []spec.Series{
			series(catalog.KubePodContainerLastTerminatedReason, k.ksm(1, catalog.LabelReason, reason), hold(1, total)),
			series(catalog.KubePodContainerLastTerminatedExitCode, k.ksm(1), hold(code, total)),
			series(catalog.KubePodContainerLastTerminatedTimestamp, k.ksm(1), hold(killedAt.Seconds(), total)),
		}
	}
	c := k.container(1)
	a.Tests = []spec.Test{
		{
			Name:     "fires after an OOM kill and resolves once it is older than the window",
			Interval: step,
			Series: append(killed(catalog.KubeReasonOOMKilled, 137),
				series(catalog.KubePodContainerResourceLimits, k.ksm(1, catalog.LabelResource, "memory", catalog.LabelUnit, "byte"), hold(float64(128*spec.MiB), total))),
			Expect: []spec.Expect{
				fires(killedAt+step, spec.Firing{
					Labels:  merge(c, catalog.LabelExitCode, "137"),
					Summary: c[catalog.LabelName] + " was OOM-killed (exit code 137)",
					Description: "The kernel killed " + c[catalog.LabelName] + " for exceeding its memory limit (128MiB) in the last " +
						promDuration(window) + ". Raise the limit or find the leak (runbook strategy 4).",
				}),
				quiet(killedAt + window + step),
			},
		},
		{
			Name:     "stays quiet after a SIGKILL that was not the OOM killer",
			Interval: step,
			Series:   killed(catalog.KubeReasonError, 137),
			Expect:   []spec.Expect{quiet(killedAt + step)},
		},
	}
	return a
}

// ContainerCrashLooping fires when the kubelet restarted the service's
// container in a pod three times within 15 minutes, or holds it in
// CrashLoopBackOff.
func (k Kube) ContainerCrashLooping() spec.Alert {
	p := k.P
	window := p.D(15 * time.Minute)
	restarted := spec.Filter(byContainer(spec.Call("increase", spec.Range(k.containers(catalog.KubePodContainerRestartsTotal), window))), spec.OpGe, 3)
	backoff := spec.Filter(byContainer(k.containers(catalog.KubePodContainerWaitingReason, spec.Eq(catalog.LabelReason, catalog.KubeReasonCrashLoopBackOff))), spec.OpEq, 1)
	a := spec.Alert{
		Name:     "ContainerCrashLooping",
		Expr:     named(spec.Or(restarted, backoff, catalog.KubePodLabels...)),
		Severity: spec.Warning,
		Summary:  "{{ $labels.name }} is crash looping",
		Description: "The kubelet restarted {{ $labels.name }} at least 3 times in the last " + promDuration(window) + " or holds it in CrashLoopBackOff (restart count " +
			queried(k.podQuery(catalog.KubePodContainerRestartsTotal), catalog.LabelPod, "", "", "unknown") +
			"); last exit code " + queried(k.podQuery(catalog.KubePodContainerLastTerminatedExitCode), catalog.LabelPod, "", "", "unknown") + ".",
	}
	step, m := p.step(), p.D(time.Minute)
	c := k.container(1)
	desc := func(restarts, exit string) string {
		return "The kubelet restarted " + c[catalog.LabelName] + " at least 3 times in the last " + promDuration(window) +
			" or holds it in CrashLoopBackOff (restart count " + restarts + "); last exit code " + exit + "."
	}
	a.Tests = []spec.Test{
		{
			Name:     "fires on the third restart and carries the restart count and last exit",
			Interval: step,
			Series: []spec.Series{
				series(catalog.KubePodContainerRestartsTotal, k.ksm(1), hold(0, m), hold(1, m), hold(2, m), hold(3, 3*m)),
				series(catalog.KubePodContainerLastTerminatedExitCode, k.ksm(1), hold(1, 6*m)),
			},
			Expect: []spec.Expect{
				quiet(3*m - step),
				fires(3*m, spec.Firing{Labels: c, Summary: c[catalog.LabelName] + " is crash looping", Description: desc("3", "1")}),
			},
		},
		{
			Name:     "fires while the container waits in CrashLoopBackOff",
			Interval: step,
			Series: []spec.Series{
				series(catalog.KubePodContainerRestartsTotal, k.ksm(1), hold(2, 3*m)),
				series(catalog.KubePodContainerWaitingReason, k.ksm(1, catalog.LabelReason, catalog.KubeReasonCrashLoopBackOff), hold(0, m), hold(1, 2*m)),
			},
			Expect: []spec.Expect{
				quiet(m - step),
				fires(m, spec.Firing{Labels: c, Summary: c[catalog.LabelName] + " is crash looping", Description: desc("2", "unknown")}),
			},
		},
		{
			Name:     "stays quiet for restarts spread wider than the window",
			Interval: step,
			Series: []spec.Series{
				series(catalog.KubePodContainerRestartsTotal, k.ksm(1), hold(0, window/2), hold(1, window/2), hold(2, window/2), hold(3, window/2)),
			},
			Expect: []spec.Expect{quiet(2*window - step)},
		},
	}
	return a
}

// ContainerUnhealthy fires when a pod of the service has not been ready
// for a minute: its readiness probe (the healthcheck, see the Deployment
// patch) fails, so it is out of the Service's endpoints while it runs.
func (k Kube) ContainerUnhealthy() spec.Alert {
	p := k.P
	notReady := spec.Filter(spec.Max(k.pods(catalog.KubePodStatusReady, spec.Eq(catalog.LabelCondition, "false")), catalog.LabelNamespace, catalog.LabelPod), spec.OpEq, 1)
	a := spec.Alert{
		Name:     "ContainerUnhealthy",
		Expr:     named(spec.SetLabel(notReady, catalog.LabelContainer, k.W.Container)),
		For:      p.D(time.Minute),
		Severity: spec.Warning,
		Summary:  "{{ $labels.name }} is unhealthy",
		Description: "The readiness probe has failed {{ $labels.name }} repeatedly; the pod is out of the Service's endpoints and may be running without serving. " +
			"Read its events with kubectl describe pod -n " + k.W.Namespace + " {{ $labels.pod }}.",
	}
	step, m := p.step(), p.D(time.Minute)
	c := k.container(1)
	ready := func(cond string, segs ...spec.Segment) spec.Series {
		return series(catalog.KubePodStatusReady, k.ksmPod(1, catalog.LabelCondition, cond), segs...)
	}
	a.Tests = []spec.Test{
		{
			Name:     "fires after a minute not ready",
			Interval: step,
			Series:   []spec.Series{ready("false", hold(0, m), hold(1, 3*m)), ready("true", hold(1, m), hold(0, 3*m))},
			Expect: []spec.Expect{
				quiet(m + a.For - step),
				fires(m+a.For, spec.Firing{
					Labels:  c,
					Summary: c[catalog.LabelName] + " is unhealthy",
					Description: "The readiness probe has failed " + c[catalog.LabelName] + " repeatedly; the pod is out of the Service's endpoints and may be running without serving. " +
						"Read its events with kubectl describe pod -n " + k.W.Namespace + " " + c[catalog.LabelPod] + ".",
				}),
			},
		},
		{
			Name:     "stays quiet while ready",
			Interval: step,
			Series:   []spec.Series{ready("false", hold(0, 4*m)), ready("true", hold(1, 4*m))},
			Expect:   []spec.Expect{quiet(3 * m)},
		},
	}
	return a
}

// HighMemoryUsage warns when a container's working set stays above 85% of
// its memory limit for 5 minutes.
func (k Kube) HighMemoryUsage() spec.Alert {
	return k.memory("HighMemoryUsage", 0.85, k.P.D(5*time.Minute), spec.Warning, "")
}

// CriticalMemoryUsage says an OOM kill is imminent: above 95% for 2 minutes.
func (k Kube) CriticalMemoryUsage() spec.Alert {
	return k.memory("CriticalMemoryUsage", 0.95, k.P.D(2*time.Minute), spec.Critical, ": OOM kill imminent")
}

// memory divides the kubelet's working set by kube-state-metrics' memory
// limit, per container.
func (k Kube) memory(name string, threshold float64, forDur time.Duration, sev spec.Severity, warning string) spec.Alert {
	p := k.P
	ratio := spec.Binary(parser.DIV, byContainer(k.containers(catalog.CAdvisorContainerMemoryWorkingSet)),
		byContainer(k.containers(catalog.KubePodContainerResourceLimits, spec.Eq(catalog.LabelResource, "memory"))), catalog.KubePodLabels...)
	a := spec.Alert{
		Name:     name,
		Expr:     named(spec.Filter(ratio, spec.OpGt, threshold)),
		For:      forDur,
		Severity: sev,
		Summary:  "{{ $labels.name }} is using {{ $value | humanizePercentage }} of its memory limit" + warning,
		Description: fmt.Sprintf("The working set of {{ $labels.name }} has been above %.0f%% of its ", threshold*100) +
			"memory limit (" + queried(k.memoryLimit(), catalog.LabelPod, "humanize1024", "B", "size unknown") + ") for " + promDuration(forDur) +
			" (now {{ $value | humanizePercentage }}).",
	}
	step, lead := p.step(), p.D(time.Minute)
	c := k.container(1)
	limit := float64(4 * spec.GiB)
	limitSeries := series(catalog.KubePodContainerResourceLimits, k.ksm(1, catalog.LabelResource, "memory", catalog.LabelUnit, "byte"), hold(limit, lead+forDur+lead))
	above := threshold + 0.02
	pct := fmt.Sprintf("%.0f%%", above*100)
	wset := func(segs ...spec.Segment) spec.Series {
		for i := range segs {
			segs[i].Value *= limit
		}
		return series(catalog.CAdvisorContainerMemoryWorkingSet, k.kubelet(1), segs...)
	}
	a.Tests = []spec.Test{
		{
			Name:     fmt.Sprintf("fires after %s above %.0f%% of the limit", forDur, threshold*100),
			Interval: step,
			Series:   []spec.Series{wset(hold(0.5, lead), hold(above, forDur+lead)), limitSeries},
			Expect: []spec.Expect{
				quiet(lead + forDur - step),
				fires(lead+forDur, spec.Firing{
					Labels:  c,
					Summary: fmt.Sprintf("%s is using %s of its memory limit%s", c[catalog.LabelName], pct, warning),
					Description: fmt.Sprintf("The working set of %s has been above %.0f%% of its memory limit (4GiB) for %s (now %s).",
						c[catalog.LabelName], threshold*100, promDuration(forDur), pct),
				}),
			},
		},
		{
			Name:     fmt.Sprintf("stays quiet just below %.0f%%", threshold*100),
			Interval: step,
			Series:   []spec.Series{wset(hold(threshold-0.01, lead+forDur+lead)), limitSeries},
			Expect:   []spec.Expect{quiet(lead + forDur)},
		},
		{
			Name:     "forgives a spike shorter than its for duration",
			Interval: step,
			Series:   []spec.Series{wset(hold(above, forDur-step), hold(0.5, lead+step+lead)), limitSeries},
			Expect:   []spec.Expect{quiet(forDur), quiet(forDur + lead)},
		},
	}
	return a
}

// Test fixtures: pods named as a Deployment's ReplicaSet names them.

// podName is pod n of the service's Deployment.
func (k Kube) podName(n int) string {
	return fmt.Sprintf("%s-7c9d8b6f5d-%c%c4x2", k.W.Deployment, 'a'+rune(n), 'k'+rune(n))
}

// target is the up series' labels of pod n, as the Operator's
// ServiceMonitor writes them.
func (k Kube) target(n int) map[string]string {
	return map[string]string{"job": k.W.Job, "instance": fmt.Sprintf("10.1.0.%d:8080", n),
		catalog.LabelNamespace: k.W.Namespace, catalog.LabelPod: k.podName(n), catalog.LabelContainer: k.W.Container}
}

// container is the labels an alert on pod n's container carries.
func (k Kube) container(n int) map[string]string {
	return map[string]string{catalog.LabelNamespace: k.W.Namespace, catalog.LabelPod: k.podName(n), catalog.LabelContainer: k.W.Container,
		catalog.LabelName: k.podName(n) + "/" + k.W.Container}
}

// ksmPod is a kube-state-metrics series of pod n, with its own job and
// instance, which the alerts must not carry.
func (k Kube) ksmPod(n int, extra ...string) map[string]string {
	return merge(map[string]string{"job": "kube-state-metrics", "instance": "10.1.9.9:8080",
		catalog.LabelNamespace: k.W.Namespace, catalog.LabelPod: k.podName(n), catalog.LabelUID: fmt.Sprintf("0d3c2b1a-%04d", n)}, extra...)
}

// ksm is a kube-state-metrics series of pod n's container.
func (k Kube) ksm(n int, extra ...string) map[string]string {
	return merge(k.ksmPod(n, catalog.LabelContainer, k.W.Container), extra...)
}

// ksmDeployment is a kube-state-metrics series of the Deployment.
func (k Kube) ksmDeployment() map[string]string {
	return map[string]string{"job": "kube-state-metrics", "instance": "10.1.9.9:8080",
		catalog.LabelNamespace: k.W.Namespace, catalog.LabelDeployment: k.W.Deployment}
}

// kubelet is a cAdvisor series of pod n's container as the kubelet serves it.
func (k Kube) kubelet(n int) map[string]string {
	return merge(k.container(n), "job", "kubelet", "metrics_path", "/metrics/cadvisor", "image", "registry.example.com/app:1",
		catalog.LabelName, fmt.Sprintf("3f9a%04d", n), catalog.LabelID, fmt.Sprintf("/kubepods/burstable/pod%04d/3f9a%04d", n, n))
}
