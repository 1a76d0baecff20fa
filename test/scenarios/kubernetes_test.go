package scenarios

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/spec"
)

// The Kubernetes target's situations, told as what happens to pods: a
// cluster holds each pod's life (its states and its containers' exits)
// and writes the series kube-state-metrics, the kubelet and the scraped
// pods would publish of it, step by step.

// state is what a pod is doing at one moment.
type state int

const (
	gone      state = iota // not there: not yet created, or deleted
	pending                // created, not scheduled or not started
	serving                // running, ready, answering
	unready                // running and answering scrapes, failing readiness
	crashed                // its container exited and waits to restart
	failed                 // phase Failed (evicted): stays listed until garbage-collected
	succeeded              // phase Succeeded: its containers exited 0
)

// during is one state held for a while.
type during struct {
	s state
	d time.Duration
}

// exit is one termination of the pod's container.
type exit struct {
	at     time.Duration
	reason string // the kubelet's reason
	code   int
}

// pod is one pod of the service's namespace (or another), a Deployment's
// or, with batch, a Job's: never a target, never counted as available.
type pod struct {
	ns, name string
	batch    bool
	life     []during
	exits    []exit
}

// cluster is one situation's cluster over total.
type cluster struct {
	t       target
	total   time.Duration
	pods    []pod
	wanted  map[string][]float64 // per namespace, the Deployment's spec.replicas at each step
	idle    [2]time.Duration     // the pods serve, no one asks
	ksmAway [2]time.Duration     // kube-state-metrics not scraped
	gap     [2]time.Duration     // Prometheus not running: no sample of anything
}

const staging = "staging"

// other is a namespace that is not the service's.
func (t target) other() string {
	if t.namespace == staging {
		return staging + "-2"
	}
	return staging
}

// podName is pod n of the Deployment's ReplicaSet rs, as Kubernetes names it.
func (t target) podName(rs string, n int) string {
	c := catalog.KubeNameChars
	return fmt.Sprintf("%s-%s-%c%c%cx2", t.deployment, rs, c[n/27/27%27], c[n/27%27], c[n%27])
}

func newCluster(t target, total time.Duration, replicas float64) *cluster {
	c := &cluster{t: t, total: total, wanted: map[string][]float64{}}
	c.want(t.namespace, replicas, 0)
	return c
}

// want sets the namespace's Deployment's spec.replicas to n from from on.
func (c *cluster) want(ns string, n float64, from time.Duration) {
	w, ok := c.wanted[ns]
	if !ok {
		w = make([]float64, c.steps())
		c.wanted[ns] = w
	}
	for i := c.step(from); i < len(w); i++ {
		w[i] = n
	}
}

// add adds a pod of the service's Deployment in ns, rs its ReplicaSet.
func (c *cluster) add(ns, rs string, n int, life []during, exits ...exit) {
	c.pods = append(c.pods, pod{ns: ns, name: c.t.podName(rs, n), life: life, exits: exits})
}

func (c *cluster) steps() int               { return int(c.total / c.t.step()) }
func (c *cluster) step(d time.Duration) int { return int(d / c.t.step()) }
func (c *cluster) in(i int, w [2]time.Duration) bool {
	return w[1] > 0 && i >= c.step(w[0]) && i < c.step(w[1])
}

// stateAt is the pod's state at step i.
func (c *cluster) stateAt(p pod, i int) state {
	at := time.Duration(i) * c.t.step()
	for _, d := range p.life {
		if at < d.d {
			return d.s
		}
		at -= d.d
	}
	return gone
}

// cell is one sample of a series: absent when !ok.
type cell struct {
	v  float64
	ok bool
}

// line is one series being written.
type line struct {
	metric string
	labels map[string]string
	ksm    bool
	cells  []cell
}

// series writes the cluster's series.
func (c *cluster) series() []spec.Series {
	n := c.steps()
	lines := map[string]*line{}
	var order []string
	set := func(ksm bool, metric string, l map[string]string, i int, v float64) {
		k := metric + fmt.Sprint(l)
		ln, ok := lines[k]
		if !ok {
			ln = &line{metric: metric, labels: l, ksm: ksm, cells: make([]cell, n)}
			lines[k] = ln
			order = append(order, k)
		}
		ln.cells[i] = cell{v, true}
	}
	ksmLabels := func(ns string, kv ...string) map[string]string {
		l := map[string]string{"job": "kube-state-metrics", "instance": "10.2.0.9:8080", catalog.LabelNamespace: ns}
		for j := 0; j+1 < len(kv); j += 2 {
			l[kv[j]] = kv[j+1]
		}
		return l
	}
	b := func(ok bool) float64 {
		if ok {
			return 1
		}
		return 0
	}
	for pi, p := range c.pods {
		uid := "uid-" + strconv.Itoa(pi)
		served := 0.0
		for i := range n {
			s := c.stateAt(p, i)
			if s == gone {
				continue
			}
			at := time.Duration(i) * c.t.step()
			ph := catalog.KubePhaseRunning
			switch s {
			case pending:
				ph = catalog.KubePhasePending
			case failed:
				ph = catalog.KubePhaseFailed
			case succeeded:
				ph = catalog.KubePhaseSucceeded
			}
			for _, x := range catalog.KubePhases {
				set(true, catalog.KubePodStatusPhase, ksmLabels(p.ns, catalog.LabelPod, p.name, catalog.LabelUID, uid, catalog.LabelPhase, x), i, b(x == ph))
			}
			for _, cond := range []string{"true", "false", "unknown"} {
				set(true, catalog.KubePodStatusReady, ksmLabels(p.ns, catalog.LabelPod, p.name, catalog.LabelUID, uid, catalog.LabelCondition, cond), i, b((s == serving) == (cond == "true") && cond != "unknown"))
			}
			ctr := ksmLabels(p.ns, catalog.LabelPod, p.name, catalog.LabelUID, uid, catalog.LabelContainer, c.t.podContainer)
			if s != pending {
				restarts := 0
				var last *exit
				for j := range p.exits {
					if p.exits[j].at <= at {
						restarts++
						last = &p.exits[j]
					}
				}
				set(true, catalog.KubePodContainerRestartsTotal, ctr, i, float64(restarts))
				if last != nil {
					set(true, catalog.KubePodContainerLastTerminatedReason, with(ctr, catalog.LabelReason, last.reason), i, 1)
					set(true, catalog.KubePodContainerLastTerminatedExitCode, ctr, i, float64(last.code))
					set(true, catalog.KubePodContainerLastTerminatedTimestamp, ctr, i, last.at.Seconds())
				}
				if s == crashed {
					set(true, catalog.KubePodContainerWaitingReason, with(ctr, catalog.LabelReason, catalog.KubeReasonCrashLoopBackOff), i, 1)
				}
			}
			// The ServiceMonitor's targets: the Service's endpoints, ready
			// or not, of running pods.
			if p.batch || (s != serving && s != unready && s != crashed) {
				continue
			}
			tl := map[string]string{"job": c.t.job, catalog.LabelNamespace: p.ns, catalog.LabelPod: p.name, catalog.LabelContainer: c.t.podContainer,
				"service": c.t.job, "endpoint": "http", "instance": fmt.Sprintf("10.1.%d.%d:8000", pi/200, pi%200)}
			set(false, catalog.Up, tl, i, b(s != crashed))
			if s != crashed {
				if s == serving && !c.in(i, c.idle) {
					served += 100
				}
				set(false, catalog.HTTPRequestsTotal, with(tl, "handler", "/predict", catalog.LabelHTTPStatus, "200"), i, served)
			}
		}
	}
	for _, ns := range slices.Sorted(maps.Keys(c.wanted)) {
		for i, w := range c.wanted[ns] {
			avail := 0.0
			for _, p := range c.pods {
				if p.ns == ns && !p.batch && c.stateAt(p, i) == serving {
					avail++
				}
			}
			l := ksmLabels(ns, catalog.LabelDeployment, c.t.deployment)
			set(true, catalog.KubeDeploymentSpecReplicas, l, i, w)
			set(true, catalog.KubeDeploymentReplicasAvailable, l, i, avail)
		}
	}
	var out []spec.Series
	for _, k := range order {
		ln := lines[k]
		for i := range ln.cells {
			if (ln.ksm && c.in(i, c.ksmAway)) || c.in(i, c.gap) {
				ln.cells[i] = cell{}
			}
		}
		out = append(out, spec.Series{Metric: ln.metric, Labels: ln.labels, Values: c.segments(ln.cells, c.gap)})
	}
	return out
}

// besideAJob is two pods serving throughout beside the pod of a Job named
// after the service (<deployment>-migrate, the service's container) that
// lives jobLife and exits as given: nothing fires at the times quiet.
func besideAJob(t target, total time.Duration, jobLife []during, exits []exit, quiet ...time.Duration) spec.Test {
	c := newCluster(t, total, 2)
	for n := range 2 {
		c.add(t.namespace, "7d9f8b6c5d", n, life(be(serving, total)))
	}
	c.pods = append(c.pods, pod{ns: t.namespace, name: t.deployment + "-migrate-x7k2p", batch: true, life: jobLife, exits: exits})
	st := spec.Test{Series: c.series()}
	for _, at := range quiet {
		st.Queries = append(st.Queries, firing(t, at, true))
	}
	return st
}

func with(l map[string]string, kv ...string) map[string]string {
	m := maps.Clone(l)
	for j := 0; j+1 < len(kv); j += 2 {
		m[kv[j]] = kv[j+1]
	}
	return m
}

// segments writes cells as promtool's series notation: runs of one value
// or of a steady increase; a series that ends gets a staleness marker, as
// Prometheus writes when a target or series goes, except in Prometheus'
// own gap, where nothing is written at all.
func (c *cluster) segments(cells []cell, gap [2]time.Duration) []spec.Segment {
	s := c.t.step()
	var out []spec.Segment
	for i := 0; i < len(cells); {
		j := i + 1
		switch {
		case !cells[i].ok:
			for j < len(cells) && !cells[j].ok {
				j++
			}
			seen := i > 0 && !c.in(i, gap)
			out = append(out, spec.Segment{Stale: seen, Gap: !seen, For: time.Duration(j-i) * s})
		default:
			// promtool's notation grows a run, never shrinks it.
			by := 0.0
			if j < len(cells) && cells[j].ok && cells[j].v > cells[i].v {
				by = cells[j].v - cells[i].v
			}
			for j < len(cells) && cells[j].ok && cells[j].v-cells[j-1].v == by {
				j++
			}
			out = append(out, spec.Segment{Value: cells[i].v, Increase: by, For: time.Duration(j-i) * s})
		}
		i = j
	}
	return out
}

// Lives of pods.

func life(ds ...during) []during         { return ds }
func be(s state, d time.Duration) during { return during{s, d} }

// crashLoop is a pod whose container is OOM-killed at from and every
// five minutes after (the kubelet's back-off at its cap) until to.
func crashLoop(from, to time.Duration, reason string, code int) []exit {
	var out []exit
	for at := from; at < to; at += 5 * time.Minute {
		out = append(out, exit{at, reason, code})
	}
	return out
}

// kubernetesScenarios are the Kubernetes target's situations.
var kubernetesScenarios = []scenario{
	{
		name: "every pod is OOM-killed and crash-loops for two hours: one page, one identity, the OOM kill named throughout",
		build: func(t target) spec.Test {
			healthy, down := t.d(10*time.Minute), t.d(120*time.Minute)
			c := newCluster(t, healthy+down, 2)
			for n := range 2 {
				c.add(t.namespace, "7d9f8b6c5d", n, life(be(serving, healthy), be(crashed, down)), crashLoop(healthy, healthy+down, catalog.KubeReasonOOMKilled, 137)...)
			}
			st := spec.Test{Series: c.series()}
			for _, at := range []time.Duration{t.d(20 * time.Minute), t.d(70 * time.Minute), down - t.step()} {
				st.Queries = append(st.Queries, oneIdentity("ServiceDown", healthy+at, healthy)...)
				st.Queries = append(st.Queries, diagnosis(t, "ServiceDown", healthy+at, catalog.ReasonOOMKilled, "137"))
			}
			return st
		},
	},
	{
		name: "every pod is OOM-killed once and its restarted container hangs unready for two hours: the OOM kill stays the diagnosis",
		build: func(t target) spec.Test {
			healthy, down := t.d(10*time.Minute), t.d(120*time.Minute)
			c := newCluster(t, healthy+down, 2)
			for n := range 2 {
				c.add(t.namespace, "7d9f8b6c5d", n, life(be(serving, healthy), be(unready, down)), exit{healthy, catalog.KubeReasonOOMKilled, 137})
			}
			st := spec.Test{Series: c.series()}
			for _, at := range []time.Duration{t.d(20 * time.Minute), t.d(70 * time.Minute), down - t.step()} {
				st.Queries = append(st.Queries, oneIdentity("ServiceDown", healthy+at, healthy)...)
				st.Queries = append(st.Queries, diagnosis(t, "ServiceDown", healthy+at, catalog.ReasonOOMKilled, "137"))
			}
			return st
		},
	},
	{
		// Scaling to zero is the team's declared intent (kubectl scale
		// for maintenance, or a service retired): a page would be noise,
		// and no user request fails, so no budget burns either.
		name: "the Deployment is scaled to zero on purpose: nothing fires, no budget burns, no NaN",
		build: func(t target) spec.Test {
			before, after := t.d(10*time.Minute), t.d(50*time.Minute)
			c := newCluster(t, before+after, 2)
			c.want(t.namespace, 0, before)
			for n := range 2 {
				c.add(t.namespace, "7d9f8b6c5d", n, life(be(serving, before)), exit{before, catalog.KubeReasonError, 143})
			}
			st := spec.Test{Series: c.series()}
			for _, at := range []time.Duration{t.d(2 * time.Minute), t.d(20 * time.Minute), after - t.step()} {
				st.Queries = append(st.Queries, firing(t, before+at, true))
			}
			st.Queries = append(st.Queries, noNaN(t, before+t.d(30*time.Minute))...)
			return st
		},
	},
	{
		name: "one pod of two fails readiness while the other serves: a warning for that pod, no page",
		build: func(t target) spec.Test {
			healthy, down := t.d(10*time.Minute), t.d(40*time.Minute)
			c := newCluster(t, healthy+down, 2)
			c.add(t.namespace, "7d9f8b6c5d", 0, life(be(serving, healthy+down)))
			c.add(t.namespace, "7d9f8b6c5d", 1, life(be(serving, healthy), be(unready, down)))
			st := spec.Test{Series: c.series()}
			st.Queries = append(st.Queries, firing(t, healthy+t.d(30*time.Second), true))
			for _, at := range []time.Duration{t.d(3 * time.Minute), t.d(20 * time.Minute), down - t.step()} {
				st.Queries = append(st.Queries, firing(t, healthy+at, true, "ContainerUnhealthy"))
			}
			return st
		},
	},
	{
		name: "a rolling deploy replaces the pods one by one, each new pod ready before an old one goes: nothing fires",
		build: func(t target) spec.Test {
			total := t.d(40 * time.Minute)
			start, boot := t.d(10*time.Minute), t.d(40*time.Second)
			second := start + t.d(2*time.Minute)
			c := newCluster(t, total, 2)
			c.add(t.namespace, "7d9f8b6c5d", 0, life(be(serving, start+boot)), exit{start + boot, catalog.KubeReasonError, 143})
			c.add(t.namespace, "7d9f8b6c5d", 1, life(be(serving, second+boot)), exit{second + boot, catalog.KubeReasonError, 143})
			c.add(t.namespace, "5c4b6f2798", 0, life(be(gone, start), be(pending, t.d(10*time.Second)), be(unready, boot-t.d(10*time.Second)), be(serving, total)))
			c.add(t.namespace, "5c4b6f2798", 1, life(be(gone, second), be(pending, t.d(10*time.Second)), be(unready, boot-t.d(10*time.Second)), be(serving, total)))
			st := spec.Test{Series: c.series()}
			for _, at := range []time.Duration{start + boot/2, second + boot, second + t.d(3*time.Minute), total - t.step()} {
				st.Queries = append(st.Queries, firing(t, at, true))
			}
			return st
		},
	},
	{
		name: "every pod fails readiness while its container runs and answers scrapes: ServiceDown pages, one identity",
		build: func(t target) spec.Test {
			healthy, down := t.d(10*time.Minute), t.d(30*time.Minute)
			c := newCluster(t, healthy+down, 2)
			for n := range 2 {
				c.add(t.namespace, "7d9f8b6c5d", n, life(be(serving, healthy), be(unready, down)))
			}
			st := spec.Test{Series: c.series()}
			st.Queries = append(st.Queries, pages(t, healthy+t.d(3*time.Minute), "ServiceDown"), pages(t, healthy+down-t.step(), "ServiceDown"))
			st.Queries = append(st.Queries, oneIdentity("ServiceDown", healthy+down-t.step(), healthy)...)
			if t.availabilitySLO {
				// No request reaches an unready pod: the outage burns
				// budget as if every request failed.
				st.Queries = append(st.Queries, spec.Query{At: healthy + t.d(20*time.Minute),
					Expr:    `max({__name__=~"service:sli_errors:ratio_rate.+",slo="availability"})`,
					Samples: []spec.Sample{{Labels: map[string]string{}, Value: 1}}})
			}
			return st
		},
	},
	{
		name: "an evicted pod (Failed) and a completed one (Succeeded) wait for garbage collection beside ready pods: nothing fires",
		build: func(t target) spec.Test {
			evicted, total := t.d(10*time.Minute), t.d(50*time.Minute)
			c := newCluster(t, total, 2)
			c.add(t.namespace, "7d9f8b6c5d", 0, life(be(serving, evicted), be(failed, total)), exit{evicted, catalog.KubeReasonError, 137})
			c.add(t.namespace, "7d9f8b6c5d", 1, life(be(gone, evicted), be(pending, t.d(5*time.Second)), be(serving, total)))
			c.add(t.namespace, "7d9f8b6c5d", 2, life(be(serving, total)))
			c.add(t.namespace, "6b5f49d7c2", 3, life(be(succeeded, total)), exit{0, catalog.KubeReasonCompleted, 0})
			st := spec.Test{Series: c.series()}
			for _, at := range []time.Duration{evicted + t.d(2*time.Minute), evicted + t.d(20*time.Minute), total - t.step()} {
				st.Queries = append(st.Queries, firing(t, at, true))
			}
			return st
		},
	},
	{
		name: "another namespace's Deployment of the same name goes down: this one's rules say nothing",
		build: func(t target) spec.Test {
			healthy, down := t.d(10*time.Minute), t.d(30*time.Minute)
			c := newCluster(t, healthy+down, 2)
			c.want(t.other(), 2, 0)
			for n := range 2 {
				c.add(t.namespace, "7d9f8b6c5d", n, life(be(serving, healthy+down)))
				c.add(t.other(), "7d9f8b6c5d", n, life(be(serving, healthy), be(crashed, down)), crashLoop(healthy, healthy+down, catalog.KubeReasonOOMKilled, 137)...)
			}
			st := spec.Test{Series: c.series()}
			for _, at := range []time.Duration{t.d(5 * time.Minute), t.d(20 * time.Minute), down - t.step()} {
				st.Queries = append(st.Queries, firing(t, healthy+at, true))
			}
			return st
		},
	},
	{
		name: "this namespace's Deployment is down while another namespace's of the same name serves: ServiceDown pages",
		build: func(t target) spec.Test {
			healthy, down := t.d(10*time.Minute), t.d(30*time.Minute)
			c := newCluster(t, healthy+down, 2)
			c.want(t.other(), 2, 0)
			for n := range 2 {
				c.add(t.namespace, "7d9f8b6c5d", n, life(be(serving, healthy), be(crashed, down)), crashLoop(healthy, healthy+down, catalog.KubeReasonError, 1)...)
				c.add(t.other(), "7d9f8b6c5d", n, life(be(serving, healthy+down)))
			}
			st := spec.Test{Series: c.series()}
			st.Queries = append(st.Queries, pages(t, healthy+t.d(3*time.Minute), "ServiceDown"))
			st.Queries = append(st.Queries, oneIdentity("ServiceDown", healthy+down-t.step(), healthy)...)
			return st
		},
	},
	{
		name: "kube-state-metrics is not scraped for ten minutes during an outage: the page keeps one identity",
		build: func(t target) spec.Test {
			healthy, down := t.d(10*time.Minute), t.d(40*time.Minute)
			c := newCluster(t, healthy+down, 2)
			c.ksmAway = [2]time.Duration{healthy + t.d(10*time.Minute), healthy + t.d(20*time.Minute)}
			for n := range 2 {
				c.add(t.namespace, "7d9f8b6c5d", n, life(be(serving, healthy), be(crashed, down)), crashLoop(healthy, healthy+down, catalog.KubeReasonOOMKilled, 137)...)
			}
			st := spec.Test{Series: c.series()}
			for _, at := range []time.Duration{t.d(15 * time.Minute), t.d(22 * time.Minute), down - t.step()} {
				st.Queries = append(st.Queries, oneIdentity("ServiceDown", healthy+at, healthy)...)
			}
			return st
		},
	},
	{
		name: "kube-state-metrics is not scraped for half an hour while the service serves: no page",
		build: func(t target) spec.Test {
			total := t.d(50 * time.Minute)
			c := newCluster(t, total, 2)
			c.ksmAway = [2]time.Duration{t.d(10 * time.Minute), t.d(40 * time.Minute)}
			for n := range 2 {
				c.add(t.namespace, "7d9f8b6c5d", n, life(be(serving, total)))
			}
			st := spec.Test{Series: c.series()}
			for _, at := range []time.Duration{t.d(20 * time.Minute), t.d(39 * time.Minute), total - t.step()} {
				st.Queries = append(st.Queries, pages(t, at))
			}
			return st
		},
	},
	{
		name: "a Prometheus restart leaves a three-minute gap in every series: nothing fires, no NaN",
		build: func(t target) spec.Test {
			total := t.d(60 * time.Minute)
			c := newCluster(t, total, 2)
			c.gap = [2]time.Duration{t.d(20 * time.Minute), t.d(23 * time.Minute)}
			for n := range 2 {
				c.add(t.namespace, "7d9f8b6c5d", n, life(be(serving, total)))
			}
			st := spec.Test{Series: c.series()}
			for _, at := range []time.Duration{t.d(22 * time.Minute), t.d(24 * time.Minute), t.d(35 * time.Minute), total - t.step()} {
				st.Queries = append(st.Queries, firing(t, at, true))
			}
			st.Queries = append(st.Queries, noNaN(t, t.d(30*time.Minute))...)
			return st
		},
	},
	{
		name: "a batch Job's pod named after the service runs beside it and exits 0: nothing fires",
		build: func(t target) spec.Test {
			run, total := t.d(10*time.Minute), t.d(40*time.Minute)
			return besideAJob(t, total, life(be(serving, run), be(succeeded, total)), []exit{{run, catalog.KubeReasonCompleted, 0}},
				run+t.d(2*time.Minute), run+t.d(20*time.Minute), total-t.step())
		},
	},
	{
		// A Helm hook or migration Job is usually named <release>-<task> and
		// runs the service's image, container name and all; its pods are
		// <job>-<suffix>, one segment short of a Deployment's. Its OOM
		// kills and crash loop are the Job's, not the service's.
		name: "a migration Job's pod of the service's container is OOM-killed over and over beside healthy pods: nothing of the service's fires",
		build: func(t target) spec.Test {
			healthy, total := t.d(10*time.Minute), t.d(50*time.Minute)
			return besideAJob(t, total, life(be(serving, healthy), be(crashed, total-healthy)), crashLoop(healthy, total, catalog.KubeReasonOOMKilled, 137),
				healthy+t.d(2*time.Minute), healthy+t.d(20*time.Minute), total-t.step())
		},
	},
	{
		name: "a ready Job pod named after the service does not hide the Deployment's outage: ServiceDown pages",
		build: func(t target) spec.Test {
			healthy, down := t.d(10*time.Minute), t.d(30*time.Minute)
			c := newCluster(t, healthy+down, 2)
			for n := range 2 {
				c.add(t.namespace, "7d9f8b6c5d", n, life(be(serving, healthy), be(crashed, down)), crashLoop(healthy, healthy+down, catalog.KubeReasonError, 1)...)
			}
			c.pods = append(c.pods, pod{ns: t.namespace, name: t.deployment + "-migrate-x7k2p", batch: true, life: life(be(serving, healthy+down))})
			st := spec.Test{Series: c.series()}
			st.Queries = append(st.Queries, pages(t, healthy+t.d(3*time.Minute), "ServiceDown"), pages(t, healthy+down-t.step(), "ServiceDown"))
			return st
		},
	},
	{
		name: "a five-minute OOM outage that is over sends nothing more once the pods serve again",
		build: func(t target) spec.Test {
			before, down, after := t.d(30*time.Minute), t.d(5*time.Minute), t.d(90*time.Minute)
			c := newCluster(t, before+down+after, 2)
			for n := range 2 {
				c.add(t.namespace, "7d9f8b6c5d", n, life(be(serving, before), be(crashed, down), be(serving, after)), exit{before, catalog.KubeReasonOOMKilled, 137})
			}
			st := spec.Test{Series: c.series()}
			st.Queries = append(st.Queries, pages(t, before+down-t.step(), "ServiceDown"))
			for _, at := range []time.Duration{t.d(3 * time.Minute), t.d(10 * time.Minute), t.d(30 * time.Minute), after - t.step()} {
				st.Queries = append(st.Queries, firing(t, before+down+at, true))
			}
			return st
		},
	},
	{
		name:    "one pod of two is OOM-killed and back within seconds: the OOM kill pages once, ServiceDown never",
		applies: func(t target) bool { return t.has("ContainerOOMKilled") },
		build: func(t target) spec.Test {
			healthy, blip, after := t.d(10*time.Minute), t.d(30*time.Second), t.d(30*time.Minute)
			total := healthy + blip + after
			c := newCluster(t, total, 2)
			c.add(t.namespace, "7d9f8b6c5d", 0, life(be(serving, total)))
			c.add(t.namespace, "7d9f8b6c5d", 1, life(be(serving, healthy), be(crashed, blip), be(serving, after)), exit{healthy, catalog.KubeReasonOOMKilled, 137})
			st := spec.Test{Series: c.series()}
			st.Queries = append(st.Queries, pages(t, healthy+t.d(5*time.Minute), "ContainerOOMKilled"), firing(t, healthy+t.d(20*time.Minute), true))
			return st
		},
	},
	{
		name: "ten idle minutes leave no NaN in any recorded series, and page no one",
		build: func(t target) spec.Test {
			total := t.d(60 * time.Minute)
			c := newCluster(t, total, 1)
			c.idle = [2]time.Duration{t.d(20 * time.Minute), total}
			c.add(t.namespace, "7d9f8b6c5d", 0, life(be(serving, total)))
			st := spec.Test{Series: c.series()}
			st.Queries = append(st.Queries, noNaN(t, t.d(35*time.Minute))...)
			st.Queries = append(st.Queries, firing(t, t.d(35*time.Minute), true), firing(t, total-t.step(), true))
			return st
		},
	},
}
