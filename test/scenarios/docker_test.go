package scenarios

import (
	"strconv"
	"time"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/spec"
	// Named sc: this package's own scenario is the situation type.
	sc "github.com/sre-tools/promgen/spec/scenario"
)

// The Docker target's situations, in the runbook's time: each target
// scales them to its profile.

const (
	host1 = "gpu-1"
	host2 = "gpu-2"
)

// replica is the name of the service's container n, as compose names it.
func (t target) container(n int) string {
	p := t.project
	if p == "" {
		p = "prod"
	}
	return p + "-" + t.service + "-" + strconv.Itoa(n)
}

// ids are the identity labels of container n on host, as gateway-exporter
// and the scrape configuration give them.
func (t target) ids(n int, host string, extra ...string) map[string]string {
	m := map[string]string{
		catalog.LabelName:           t.container(n),
		catalog.LabelComposeService: t.service,
		catalog.LabelComposeProject: t.project,
		catalog.LabelHost:           host,
	}
	if t.project == "" {
		m[catalog.LabelComposeProject] = "prod"
	}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

// up is the up series of container n on host, as docker_sd discovers it.
func (t target) up(n int, host string, segs ...spec.Segment) spec.Series {
	l := t.ids(n, host, "job", t.job, "instance", "10.1.0."+strconv.Itoa(n)+":8000")
	return spec.Series{Metric: catalog.Up, Labels: l, Values: segs}
}

// requests is container n's request counter of one status, growing by
// perStep every sample while it runs.
func (t target) requests(n int, host, status string, segs ...spec.Segment) spec.Series {
	l := map[string]string{"job": t.job, "instance": "10.1.0." + strconv.Itoa(n) + ":8000", "handler": "/predict", catalog.LabelHTTPStatus: status}
	return spec.Series{Metric: catalog.HTTPRequestsTotal, Labels: l, Values: segs}
}

// terminated is what gateway-exporter publishes of container n's last
// termination, at time at, for d.
func (t target) terminated(n int, host, code, reason string, at, d time.Duration) []spec.Series {
	return []spec.Series{
		{Metric: catalog.ContainerLastTerminationInfo, Labels: t.ids(n, host, catalog.LabelExitCode, code, catalog.LabelReason, reason), Values: []spec.Segment{sc.Hold(1, d)}},
		{Metric: catalog.ContainerLastTerminationTimestamp, Labels: t.ids(n, host), Values: []spec.Segment{sc.Hold(at.Seconds(), d)}},
		{Metric: catalog.ContainerLastExitCode, Labels: t.ids(n, host), Values: []spec.Segment{sc.Hold(float64(atoi(code)), d)}},
	}
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func scraped(t target) bool { return t.has("ServiceDown") }

// dockerScenarios are the Docker target's situations.
var dockerScenarios = []scenario{
	{
		name:    "the container is removed (compose rm) and the service stays down: ServiceDown pages and keeps one identity",
		applies: scraped,
		build: func(t target) spec.Test {
			healthy, down := t.d(10*time.Minute), t.d(60*time.Minute)
			st := spec.Test{Series: append([]spec.Series{
				t.up(1, host1, sc.Hold(1, healthy), sc.Stale(down)),
			}, t.terminated(1, host1, "137", catalog.ReasonKilled, healthy-t.step(), healthy+down)...)}
			st.Queries = append(st.Queries,
				firing(t, healthy-t.step(), true),
				firing(t, healthy+t.d(2*time.Minute), false, "ServiceDown"),
				firing(t, healthy+down-t.step(), false, "ServiceDown"))
			st.Queries = append(st.Queries, oneIdentity("ServiceDown", healthy+down-t.step(), healthy)...)
			if t.availabilitySLO {
				// The outage burns budget: every request it turned away
				// failed, so the shortest window's error ratio is 1.
				st.Queries = append(st.Queries, spec.Query{At: healthy + t.d(30*time.Minute),
					Expr:    `max({__name__=~"service:sli_errors:ratio_rate.+",slo="availability"})`,
					Samples: []spec.Sample{{Labels: map[string]string{}, Value: 1}}})
			}
			return st
		},
	},
	{
		name:    "an OOM-killed container that stays down for two hours keeps one page with one identity",
		applies: scraped,
		build: func(t target) spec.Test {
			healthy, down := t.d(10*time.Minute), t.d(120*time.Minute)
			st := spec.Test{Series: append([]spec.Series{
				t.up(1, host1, sc.Hold(1, healthy), sc.Hold(0, down)),
			}, t.terminated(1, host1, "137", catalog.ReasonOOMKilled, healthy-t.step(), healthy+down)...)}
			for _, at := range []time.Duration{t.d(2 * time.Minute), t.d(61 * time.Minute), t.d(119 * time.Minute)} {
				st.Queries = append(st.Queries, oneIdentity("ServiceDown", healthy+at, healthy)...)
			}
			return st
		},
	},
	{
		name:    "an OOM kill the restart policy recovers from within seconds still pages, once, as the OOM kill",
		applies: func(t target) bool { return scraped(t) && t.has("ContainerOOMKilled") },
		build: func(t target) spec.Test {
			healthy, blip, after := t.d(10*time.Minute), t.d(30*time.Second), t.d(20*time.Minute)
			total := healthy + blip + after
			st := spec.Test{Series: append([]spec.Series{
				t.up(1, host1, sc.Hold(1, healthy), sc.Hold(0, blip), sc.Hold(1, after)),
				t.requests(1, host1, "200", sc.Grow(0, 100, healthy), sc.Stale(blip), sc.Grow(0, 100, after)),
			}, t.terminated(1, host1, "137", catalog.ReasonOOMKilled, healthy, total)...)}
			st.Queries = append(st.Queries,
				firing(t, healthy+t.d(5*time.Minute), false, "ContainerOOMKilled"),
				firing(t, healthy+t.d(17*time.Minute), false))
			return st
		},
	},
	{
		name:    "one replica of two is stopped while the other serves every request: no page, no budget burnt, only a warning",
		applies: scraped,
		build: func(t target) spec.Test {
			healthy, down := t.d(10*time.Minute), t.d(60*time.Minute)
			total := healthy + down
			st := spec.Test{Series: append([]spec.Series{
				t.up(1, host1, sc.Hold(1, healthy), sc.Hold(0, down)),
				t.up(2, host1, sc.Hold(1, total)),
				t.requests(1, host1, "200", sc.Grow(0, 100, healthy), sc.Stale(down)),
				t.requests(2, host1, "200", sc.Grow(0, 100, total)),
			}, t.terminated(1, host1, "143", catalog.ReasonTerminated, healthy-t.step(), total)...)}
			for _, at := range []time.Duration{t.d(3 * time.Minute), t.d(30 * time.Minute), down - t.step()} {
				st.Queries = append(st.Queries, firing(t, healthy+at, true, "ReplicaDown"))
			}
			return st
		},
	},
	{
		name:    "a five-minute outage that is over sends nothing more once the service is back",
		applies: scraped,
		build: func(t target) spec.Test {
			before, down, after := t.d(30*time.Minute), t.d(5*time.Minute), t.d(90*time.Minute)
			st := spec.Test{Series: append([]spec.Series{
				t.up(1, host1, sc.Hold(1, before), sc.Hold(0, down), sc.Hold(1, after)),
				t.requests(1, host1, "200", sc.Grow(0, 100, before), sc.Stale(down), sc.Grow(0, 100, after)),
			}, t.terminated(1, host1, "137", catalog.ReasonOOMKilled, before, before+down+after)...)}
			st.Queries = append(st.Queries, firing(t, before+down-t.step(), false, "ServiceDown"))
			// ServiceDown keeps firing a minute after the service answers
			// again; from then on, nothing.
			for _, at := range []time.Duration{t.d(3 * time.Minute), t.d(10 * time.Minute), t.d(30 * time.Minute), after - t.step()} {
				st.Queries = append(st.Queries, firing(t, before+down+at, true))
			}
			return st
		},
	},
	{
		name:    "ten idle minutes leave no NaN in any recorded series, and page no one",
		applies: scraped,
		build: func(t target) spec.Test {
			busy, idle := t.d(20*time.Minute), t.d(40*time.Minute)
			st := spec.Test{Series: []spec.Series{
				t.up(1, host1, sc.Hold(1, busy+idle)),
				t.requests(1, host1, "200", sc.Grow(0, 100, busy), sc.Hold(100*float64(busy/t.step()), idle)),
			}}
			st.Queries = append(st.Queries, noNaN(t, busy+t.d(15*time.Minute))...)
			st.Queries = append(st.Queries, firing(t, busy+t.d(15*time.Minute), true), firing(t, busy+idle-t.step(), true))
			return st
		},
	},
	{
		name:    "gateway-exporter goes away and comes back during an outage: the page keeps one identity",
		applies: scraped,
		build: func(t target) spec.Test {
			healthy, down := t.d(10*time.Minute), t.d(40*time.Minute)
			away, back := t.d(5*time.Minute), t.d(10*time.Minute)
			exp := func(s spec.Series) spec.Series {
				v := s.Values[0].Value
				s.Values = []spec.Segment{sc.Hold(v, healthy+away), sc.Stale(back), sc.Hold(v, down-away-back)}
				return s
			}
			st := spec.Test{Series: []spec.Series{t.up(1, host1, sc.Hold(1, healthy), sc.Hold(0, down))}}
			for _, s := range t.terminated(1, host1, "137", catalog.ReasonOOMKilled, healthy-t.step(), healthy+down) {
				st.Series = append(st.Series, exp(s))
			}
			for _, at := range []time.Duration{away + back/2, away + back + t.d(2*time.Minute), down - t.step()} {
				st.Queries = append(st.Queries, oneIdentity("ServiceDown", healthy+at, healthy)...)
			}
			return st
		},
	},
	{
		name:    "a replica removed on purpose (scaled down) while the other serves: nothing fires",
		applies: scraped,
		build: func(t target) spec.Test {
			both, one := t.d(10*time.Minute), t.d(40*time.Minute)
			st := spec.Test{Series: []spec.Series{
				t.up(1, host1, sc.Hold(1, both+one)),
				t.up(2, host1, sc.Hold(1, both), sc.Stale(one)),
				t.requests(1, host1, "200", sc.Grow(0, 100, both+one)),
				t.requests(2, host1, "200", sc.Grow(0, 100, both), sc.Stale(one)),
			}}
			for _, at := range []time.Duration{t.d(2 * time.Minute), t.d(20 * time.Minute), one - t.step()} {
				st.Queries = append(st.Queries, firing(t, both+at, true))
			}
			return st
		},
	},
	{
		name:    "a rolling deploy restarts the replicas one at a time: no one is paged or warned",
		applies: scraped,
		build: func(t target) spec.Test {
			pause := t.d(30 * time.Second)
			a, b := t.d(10*time.Minute), t.d(11*time.Minute)
			total := t.d(30 * time.Minute)
			st := spec.Test{Series: []spec.Series{
				t.up(1, host1, sc.Hold(1, a), sc.Hold(0, pause), sc.Hold(1, total-a-pause)),
				t.up(2, host1, sc.Hold(1, b), sc.Hold(0, pause), sc.Hold(1, total-b-pause)),
				t.requests(1, host1, "200", sc.Grow(0, 100, a), sc.Stale(pause), sc.Grow(0, 100, total-a-pause)),
				t.requests(2, host1, "200", sc.Grow(0, 100, b), sc.Stale(pause), sc.Grow(0, 100, total-b-pause)),
			}}
			st.Series = append(st.Series, t.terminated(1, host1, "143", catalog.ReasonTerminated, a, total)...)
			st.Series = append(st.Series, t.terminated(2, host1, "143", catalog.ReasonTerminated, b, total)...)
			for _, at := range []time.Duration{a + pause/2, b + pause/2, b + t.d(2*time.Minute), total - t.step()} {
				st.Queries = append(st.Queries, firing(t, at, true))
			}
			return st
		},
	},
	{
		name:    "a service with no target at all (never started, or every container removed) pages",
		applies: scraped,
		build: func(t target) spec.Test {
			total := t.d(10 * time.Minute)
			// Some other job is scraped, so the Prometheus is alive.
			other := spec.Series{Metric: catalog.Up, Labels: map[string]string{"job": "node", "instance": "n1:9100"}, Values: []spec.Segment{sc.Hold(1, total)}}
			return spec.Test{Series: []spec.Series{other}, Queries: []spec.Query{
				firing(t, t.d(30*time.Second), false),
				firing(t, t.d(3*time.Minute), false, "ServiceDown"),
				firing(t, total-t.step(), false, "ServiceDown"),
			}}
		},
	},
	{
		name: "a container that exited 0 long ago and runs again is no failure: nothing fires",
		build: func(t target) spec.Test {
			total := t.d(30 * time.Minute)
			st := spec.Test{Series: append(t.terminated(1, host1, "0", catalog.ReasonCompleted, t.d(time.Minute), total),
				spec.Series{Metric: catalog.ContainerRestartsTotal, Labels: t.ids(1, host1), Values: []spec.Segment{sc.Hold(0, total)}})}
			if scraped(t) {
				st.Series = append(st.Series, t.up(1, host1, sc.Hold(1, total)))
			}
			st.Queries = []spec.Query{firing(t, t.d(5*time.Minute), true), firing(t, total-t.step(), true)}
			return st
		},
	},
	{
		name: "a docker compose run one-off of the service fills its memory and is OOM-killed beside the serving gateway: nothing fires",
		build: func(t target) spec.Test {
			total := t.d(30 * time.Minute)
			full, killed := t.d(10*time.Minute), t.d(12*time.Minute)
			task := func(extra ...string) map[string]string {
				l := t.ids(9, host1, append([]string{catalog.LabelComposeOneoff, catalog.OneoffTrue}, extra...)...)
				l[catalog.LabelName] = t.project + "-" + t.service + "-run-1a2b3c"
				return l
			}
			st := spec.Test{Series: []spec.Series{
				{Metric: catalog.ContainerMemoryUsageRatio, Labels: task(), Values: []spec.Segment{sc.Hold(0.5, full), sc.Hold(0.97, killed-full), sc.Stale(total - killed)}},
				{Metric: catalog.ContainerLastTerminationInfo, Labels: task(catalog.LabelExitCode, "137", catalog.LabelReason, catalog.ReasonOOMKilled), Values: []spec.Segment{sc.Stale(killed), sc.Hold(1, total-killed)}},
				{Metric: catalog.ContainerLastTerminationTimestamp, Labels: task(), Values: []spec.Segment{sc.Stale(killed), sc.Hold(killed.Seconds(), total-killed)}},
				{Metric: catalog.ContainerMemoryUsageRatio, Labels: t.ids(1, host1, catalog.LabelComposeOneoff, catalog.OneoffFalse), Values: []spec.Segment{sc.Hold(0.4, total)}},
			}}
			if scraped(t) {
				st.Series = append(st.Series, t.up(1, host1, sc.Hold(1, total)))
			}
			for _, at := range []time.Duration{killed - t.step(), killed + t.d(3*time.Minute), total - t.step()} {
				st.Queries = append(st.Queries, firing(t, at, true))
			}
			return st
		},
	},
	{
		name:    "two hosts down at once, the second host's clock ahead by two minutes: one page, one identity",
		applies: scraped,
		build: func(t target) spec.Test {
			healthy, down := t.d(10*time.Minute), t.d(30*time.Minute)
			st := spec.Test{Series: []spec.Series{
				t.up(1, host1, sc.Hold(1, healthy), sc.Hold(0, down)),
				t.up(1, host2, sc.Hold(1, healthy), sc.Hold(0, down)),
			}}
			st.Series = append(st.Series, t.terminated(1, host1, "137", catalog.ReasonOOMKilled, healthy-t.step(), healthy+down)...)
			st.Series = append(st.Series, t.terminated(1, host2, "139", catalog.ReasonSegfault, healthy+t.d(2*time.Minute), healthy+down)...)
			st.Queries = append(st.Queries, firing(t, healthy+t.d(5*time.Minute), false, "ServiceDown"))
			st.Queries = append(st.Queries, oneIdentity("ServiceDown", healthy+down-t.step(), healthy)...)
			return st
		},
	},
	{
		name:    "a restart loop that answers one scrape in three is surfaced: crash-loop warning, and a page where an objective exists",
		applies: scraped,
		build: func(t target) spec.Test {
			healthy := t.d(10 * time.Minute)
			s := t.step()
			up := []spec.Segment{sc.Hold(1, healthy)}
			restarts := []spec.Segment{sc.Hold(0, healthy)}
			for i := 0; i < 20; i++ {
				up = append(up, sc.Hold(0, 2*s), sc.Hold(1, s))
				restarts = append(restarts, sc.Hold(float64(i+1), 3*s))
			}
			st := spec.Test{Series: []spec.Series{
				t.up(1, host1, up...),
				{Metric: catalog.ContainerRestartsTotal, Labels: t.ids(1, host1), Values: restarts},
			}}
			st.Series = append(st.Series, t.terminated(1, host1, "1", catalog.ReasonError, healthy, healthy+60*s)...)
			// A page by ten minutes in, and the crash loop named.
			crit := `count(ALERTS{alertstate="firing",severity="critical"}) > bool 0`
			q := spec.Query{At: healthy + 40*s, Expr: `count(ALERTS{alertstate="firing",alertname="ContainerCrashLooping"})`,
				Samples: []spec.Sample{{Labels: map[string]string{}, Value: 1}}}
			st.Queries = append(st.Queries, q)
			if t.availabilitySLO {
				st.Queries = append(st.Queries, spec.Query{At: healthy + 40*s, Expr: crit, Samples: []spec.Sample{{Labels: map[string]string{}, Value: 1}}})
			}
			return st
		},
	},
}
