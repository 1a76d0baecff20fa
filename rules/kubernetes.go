package rules

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/conventions"
	"github.com/sre-tools/promgen/spec"
)

// The runbook on Kubernetes: the same alerts, under the same names and
// severities (so the same routes and inhibitions apply), reading
// kube-state-metrics and the kubelet's cAdvisor instead of gateway-exporter.
// A container is named "<pod>/<container>" in the name label, as Docker
// names it in gateway-exporter's, so the summaries and the
// CriticalMemoryUsage inhibition read the same on both targets.

// Kube is the Kubernetes platform target of one service's workload: it
// implements platform, and each exported method builds the runbook's
// alert of its name there.
type Kube struct {
	// W is the service's resolved names on Kubernetes.
	W spec.Workload
	// P is the timing profile.
	P Profile
	// Svc is the service: the requests ServiceDown's impact counts and the
	// objective whose budget it consumes.
	Svc spec.Service
}

// OnKubernetes returns the alert builders of svc on the Kubernetes target k.
func OnKubernetes(k *spec.Kubernetes, svc spec.Service, p Profile) Kube {
	return Kube{W: k.Workload(svc), P: p, Svc: svc}
}

// KubernetesServedRate is ServedRate on the Kubernetes target k, to add to
// svc.Kubernetes.Records wherever ServiceDown watches the service there:
// the rate of the requests of the service's job in its namespace while
// the service can serve, as ServiceDown decides it (an unready pod is
// still scraped but sent no request), and the rate last held otherwise.
// It carries the namespace, as the service's other records there do.
func KubernetesServedRate(k *spec.Kubernetes, svc spec.Service, p Profile) spec.Record {
	kb := OnKubernetes(k, svc, p)
	ns := spec.Eq(catalog.LabelNamespace, kb.W.Namespace)
	serving := unlessAny(servedNow(svc, p, spec.Eq("job", kb.W.Job), ns), kb.serviceDown())
	return spec.Record{Name: catalog.RecordRequestsRateServed, Expr: spec.Or(serving, heldServed(svc, ns)),
		Labels: map[string]string{catalog.LabelNamespace: kb.W.Namespace}}
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
// hash>-<suffix>, as its ReplicaSets name them, and not a Job's
// <deployment>-<task>-<suffix> (catalog.KubeNameChars says why).
func (k Kube) podPattern() string {
	const c = "[" + catalog.KubeNameChars + "]"
	return regexp.QuoteMeta(k.W.Deployment) + "-" + c + "{1,10}-" + c + "{5}"
}

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

// terminations maps kube-state-metrics' last terminated reason and exit
// code onto the Docker target's reason words (KubeReasons).
func (k Kube) terminations(since parser.Expr) parser.Expr {
	when := spec.Binary(spec.OpGe, byContainer(k.containers(catalog.KubePodContainerLastTerminatedTimestamp)),
		spec.Sub(since, spec.Num(k.P.D(diagnosisLead).Seconds())))
	reasons := spec.Max(k.containers(catalog.KubePodContainerLastTerminatedReason), append(catalog.KubePodLabels, catalog.LabelReason)...)
	info := spec.Join(k.exitCodes(), reasons, catalog.KubePodLabels, []string{catalog.LabelReason})
	// group_left keeps info's labels, which one-to-one on() would drop.
	return reasonWords(spec.Join(info, when, catalog.KubePodLabels, nil))
}

// reasonWords rewrites the reason label of e, which carries the kubelet's
// reason and an exit_code label, into the Docker target's reason word.
func reasonWords(e parser.Expr) parser.Expr {
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

// orAny is lhs or on() rhs: lhs, or rhs when lhs has no series at all,
// whatever their labels.
func orAny(lhs, rhs parser.Expr) *parser.BinaryExpr {
	return &parser.BinaryExpr{Op: parser.LOR, LHS: lhs, RHS: spec.Paren(rhs),
		VectorMatching: &parser.VectorMatching{Card: parser.CardManyToMany, On: true}}
}

// andAny is lhs and on() rhs: lhs while rhs has any series.
func andAny(lhs, rhs parser.Expr) *parser.BinaryExpr {
	return &parser.BinaryExpr{Op: parser.LAND, LHS: spec.Paren(lhs), RHS: spec.Paren(rhs),
		VectorMatching: &parser.VectorMatching{Card: parser.CardManyToMany, On: true}}
}

// up selects the scrape health of the service's targets: its job in its
// namespace only, so a Service of the same name in another namespace
// (staging beside production) neither hides this one's outage nor pages
// for its own.
func (k Kube) up() *parser.VectorSelector {
	return spec.Metric(catalog.Up, spec.Eq("job", k.W.Job), spec.Eq(catalog.LabelNamespace, k.W.Namespace))
}

// onePod selects metric for the alert's own pod of the service, in its
// namespace, with the extra matchers.
func (k Kube) onePod(metric string, extra ...*labels.Matcher) *parser.AggregateExpr {
	m := append([]*labels.Matcher{spec.Eq(catalog.LabelNamespace, k.W.Namespace)}, sameAs(catalog.LabelPod)...)
	return spec.Max(spec.Metric(metric, append(m, extra...)...))
}

// oneContainer selects metric for the service's container in the alert's
// own pod.
func (k Kube) oneContainer(metric string, extra ...*labels.Matcher) *parser.AggregateExpr {
	return k.onePod(metric, append([]*labels.Matcher{spec.Eq(catalog.LabelContainer, k.W.Container)}, extra...)...)
}

// memoryLimit is the query of a pod's container's memory limit.
func (k Kube) memoryLimit() parser.Expr {
	return k.oneContainer(catalog.KubePodContainerResourceLimits, spec.Eq(catalog.LabelResource, "memory"))
}

// ServiceDown pages when the service cannot serve: its Deployment wants
// pods and kube-state-metrics sees none available or none ready (a pod
// that fails its readiness probe is still scraped, up == 1, but out of the
// Service's endpoints), or no target of its job answers Prometheus, or the
// job has no target at all (the pods are gone, never started, or the
// ServiceMonitor lost them) while the Deployment is not scaled to zero.
// Every selector is scoped to the service's namespace, so a Service of the
// same name in another namespace neither hides this one's outage nor pages
// for its own.
//
// It is one page per service, labelled job, namespace and deployment
// whichever of these holds, so the page keeps its identity (and its for)
// for the whole outage as it moves from failed scrapes to no target and
// back. A single pod down while others serve is ContainerUnhealthy's
// warning, not a page. The diagnosis (the most recent termination of any
// of the Deployment's pods within the diagnosis window, restarts, peak
// memory) is in the annotations, read when the alert is evaluated: as a
// label it would change, and re-page, when a termination arrives or ages.
func (k Kube) ServiceDown() spec.Alert { return serviceDown(k) }

// replicas is kube-state-metrics' count of the Deployment's replicas in
// metric.
func (k Kube) replicas(metric string) *parser.AggregateExpr { return spec.Max(k.deployment(metric)) }

// readyPods counts the service's pods kube-state-metrics sees ready.
func (k Kube) readyPods() *parser.AggregateExpr {
	return spec.Aggregate(parser.SUM, k.pods(catalog.KubePodStatusReady, spec.Eq(catalog.LabelCondition, "true")))
}

func (k Kube) serviceDown() parser.Expr {
	w := k.W
	unserved := andAny(spec.Filter(k.replicas(catalog.KubeDeploymentSpecReplicas), spec.OpGt, 0),
		orAny(spec.Filter(k.replicas(catalog.KubeDeploymentReplicasAvailable), spec.OpEq, 0), spec.Filter(k.readyPods(), spec.OpEq, 0)))
	unanswered := spec.Filter(spec.Max(k.up()), spec.OpEq, 0)
	targetless := unlessAny(spec.Call("absent", k.up()), spec.Filter(k.replicas(catalog.KubeDeploymentSpecReplicas), spec.OpEq, 0))
	var expr parser.Expr = orAny(orAny(unserved, unanswered), targetless)
	for _, l := range [][2]string{{"job", w.Job}, {catalog.LabelNamespace, w.Namespace}, {catalog.LabelDeployment, w.Deployment}} {
		expr = spec.SetLabel(expr, l[0], l[1])
	}
	return expr
}

func (k Kube) whyDown() string {
	return "No pod of Deployment " + k.W.Namespace + "/" + k.W.Deployment + " serves: " +
		queryValue(k.replicas(catalog.KubeDeploymentReplicasAvailable), "", "", "unknown") + " of " +
		queryValue(k.replicas(catalog.KubeDeploymentSpecReplicas), "", "", "unknown") + " replicas available, " +
		queryValue(k.readyPods(), "", "", "unknown") + " pods ready, " +
		queryValue(spec.Aggregate(parser.SUM, k.up()), "", "", "0") + " of " + queryValue(spec.Aggregate(parser.COUNT, k.up()), "", "", "0") +
		" targets of job {{ $labels.job }} answering. "
}

func (k Kube) termination(last parser.Expr, summary bool) string {
	each := func(format, fallback string) string {
		return "{{ range " + templateQuery(last) + " }}" + format + "{{ else }}" + fallback + "{{ end }}"
	}
	if summary {
		return each(" ({{ .Labels.reason }}, exit code {{ .Labels.exit_code }})", "")
	}
	return each("exit code {{ .Labels.exit_code }} ({{ .Labels.reason }}) of pod {{ .Labels.pod }}", "none recorded by kube-state-metrics")
}

func (k Kube) serviceRestarts() parser.Expr {
	return spec.Max(k.containers(catalog.KubePodContainerRestartsTotal))
}

func (k Kube) peakMemory(window time.Duration) parser.Expr {
	return spec.Binary(parser.DIV,
		spec.Max(spec.Call("max_over_time", spec.Range(k.containers(catalog.CAdvisorContainerMemoryWorkingSet), window))),
		spec.Max(k.containers(catalog.KubePodContainerResourceLimits, spec.Eq(catalog.LabelResource, "memory"))))
}

// impact reads the rate KubernetesServedRate holds in the namespace.
func (k Kube) impact(since parser.Expr) map[string]string {
	return impactAnnotations(k.Svc, since, heldServed(k.Svc, spec.Eq(catalog.LabelNamespace, k.W.Namespace)))
}

// serviceDownAlerts selects what Prometheus records of the service's
// ServiceDown in metric (ALERTS or ALERTS_FOR_STATE).
func (k Kube) serviceDownAlerts(metric string, extra ...*labels.Matcher) *parser.VectorSelector {
	m := []*labels.Matcher{spec.Eq("alertname", "ServiceDown"), spec.Eq("job", k.W.Job), spec.Eq(catalog.LabelNamespace, k.W.Namespace)}
	return spec.Metric(metric, append(m, extra...)...)
}

// serviceState is what ServiceDown's description reports, as the tests
// expect it, and the impact so far: down for down (zero: the alert's for,
// as when it first fires) at the served rate held (zero: none).
type serviceState struct {
	available, wanted, ready, answering, targets, last, restarts, peak string
	down                                                               time.Duration
	served                                                             float64
}

// serviceDownTests are ServiceDown's scenarios on kube-state-metrics' and
// Prometheus' raw series: what pages, once, and what stays quiet.
func (k Kube) serviceDownTests(a spec.Alert) []spec.Test {
	w, p := k.W, k.P
	lead := p.D(diagnosisLead)
	step, f := p.step(), a.For
	healthyFor, downFor := p.D(time.Minute), p.D(5*time.Minute)
	total := healthyFor + downFor
	upDown := []spec.Segment{hold(1, healthyFor), hold(0, downFor)}
	gone := []spec.Segment{hold(1, healthyFor), stale(downFor)}
	t1, t2 := k.target(1), k.target(2)
	staging := k
	staging.W.Namespace = otherNamespace(w.Namespace)
	where := fmt.Sprintf("%s/%s", w.Namespace, w.Deployment)
	page := func(diag string, s serviceState) spec.Firing {
		def := func(v, d string) string {
			if v == "" {
				return d
			}
			return v
		}
		down, served := s.down, s.served
		if down == 0 {
			down = f
		}
		if served == 0 {
			served = -1
		}
		return spec.Firing{
			Labels:      k.service(),
			Annotations: ImpactAfter(k.Svc, down, served),
			Summary:     w.Job + " is down" + diag,
			Description: fmt.Sprintf("No pod of Deployment %s serves: %s of %s replicas available, %s pods ready, %s of %s targets of job %s answering. "+
				"Last termination: %s. Restarts: %s. Peak memory: %s of the limit.",
				where, def(s.available, "unknown"), def(s.wanted, "unknown"), def(s.ready, "unknown"), def(s.answering, "0"), def(s.targets, "0"), w.Job,
				def(s.last, "none recorded by kube-state-metrics"), def(s.restarts, "unknown"), def(s.peak, "unknown")),
		}
	}
	// Traffic for longer than ServedRate's rate window before an outage
	// past an hour; perStep counts requestRate while it lasts.
	long := p.D(time.Hour)
	traffic, outage := p.D(10*time.Minute), long+p.D(35*time.Minute)
	perStep := func(d time.Duration) spec.Segment {
		return spec.Segment{Increase: requestRate * step.Seconds(), For: d}
	}
	lastOf := func(n int, code, reason string) string {
		return fmt.Sprintf("exit code %s (%s) of pod %s", code, reason, k.podName(n))
	}
	limit := float64(4 * spec.GiB)

	return []spec.Test{
		{
			Name:     "pages when every pod fails its readiness probe although Prometheus still scrapes them",
			Interval: step,
			Series: concat(
				k.replicaSeries(hold(2, total), hold(2, healthyFor), hold(0, downFor)),
				k.readiness(1, hold(1, healthyFor), hold(0, downFor)), k.readiness(2, hold(1, healthyFor), hold(0, downFor)),
				[]spec.Series{series(catalog.Up, t1, hold(1, total)), series(catalog.Up, t2, hold(1, total))}),
			Expect: []spec.Expect{
				quiet(healthyFor + f - step),
				fires(healthyFor+f, page("", serviceState{available: "0", wanted: "2", ready: "0", answering: "2", targets: "2"})),
			},
		},
		{
			Name:     "pages with the OOM diagnosis when kube-state-metrics saw the container OOM-killed",
			Interval: step,
			Series: concat(
				k.terminated(1, catalog.KubeReasonOOMKilled, 137, healthyFor-step, total),
				k.replicaSeries(hold(1, total), hold(1, healthyFor), hold(0, downFor)),
				k.readiness(1, hold(1, healthyFor), hold(0, downFor)),
				[]spec.Series{
					series(catalog.Up, t1, upDown...),
					series(catalog.KubePodContainerRestartsTotal, k.ksm(1), hold(2, total)),
					series(catalog.CAdvisorContainerMemoryWorkingSet, k.kubelet(1), hold(0.99*limit, healthyFor), stale(downFor)),
					series(catalog.KubePodContainerResourceLimits, k.ksm(1, catalog.LabelResource, "memory", catalog.LabelUnit, "byte"), hold(limit, total)),
				}),
			Expect: []spec.Expect{
				quiet(healthyFor + f - step),
				fires(healthyFor+f, page(" (oom_killed, exit code 137)", serviceState{available: "0", wanted: "1", ready: "0", answering: "0", targets: "1",
					last: lastOf(1, "137", "oom_killed"), restarts: "2", peak: "99%"})),
			},
		},
		{
			Name:     "pages once for the service, with the most recent termination, when two pods terminated differently",
			Interval: step,
			Series: concat(
				k.terminated(1, catalog.KubeReasonOOMKilled, 137, healthyFor/3, total), k.terminated(2, catalog.KubeReasonError, 139, 2*healthyFor/3, total),
				[]spec.Series{
					series(catalog.Up, t1, upDown...), series(catalog.Up, t2, upDown...),
					series(catalog.KubePodContainerRestartsTotal, k.ksm(1), hold(1, total)),
					series(catalog.KubePodContainerRestartsTotal, k.ksm(2), hold(4, total)),
				}),
			Expect: []spec.Expect{
				fires(healthyFor+f, page(" (segfault, exit code 139)", serviceState{answering: "0", targets: "2", last: lastOf(2, "139", "segfault"), restarts: "4"})),
			},
		},
		{
			Name:     "keeps one page with one label set from the first failed scrape until no target is left",
			Interval: step,
			Series: concat(
				k.replicaSeries(hold(2, total), hold(2, healthyFor), hold(0, downFor)),
				[]spec.Series{
					series(catalog.Up, t1, hold(1, healthyFor), hold(0, 2*f), stale(downFor-2*f)),
					series(catalog.Up, t2, hold(1, healthyFor), hold(0, 2*f), stale(downFor-2*f)),
				}),
			Expect: []spec.Expect{
				quiet(healthyFor + f - step),
				fires(healthyFor+f, page("", serviceState{available: "0", wanted: "2", answering: "0", targets: "2"})),
				fires(healthyFor+3*f, page("", serviceState{available: "0", wanted: "2", down: 3 * f})),
				fires(total-step, page("", serviceState{available: "0", wanted: "2", down: downFor - step})),
			},
		},
		{
			Name:     "pages when the job has no target left and kube-state-metrics is silent",
			Interval: step,
			Series:   []spec.Series{series(catalog.Up, t1, gone...), series(catalog.Up, t2, gone...)},
			Expect: []spec.Expect{
				quiet(healthyFor + f - step),
				fires(healthyFor+f, page("", serviceState{})),
			},
		},
		{
			Name:     "pages for its namespace's outage while a Service of the same job in another namespace is healthy",
			Interval: step,
			Series: concat(
				k.replicaSeries(hold(2, total), hold(2, healthyFor), hold(0, downFor)),
				staging.replicaSeries(hold(2, total), hold(2, total)),
				[]spec.Series{
					series(catalog.Up, t1, gone...), series(catalog.Up, t2, gone...),
					series(catalog.Up, staging.target(1), hold(1, total)), series(catalog.Up, staging.target(2), hold(1, total)),
				}),
			Expect: []spec.Expect{
				quiet(healthyFor + f - step),
				fires(healthyFor+f, page("", serviceState{available: "0", wanted: "2"})),
			},
		},
		{
			Name:     "stays quiet when a Service of the same job in another namespace goes down",
			Interval: step,
			Series: concat(
				k.replicaSeries(hold(2, total), hold(2, total)),
				k.readiness(1, hold(1, total)), k.readiness(2, hold(1, total)),
				staging.replicaSeries(hold(2, total), hold(2, healthyFor), hold(0, downFor)),
				staging.readiness(1, hold(1, healthyFor), hold(0, downFor)),
				staging.terminated(1, catalog.KubeReasonOOMKilled, 137, healthyFor, total),
				[]spec.Series{
					series(catalog.Up, t1, hold(1, total)), series(catalog.Up, t2, hold(1, total)),
					series(catalog.Up, staging.target(1), upDown...), series(catalog.Up, staging.target(2), gone...),
				}),
			Expect: []spec.Expect{quiet(healthyFor + f), quiet(total - step)},
		},
		{
			Name:     "stays quiet while one pod of two is down and the other serves",
			Interval: step,
			Series: concat(
				k.replicaSeries(hold(2, total), hold(2, healthyFor), hold(1, downFor)),
				k.readiness(1, hold(1, healthyFor), hold(0, downFor)), k.readiness(2, hold(1, total)),
				k.terminated(1, catalog.KubeReasonOOMKilled, 137, healthyFor, total),
				[]spec.Series{series(catalog.Up, t1, upDown...), series(catalog.Up, t2, hold(1, total))}),
			Expect: []spec.Expect{quiet(healthyFor + f), quiet(total - step)},
		},
		{
			Name:     "stays quiet while an evicted pod waits for garbage collection beside its ready replacement",
			Interval: step,
			Series: concat(
				k.replicaSeries(hold(1, total), hold(1, total)),
				k.readiness(1, hold(0, total)), k.phase(1, podPhase{catalog.KubePhaseFailed, total}),
				k.readiness(2, hold(1, total)), k.phase(2, podPhase{catalog.KubePhaseRunning, total}),
				[]spec.Series{series(catalog.Up, t2, hold(1, total))}),
			Expect: []spec.Expect{quiet(healthyFor + f), quiet(total - step)},
		},
		{
			Name:     "pages without a diagnosis when the pods are gone and kube-state-metrics has no termination",
			Interval: step,
			Series: concat(k.replicaSeries(hold(3, total), hold(3, healthyFor), hold(0, downFor)),
				[]spec.Series{series(catalog.Up, t1, gone...)}),
			Expect: []spec.Expect{
				quiet(healthyFor + f - step),
				fires(healthyFor+f, page("", serviceState{available: "0", wanted: "3"})),
			},
		},
		{
			Name:     "pages without a diagnosis when kube-state-metrics has no data",
			Interval: step,
			Series:   []spec.Series{series(catalog.Up, t1, upDown...)},
			Expect: []spec.Expect{
				quiet(healthyFor + f - step),
				fires(healthyFor+f, page("", serviceState{answering: "0", targets: "1"})),
			},
		},
		{
			Name:     "does not blame the page on a termination from well before the outage began",
			Interval: step,
			Series: concat(k.terminated(1, catalog.KubeReasonOOMKilled, 137, step, lead+total),
				[]spec.Series{series(catalog.Up, t1, hold(1, lead+healthyFor), hold(0, downFor))}),
			Expect: []spec.Expect{
				fires(lead+healthyFor+f, page("", serviceState{answering: "0", targets: "1"})),
			},
		},
		{
			Name:     "counts the impact from the outage's start at the traffic it lost, for an outage past an hour after the pod's counters stopped",
			Interval: step,
			Series: concat(k.terminated(1, catalog.KubeReasonOOMKilled, 137, traffic-step, traffic+outage),
				[]spec.Series{
					series(catalog.Up, t1, hold(1, traffic), hold(0, outage)),
					series(requestsOf(k.Svc), t1, perStep(traffic), stale(outage)),
				}),
			Expect: []spec.Expect{
				quiet(traffic + f - step),
				fires(traffic+f, page(" (oom_killed, exit code 137)", serviceState{answering: "0", targets: "1", last: lastOf(1, "137", "oom_killed"), served: requestRate})),
				fires(traffic+long+p.D(30*time.Minute), page(" (oom_killed, exit code 137)", serviceState{answering: "0", targets: "1", last: lastOf(1, "137", "oom_killed"),
					down: long + p.D(30*time.Minute), served: requestRate})),
			},
		},
		{
			// Its counter stops growing while Prometheus still scrapes it:
			// the traffic lost is the rate before the pod went unready.
			Name:     "counts the impact at the traffic served before the pods went unready, although they are still scraped",
			Interval: step,
			Series: concat(
				k.replicaSeries(hold(1, traffic+outage), hold(1, traffic), hold(0, outage)),
				k.readiness(1, hold(1, traffic), hold(0, outage)),
				[]spec.Series{
					series(catalog.Up, t1, hold(1, traffic+outage)),
					series(requestsOf(k.Svc), t1, perStep(traffic), hold(requestRate*traffic.Seconds(), outage)),
				}),
			Expect: []spec.Expect{
				fires(traffic+f, page("", serviceState{available: "0", wanted: "1", ready: "0", answering: "1", targets: "1", served: requestRate})),
			},
		},
		{
			Name:     "keeps the OOM kill that took the service down as the diagnosis for an outage of two hours",
			Interval: p.D(time.Minute),
			Series: concat(k.terminated(1, catalog.KubeReasonOOMKilled, 137, healthyFor, healthyFor+p.D(2*time.Hour)),
				[]spec.Series{series(catalog.Up, t1, hold(1, healthyFor), hold(0, p.D(2*time.Hour)))}),
			Expect: []spec.Expect{
				fires(healthyFor+p.D(110*time.Minute), page(" (oom_killed, exit code 137)", serviceState{answering: "0", targets: "1", last: lastOf(1, "137", "oom_killed"), down: p.D(110 * time.Minute)})),
			},
		},
		{
			Name:     "keeps paging through one answered scrape between two crashes, and resolves once the pod stays up",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, t1, hold(1, healthyFor), hold(0, f+step), hold(1, step), hold(0, step), hold(1, downFor)),
			},
			Expect: []spec.Expect{
				// Annotations are those of the last evaluation that found the
				// service down.
				fires(healthyFor+f+step, page("", serviceState{answering: "0", targets: "1"})),
				fires(healthyFor+f+3*step, page("", serviceState{answering: "0", targets: "1", down: f + 2*step})),
				quiet(healthyFor + f + 3*step + a.KeepFiringFor + step),
			},
		},
		{
			Name:     "stays quiet while the pods are scraped, ready and available, whatever their past terminations",
			Interval: step,
			Series: concat(k.terminated(1, catalog.KubeReasonOOMKilled, 137, step, total),
				k.replicaSeries(hold(1, total), hold(1, total)), k.readiness(1, hold(1, total)),
				[]spec.Series{series(catalog.Up, t1, hold(1, total))}),
			Expect: []spec.Expect{quiet(healthyFor), quiet(total - step)},
		},
		{
			Name:     "stays quiet when the Deployment is scaled to zero",
			Interval: step,
			Series: []spec.Series{
				series(catalog.KubeDeploymentSpecReplicas, k.ksmDeployment(), hold(1, healthyFor), hold(0, downFor)),
				series(catalog.KubeDeploymentReplicasAvailable, k.ksmDeployment(), hold(1, healthyFor), hold(0, downFor)),
				series(catalog.Up, t1, gone...),
			},
			Expect: []spec.Expect{quiet(healthyFor + f), quiet(total - step)},
		},
	}
}

// ContainerOOMKilled fires for 15 minutes after the kernel OOM-killed the
// service's container in a pod, from kube-state-metrics' last terminated
// reason.
func (k Kube) ContainerOOMKilled() spec.Alert { return containerOOMKilled(k) }

func (k Kube) oomKilled(window time.Duration) parser.Expr {
	oom := spec.Join(k.exitCodes(), byContainer(k.containers(catalog.KubePodContainerLastTerminatedReason, spec.Eq(catalog.LabelReason, catalog.KubeReasonOOMKilled))),
		catalog.KubePodLabels, nil)
	return named(spec.And(oom, k.recent(window), catalog.KubePodLabels...))
}

// oomTests are the OOM kill's scenarios on kube-state-metrics' series.
func (k Kube) oomTests(a spec.Alert, window time.Duration) []spec.Test {
	p := k.P
	step, total, killedAt := p.step(), p.D(20*time.Minute), p.D(time.Minute)
	// The service serves throughout, as after a restart or with another
	// pod, unless a test says otherwise.
	killed := func(reason string, code float64) []spec.Series {
		return []spec.Series{
			series(catalog.Up, k.target(2), hold(1, total)),
			series(catalog.KubePodContainerLastTerminatedReason, k.ksm(1, catalog.LabelReason, reason), hold(1, total)),
			series(catalog.KubePodContainerLastTerminatedExitCode, k.ksm(1), hold(code, total)),
			series(catalog.KubePodContainerLastTerminatedTimestamp, k.ksm(1), hold(killedAt.Seconds(), total)),
		}
	}
	c := k.container(1)
	return []spec.Test{
		{
			Name:     "fires after an OOM kill and resolves once it is older than the window",
			Interval: step,
			Series: append(killed(catalog.KubeReasonOOMKilled, 137),
				series(catalog.KubePodContainerResourceLimits, k.ksm(1, catalog.LabelResource, "memory", catalog.LabelUnit, "byte"), hold(float64(128*spec.MiB), total))),
			Expect: []spec.Expect{
				quiet(a.For - step),
				fires(a.For, oomPage(merge(c, catalog.LabelExitCode, "137"), window)),
				quiet(killedAt + window + step),
			},
		},
		{
			Name:     "stays quiet after a SIGKILL that was not the OOM killer",
			Interval: step,
			Series:   killed(catalog.KubeReasonError, 137),
			Expect:   []spec.Expect{quiet(killedAt + a.For + step)},
		},
		{
			Name:     "stays quiet, during and after, when the kill took the whole service down and ServiceDown paged it",
			Interval: step,
			Series: append(killed(catalog.KubeReasonOOMKilled, 137),
				// As Prometheus writes it once ServiceDown fires, whether or
				// not this service's group has the rule.
				series(catalog.Alerts, merge(k.service(), "alertname", "ServiceDown", "alertstate", "firing", "severity", "critical"),
					hold(0, killedAt+p.D(time.Minute)), hold(1, p.D(4*time.Minute)), stale(total-killedAt-p.D(5*time.Minute)))),
			Expect: []spec.Expect{quiet(killedAt + a.For), quiet(killedAt + p.D(5*time.Minute) + step), quiet(killedAt + window - step)},
		},
	}
}

// ContainerCrashLooping fires when the kubelet restarted the service's
// container in a pod three times within 15 minutes, or holds it in
// CrashLoopBackOff.
func (k Kube) ContainerCrashLooping() spec.Alert { return containerCrashLooping(k) }

func (k Kube) crashLooping(window time.Duration) parser.Expr {
	restarted := spec.Filter(byContainer(spec.Call("increase", spec.Range(k.containers(catalog.KubePodContainerRestartsTotal), window))), spec.OpGe, 3)
	backoff := spec.Filter(byContainer(k.containers(catalog.KubePodContainerWaitingReason, spec.Eq(catalog.LabelReason, catalog.KubeReasonCrashLoopBackOff))), spec.OpEq, 1)
	return named(spec.Or(restarted, backoff, catalog.KubePodLabels...))
}

func (k Kube) restarted(name, _ string, window time.Duration) string {
	return "The kubelet restarted " + name + " at least 3 times in the last " + promDuration(window) + " or holds it in CrashLoopBackOff"
}

func (k Kube) restartCount() parser.Expr {
	return k.oneContainer(catalog.KubePodContainerRestartsTotal)
}
func (k Kube) lastExitCode() parser.Expr {
	return k.oneContainer(catalog.KubePodContainerLastTerminatedExitCode)
}

// lastReason is the reason word of the alert's own container's last
// termination, as ServiceDown's diagnosis names it: "oom_killed" for the
// kubelet's OOMKilled, "error" for Error with exit code 1.
func (k Kube) lastReason() parser.Expr {
	own := append([]*labels.Matcher{spec.Eq(catalog.LabelNamespace, k.W.Namespace), spec.Eq(catalog.LabelContainer, k.W.Container)}, sameAs(catalog.LabelPod)...)
	codes := spec.Aggregate(parser.COUNT_VALUES, spec.Metric(catalog.KubePodContainerLastTerminatedExitCode, own...), catalog.KubePodLabels...)
	codes.Param = spec.Str(catalog.LabelExitCode)
	reasons := spec.Max(spec.Metric(catalog.KubePodContainerLastTerminatedReason, own...), append(catalog.KubePodLabels, catalog.LabelReason)...)
	return reasonWords(spec.Join(codes, reasons, catalog.KubePodLabels, []string{catalog.LabelReason}))
}

func (k Kube) restarts(n int, segs ...spec.Segment) spec.Series {
	return series(catalog.KubePodContainerRestartsTotal, k.ksm(n), segs...)
}

// lastExit publishes the kubelet's reason for the Docker target's word.
func (k Kube) lastExit(n, code int, reason string, d time.Duration) []spec.Series {
	kubelet := map[string]string{catalog.ReasonOOMKilled: catalog.KubeReasonOOMKilled, catalog.ReasonCompleted: catalog.KubeReasonCompleted}[reason]
	if kubelet == "" {
		kubelet = catalog.KubeReasonError
	}
	return []spec.Series{
		series(catalog.KubePodContainerLastTerminatedExitCode, k.ksm(n), hold(float64(code), d)),
		series(catalog.KubePodContainerLastTerminatedReason, k.ksm(n, catalog.LabelReason, kubelet), hold(1, d)),
	}
}

// crashLoopTests adds the kubelet's CrashLoopBackOff.
func (k Kube) crashLoopTests(c crashCase) []spec.Test {
	m := c.m
	return []spec.Test{
		c.fires(),
		{
			Name:     "fires while the container waits in CrashLoopBackOff",
			Interval: c.step,
			Series: []spec.Series{
				k.restarts(1, hold(2, 3*m)),
				series(catalog.KubePodContainerWaitingReason, k.ksm(1, catalog.LabelReason, catalog.KubeReasonCrashLoopBackOff), hold(0, m), hold(1, 2*m)),
			},
			Expect: []spec.Expect{quiet(m - c.step), fires(m, c.firing("", "2", "unknown", "unknown"))},
		},
		c.spread(),
	}
}

// ContainerUnhealthy warns when one pod of the service has been out of
// service for a minute: its readiness probe (the healthcheck, see the
// Deployment patch) fails, so it is out of the Service's endpoints while it
// runs, or Prometheus cannot scrape it. While other pods serve, this is the
// warning a single pod down gets; when none does, ServiceDown pages and
// mutes it. A pod in a terminal phase (Failed: evicted; Succeeded) is left
// out: it never serves again, and kube-state-metrics lists it, not ready,
// until it is garbage-collected.
func (k Kube) ContainerUnhealthy() spec.Alert { return containerUnhealthy(k) }

// unhealthy is a pod whose readiness probe fails or that Prometheus
// cannot scrape, unless it ended.
func (k Kube) unhealthy() parser.Expr {
	byPod := []string{catalog.LabelNamespace, catalog.LabelPod}
	notReady := spec.Filter(spec.Max(k.pods(catalog.KubePodStatusReady, spec.Eq(catalog.LabelCondition, "false")), byPod...), spec.OpEq, 1)
	unscraped := spec.Filter(spec.Max(k.up(), byPod...), spec.OpEq, 0)
	ended := spec.Filter(spec.Max(k.pods(catalog.KubePodStatusPhase, spec.Re(catalog.LabelPhase, catalog.KubePhaseFailed+"|"+catalog.KubePhaseSucceeded)), byPod...), spec.OpEq, 1)
	out := &parser.BinaryExpr{Op: parser.LUNLESS, LHS: spec.Paren(spec.Or(notReady, unscraped, byPod...)), RHS: ended,
		VectorMatching: &parser.VectorMatching{Card: parser.CardManyToMany, On: true, MatchingLabels: byPod}}
	return named(spec.SetLabel(out, catalog.LabelContainer, k.W.Container))
}

func (k Kube) unhealthyWords(forDur time.Duration) string {
	w := k.W
	return "{{ $labels.name }} has been out of service for " + promDuration(forDur) + " (ready: " +
		queryValue(k.onePod(catalog.KubePodStatusReady, spec.Eq(catalog.LabelCondition, "true")), "", "", "unknown") +
		", answering Prometheus' scrapes: " + queryValue(k.onePod(catalog.Up, spec.Eq("job", w.Job)), "", "", "no target") +
		"). A pod that is not ready is out of the Service's endpoints; the other pods serve, and ServiceDown pages when none does. " +
		"Read its events with kubectl describe pod -n " + w.Namespace + " {{ $labels.pod }}."
}

// unhealthyTests are the pods' scenarios on kube-state-metrics' and
// Prometheus' series.
func (k Kube) unhealthyTests(a spec.Alert) []spec.Test {
	p, w := k.P, k.W
	step, m := p.step(), p.D(time.Minute)
	c := k.container(1)
	staging := k
	staging.W.Namespace = otherNamespace(w.Namespace)
	desc := func(ready, up string) string {
		return c[catalog.LabelName] + " has been out of service for " + promDuration(a.For) + " (ready: " + ready + ", answering Prometheus' scrapes: " + up +
			"). A pod that is not ready is out of the Service's endpoints; the other pods serve, and ServiceDown pages when none does. " +
			"Read its events with kubectl describe pod -n " + w.Namespace + " " + c[catalog.LabelPod] + "."
	}
	warns := func(ready, up string) spec.Firing {
		return spec.Firing{Labels: c, Summary: c[catalog.LabelName] + " is unhealthy", Description: desc(ready, up)}
	}
	return []spec.Test{
		{
			Name:     "warns after a minute not ready, although Prometheus still scrapes the pod",
			Interval: step,
			Series:   concat(k.readiness(1, hold(1, m), hold(0, 3*m)), []spec.Series{series(catalog.Up, k.target(1), hold(1, 4*m))}),
			Expect:   []spec.Expect{quiet(m + a.For - step), fires(m+a.For, warns("0", "1"))},
		},
		{
			Name:     "warns when Prometheus cannot scrape one pod while the other serves",
			Interval: step,
			Series: concat(k.readiness(1, hold(1, 4*m)), k.readiness(2, hold(1, 4*m)),
				[]spec.Series{series(catalog.Up, k.target(1), hold(1, m), hold(0, 3*m)), series(catalog.Up, k.target(2), hold(1, 4*m))}),
			Expect: []spec.Expect{quiet(m + a.For - step), fires(m+a.For, warns("1", "0"))},
		},
		{
			Name:     "stays quiet while ready and scraped",
			Interval: step,
			Series:   concat(k.readiness(1, hold(1, 4*m)), []spec.Series{series(catalog.Up, k.target(1), hold(1, 4*m))}),
			Expect:   []spec.Expect{quiet(3 * m)},
		},
		{
			Name:     "forgets an evicted pod that waits, not ready, for garbage collection",
			Interval: step,
			Series:   concat(k.readiness(1, hold(1, m), hold(0, 9*m)), k.phase(1, podPhase{catalog.KubePhaseRunning, m}, podPhase{catalog.KubePhaseFailed, 9 * m})),
			Expect:   []spec.Expect{quiet(m + a.For), quiet(9 * m)},
		},
		{
			Name:     "stays quiet when a pod of the same name in another namespace is down",
			Interval: step,
			Series: concat(k.readiness(1, hold(1, 4*m)), staging.readiness(1, hold(1, m), hold(0, 3*m)),
				[]spec.Series{series(catalog.Up, k.target(1), hold(1, 4*m)), series(catalog.Up, staging.target(1), hold(1, m), hold(0, 3*m))}),
			Expect: []spec.Expect{quiet(m + a.For), quiet(3 * m)},
		},
	}
}

// HighMemoryUsage warns when a container's working set stays above 85% of
// its memory limit for 5 minutes.
func (k Kube) HighMemoryUsage() spec.Alert { return highMemoryUsage(k) }

// CriticalMemoryUsage says an OOM kill is imminent: above 95% for 2 minutes.
func (k Kube) CriticalMemoryUsage() spec.Alert { return criticalMemoryUsage(k) }

func (k Kube) profile() Profile { return k.P }

// memoryAbove divides the kubelet's working set by kube-state-metrics'
// memory limit, per container.
func (k Kube) memoryAbove(threshold float64) parser.Expr {
	ratio := spec.Binary(parser.DIV, byContainer(k.containers(catalog.CAdvisorContainerMemoryWorkingSet)),
		byContainer(k.containers(catalog.KubePodContainerResourceLimits, spec.Eq(catalog.LabelResource, "memory"))), catalog.KubePodLabels...)
	return named(spec.Filter(ratio, spec.OpGt, threshold))
}

func (k Kube) alerted(n int) map[string]string { return k.container(n) }

func (k Kube) memory(n int, limit float64, ratio ...spec.Segment) []spec.Series {
	wset := make([]spec.Segment, len(ratio))
	var total time.Duration
	for i, s := range ratio {
		wset[i] = s
		wset[i].Value *= limit
		total += s.For
	}
	return []spec.Series{
		series(catalog.CAdvisorContainerMemoryWorkingSet, k.kubelet(n), wset...),
		series(catalog.KubePodContainerResourceLimits, k.ksm(n, catalog.LabelResource, "memory", catalog.LabelUnit, "byte"), hold(limit, total)),
	}
}

func (k Kube) memoryTests(c memoryCase) []spec.Test {
	return []spec.Test{c.fires(), c.quietBelow(), c.forgivesSpike()}
}

// Test fixtures: pods named as a Deployment's ReplicaSet names them.

// otherNamespace is a namespace that is not ns, for scenarios with a
// Service of the same name beside the service's (staging beside
// production).
func otherNamespace(ns string) string {
	if ns == "staging" {
		return "staging-2"
	}
	return "staging"
}

// concat joins groups of input series.
func concat(groups ...[]spec.Series) []spec.Series {
	var out []spec.Series
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// service is the labels of a service-level page: ServiceDown's.
func (k Kube) service() map[string]string {
	return map[string]string{"job": k.W.Job, catalog.LabelNamespace: k.W.Namespace, catalog.LabelDeployment: k.W.Deployment}
}

// terminated is kube-state-metrics' last termination of pod n's container:
// its reason, exit code, and time (when, from the test's start), for d.
func (k Kube) terminated(n int, reason string, code float64, when, d time.Duration) []spec.Series {
	return []spec.Series{
		series(catalog.KubePodContainerLastTerminatedReason, k.ksm(n, catalog.LabelReason, reason), hold(1, d)),
		series(catalog.KubePodContainerLastTerminatedExitCode, k.ksm(n), hold(code, d)),
		series(catalog.KubePodContainerLastTerminatedTimestamp, k.ksm(n), hold(when.Seconds(), d)),
	}
}

// replicaSeries is kube-state-metrics' desired and available replicas of
// the Deployment.
func (k Kube) replicaSeries(wanted spec.Segment, available ...spec.Segment) []spec.Series {
	return []spec.Series{
		series(catalog.KubeDeploymentSpecReplicas, k.ksmDeployment(), wanted),
		series(catalog.KubeDeploymentReplicasAvailable, k.ksmDeployment(), available...),
	}
}

// readiness is kube-state-metrics' ready condition of pod n: ready holds 1
// while it is ready, 0 while it is not; the condition "false" mirrors it.
func (k Kube) readiness(n int, ready ...spec.Segment) []spec.Series {
	not := make([]spec.Segment, len(ready))
	for i, s := range ready {
		not[i] = s
		if !s.Stale {
			not[i].Value = 1 - s.Value
		}
	}
	return []spec.Series{
		series(catalog.KubePodStatusReady, k.ksmPod(n, catalog.LabelCondition, "true"), ready...),
		series(catalog.KubePodStatusReady, k.ksmPod(n, catalog.LabelCondition, "false"), not...),
	}
}

// podPhase is a stretch of a pod's life in one phase.
type podPhase struct {
	phase string
	d     time.Duration
}

// phase is kube-state-metrics' phase of pod n, one series per phase, 1 for
// the pod's phase of each stretch.
func (k Kube) phase(n int, stretches ...podPhase) []spec.Series {
	var out []spec.Series
	for _, ph := range catalog.KubePhases {
		var segs []spec.Segment
		for _, s := range stretches {
			v := 0.0
			if s.phase == ph {
				v = 1
			}
			segs = append(segs, hold(v, s.d))
		}
		out = append(out, series(catalog.KubePodStatusPhase, k.ksmPod(n, catalog.LabelPhase, ph), segs...))
	}
	return out
}

// podName is pod n of the service's Deployment.
func (k Kube) podName(n int) string {
	return fmt.Sprintf("%s-7c9d8b6f5d-%c%c4x2", k.W.Deployment, catalog.KubeNameChars[n%27], catalog.KubeNameChars[(n+9)%27])
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

// KubernetesSLOs returns the recording rules and burn-rate alerts of svc's
// objectives on the Kubernetes target k, to add to svc.Kubernetes.Records
// and Alerts: SLOs' own, for the service's Kubernetes job, with every
// selector of the job's series and of the recorded series scoped to the
// service's namespace and the namespace on every recorded series, so that
// services of the same name in two namespaces (PrometheusRules of both
// loaded by one Prometheus) neither mix their ratios nor record the same
// series. ServiceDown mutes the burn alerts as on Docker (Inhibitions).
func KubernetesSLOs(k *spec.Kubernetes, svc spec.Service) ([]spec.Record, []spec.Alert) {
	w := k.Workload(svc)
	ks := svc
	ks.Job = w.Job
	recs, alerts := SLOs(ks)
	ns := w.Namespace
	kb := Kube{W: w, P: Production, Svc: svc}
	for i := range recs {
		r := &recs[i]
		if r.Name == recordUpMax {
			r.Expr = kb.upMax()
			r.Tests = append(r.Tests, kb.upMaxTests()...)
		}
		r.Expr = inNamespace(r.Expr, ns)
		r.Labels = merge(r.Labels, catalog.LabelNamespace, ns)
		r.Tests = testsInNamespace(r.Tests, ns)
	}
	for i := range alerts {
		a := &alerts[i]
		a.Expr = inNamespace(a.Expr, ns)
		a.Tests = testsInNamespace(a.Tests, ns)
	}
	return recs, alerts
}

// upMax is the service's availability on Kubernetes, as rules.SLOs'
// record reads it: 1 while a target of its job answers and a pod is ready,
// 0 while none answers, none is left, or kube-state-metrics sees no pod
// ready (an unready pod answers scrapes but the Service sends it no
// request); a Deployment scaled to zero on purpose is not down (no one is
// meant to be served, so no budget burns). Without kube-state-metrics it
// is up's word alone: a monitoring gap is not downtime.
func (k Kube) upMax() parser.Expr {
	noneReady := spec.Filter(spec.Aggregate(parser.SUM, k.pods(catalog.KubePodStatusReady, spec.Eq(catalog.LabelCondition, "true"))), spec.OpEq, 0)
	scaledToZero := spec.Binary(parser.EQLC, spec.Max(k.deployment(catalog.KubeDeploymentSpecReplicas)), spec.Num(0))
	scaledToZero.ReturnBool = true
	return spec.Or(orAny(unlessAny(spec.Max(k.up()), noneReady), scaledToZero), spec.Call("vector", spec.Num(0)))
}

// upMaxTests prove upMax on kube-state-metrics' and Prometheus' series.
func (k Kube) upMaxTests() []spec.Test {
	step, before, after := k.P.step(), k.P.D(5*time.Minute), k.P.D(5*time.Minute)
	sel := spec.Metric(recordUpMax, spec.Eq(conventions.LabelService, k.W.Service))
	is := func(at time.Duration, v float64) spec.Query {
		return spec.Query{At: at, Expr: fmt.Sprintf("%s == bool %g", sel, v), Samples: []spec.Sample{{Labels: map[string]string{conventions.LabelService: k.W.Service}, Value: 1}}}
	}
	spec0 := func(n float64) spec.Series {
		return series(catalog.KubeDeploymentSpecReplicas, k.ksmDeployment(), hold(2, before), hold(n, after))
	}
	pods := []spec.Series{series(catalog.Up, k.target(1), hold(1, before), stale(after)), series(catalog.Up, k.target(2), hold(1, before), stale(after))}
	return []spec.Test{
		{Name: "counts a Deployment scaled to zero on purpose as not down", Interval: step,
			Series: append(pods, spec0(0)), Queries: []spec.Query{is(before-step, 1), is(before+after-step, 1)}},
		{Name: "counts a Deployment that wants pods and has no target as down", Interval: step,
			Series: append(pods, spec0(2)), Queries: []spec.Query{is(before+after-step, 0)}},
		{Name: "counts no pod ready as down although the pods answer scrapes, and a silent kube-state-metrics as up", Interval: step,
			Series: concat(k.readiness(1, hold(1, before), hold(0, after), stale(after)),
				[]spec.Series{series(catalog.Up, k.target(1), hold(1, before+2*after))}),
			Queries: []spec.Query{is(before-step, 1), is(before+after-step, 0), is(before+2*after-step, 1)}},
	}
}

// inNamespace adds a namespace matcher to every selector of e that selects
// by job or by service (a scraped or a recorded series of the service).
func inNamespace(e parser.Expr, ns string) parser.Expr {
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		scoped, named := false, false
		for _, m := range vs.LabelMatchers {
			switch m.Name {
			case catalog.LabelNamespace:
				scoped = true
			case "job", conventions.LabelService:
				named = true
			}
		}
		if named && !scoped {
			vs.LabelMatchers = append(vs.LabelMatchers, spec.Eq(catalog.LabelNamespace, ns))
		}
		return nil
	})
	return e
}

// testsInNamespace moves the SLO scenarios into namespace ns: input series
// of a job are scraped there, and what the rules record and fire on
// carries it.
func testsInNamespace(tests []spec.Test, ns string) []spec.Test {
	out := make([]spec.Test, len(tests))
	for i, t := range tests {
		t.Series = slices.Clone(t.Series)
		for j, s := range t.Series {
			if _, ok := s.Labels["job"]; ok {
				t.Series[j].Labels = merge(s.Labels, catalog.LabelNamespace, ns)
			}
		}
		t.Expect = slices.Clone(t.Expect)
		for j, x := range t.Expect {
			x.Firing = slices.Clone(x.Firing)
			for k, f := range x.Firing {
				x.Firing[k].Labels = merge(f.Labels, catalog.LabelNamespace, ns)
			}
			t.Expect[j] = x
		}
		t.Queries = slices.Clone(t.Queries)
		for j, q := range t.Queries {
			e, err := parser.NewParser(parser.Options{}).ParseExpr(q.Expr)
			if err != nil {
				panic(fmt.Sprintf("rules: query %q of test %q: %v", q.Expr, t.Name, err))
			}
			q.Expr = inNamespace(e, ns).String()
			q.Samples = slices.Clone(q.Samples)
			for k, s := range q.Samples {
				if _, ok := s.Labels[conventions.LabelService]; ok {
					q.Samples[k].Labels = merge(s.Labels, catalog.LabelNamespace, ns)
				}
			}
			t.Queries[j] = q
		}
		out[i] = t
	}
	return out
}
