package dashboard_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/promqltest"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/internal/dashboard"
)

// twoHosts is what Prometheus holds for the gateway on two hosts whose
// containers share a name (compose names replicas alike on every host),
// with node-1's exporter scraped by two jobs, so that every exporter series
// of node-1 is there twice, and a `docker compose run` one-off of the
// service on node-1 that was OOM-killed at 97% of its limit.
const twoHosts = `
load 1m
	up{job="inference-gateway",instance="10.0.0.1:8080",host="node-1",name="inference-gateway-1",compose_service="inference-gateway"} 1x10
	up{job="inference-gateway",instance="10.0.0.2:8080",host="node-2",name="inference-gateway-1",compose_service="inference-gateway"} 0x10
	docker_container_last_termination_timestamp_seconds{job="gateway-exporter",host="node-1",name="inference-gateway-1",compose_project="",compose_service="inference-gateway",compose_oneoff="false"} 100x10
	docker_container_last_termination_timestamp_seconds{job="exporter-again",host="node-1",name="inference-gateway-1",compose_project="",compose_service="inference-gateway",compose_oneoff="false"} 100x10
	docker_container_last_termination_timestamp_seconds{job="gateway-exporter",host="node-2",name="inference-gateway-1",compose_project="",compose_service="inference-gateway",compose_oneoff="false"} 200x10
	docker_container_last_termination_timestamp_seconds{job="gateway-exporter",host="node-1",name="inference-gateway-run-0a1b2c",compose_project="",compose_service="inference-gateway",compose_oneoff="true"} 300x10
	docker_container_last_termination_info{job="gateway-exporter",host="node-1",name="inference-gateway-1",compose_project="",compose_service="inference-gateway",compose_oneoff="false",exit_code="143",reason="terminated"} 1x10
	docker_container_last_termination_info{job="exporter-again",host="node-1",name="inference-gateway-1",compose_project="",compose_service="inference-gateway",compose_oneoff="false",exit_code="143",reason="terminated"} 1x10
	docker_container_last_termination_info{job="gateway-exporter",host="node-2",name="inference-gateway-1",compose_project="",compose_service="inference-gateway",compose_oneoff="false",exit_code="137",reason="oom_killed"} 1x10
	docker_container_last_termination_info{job="gateway-exporter",host="node-1",name="inference-gateway-run-0a1b2c",compose_project="",compose_service="inference-gateway",compose_oneoff="true",exit_code="137",reason="oom_killed"} 1x10
	docker_container_restarts_total{job="gateway-exporter",host="node-1",name="inference-gateway-1",compose_project="",compose_service="inference-gateway",compose_oneoff="false"} 0x10
	docker_container_restarts_total{job="gateway-exporter",host="node-2",name="inference-gateway-1",compose_project="",compose_service="inference-gateway",compose_oneoff="false"} 0+1x10
	docker_container_restarts_total{job="gateway-exporter",host="node-1",name="inference-gateway-run-0a1b2c",compose_project="",compose_service="inference-gateway",compose_oneoff="true"} 0+1x10
	docker_container_health_status{job="gateway-exporter",host="node-1",name="inference-gateway-1",compose_project="",compose_service="inference-gateway",compose_oneoff="false",status="unhealthy"} 1x10
	docker_container_health_status{job="gateway-exporter",host="node-2",name="inference-gateway-1",compose_project="",compose_service="inference-gateway",compose_oneoff="false",status="unhealthy"} 0x10
	docker_container_health_status{job="gateway-exporter",host="node-1",name="inference-gateway-run-0a1b2c",compose_project="",compose_service="inference-gateway",compose_oneoff="true",status="unhealthy"} 1x10
	docker_container_memory_usage_ratio{job="gateway-exporter",host="node-1",name="inference-gateway-1",compose_project="",compose_service="inference-gateway",compose_oneoff="false"} 0.5x10
	docker_container_memory_usage_ratio{job="gateway-exporter",host="node-2",name="inference-gateway-1",compose_project="",compose_service="inference-gateway",compose_oneoff="false"} 0.6x10
	docker_container_memory_usage_ratio{job="gateway-exporter",host="node-1",name="inference-gateway-run-0a1b2c",compose_project="",compose_service="inference-gateway",compose_oneoff="true"} 0.97x10
`

var legendLabel = regexp.MustCompile(`\{\{\s*(\w+)\s*\}\}`)

// TestEveryContainerPanelHoldsTwoHosts evaluates every query of the
// committed dashboard with Prometheus' own engine over series of two
// hosts: each evaluates, each container panel shows both hosts' containers
// and never the one-off, and every label its legend names is in every
// series it returns, so no legend renders empty (as group_left () left
// the termination panel's reason and exit code).
func TestEveryContainerPanelHoldsTwoHosts(t *testing.T) {
	d, _ := load(t)
	storage := promqltest.LoadedStorage(t, twoHosts)
	engine := promqltest.NewTestEngine(t, false, 0, promqltest.DefaultMaxSamplesPerQuery)
	at := time.Unix(0, 0).Add(9 * time.Minute)

	// Container panels: what each must show, by host.
	want := map[uint32]func(t *testing.T, target int, v promql.Vector){
		dashboard.PanelTerminations: func(t *testing.T, _ int, v promql.Vector) {
			got := map[string]string{}
			for _, s := range v {
				got[s.Metric.Get(catalog.LabelHost)] = s.Metric.Get(catalog.LabelReason) + " " + s.Metric.Get(catalog.LabelExitCode)
			}
			if len(v) != 2 || got["node-1"] != "terminated 143" || got["node-2"] != "oom_killed 137" {
				t.Errorf("terminations by host: %v, want node-1 terminated 143 and node-2 oom_killed 137", v)
			}
		},
		dashboard.PanelRestarts: func(t *testing.T, target int, v promql.Vector) {
			if n := []int{2, 2}[target]; len(v) != n {
				t.Errorf("%d series, want %d (one per host): %v", len(v), n, v)
			}
		},
		dashboard.PanelMemory: func(t *testing.T, _ int, v promql.Vector) {
			if len(v) != 2 {
				t.Errorf("%d series, want one per host: %v", len(v), v)
			}
		},
	}
	checked := 0
	for _, p := range d.Panels {
		if p.Panel == nil || p.Panel.Id == nil {
			continue
		}
		id := *p.Panel.Id
		raw, _ := json.Marshal(p.Panel.Targets)
		var targets []struct{ Expr, LegendFormat string }
		if err := json.Unmarshal(raw, &targets); err != nil {
			t.Fatal(err)
		}
		for i, tg := range targets {
			t.Run(strings.ReplaceAll(*p.Panel.Title, " ", "_"), func(t *testing.T) {
				q, err := engine.NewInstantQuery(context.Background(), storage, nil, tg.Expr, at)
				if err != nil {
					t.Fatalf("%q: %v", tg.Expr, err)
				}
				defer q.Close()
				res := q.Exec(context.Background())
				if res.Err != nil {
					t.Fatalf("%q over two hosts: %v", tg.Expr, res.Err)
				}
				v, err := res.Vector()
				if err != nil {
					t.Fatalf("%q: %v", tg.Expr, err)
				}
				check, container := want[id]
				if !container {
					return
				}
				checked++
				for _, s := range v {
					if s.Metric.Get(catalog.LabelComposeOneoff) == catalog.OneoffTrue || strings.Contains(s.Metric.Get(catalog.LabelName), "-run-") {
						t.Errorf("%q shows the one-off: %v", tg.Expr, s.Metric)
					}
					for _, m := range legendLabel.FindAllStringSubmatch(tg.LegendFormat, -1) {
						if s.Metric.Get(m[1]) == "" {
							t.Errorf("%q: legend %q names %s, which series %v lacks", tg.Expr, tg.LegendFormat, m[1], s.Metric)
						}
					}
				}
				check(t, i, v)
			})
		}
	}
	if checked != 4 {
		t.Errorf("checked %d container queries, want 4 (terminations, restarts, unhealthy, memory)", checked)
	}
}

// outage is an outage of the gateway that began at 5m (ServiceDown's
// activation, as Prometheus records it in ALERTS_FOR_STATE), with the
// served rate held at 20/s through it, and another service's outage beside
// it that the gateway's panel must not show.
const outage = `
load 1m
	service:requests:rate_served{service="inference-gateway"} 20x10
	service:requests:rate_served{service="ranker"} 5x10
	ALERTS_FOR_STATE{alertname="ServiceDown",job="inference-gateway",service="inference-gateway",severity="critical"} _x5 300x5
	ALERTS_FOR_STATE{alertname="ServiceDown",job="ranker",service="ranker",severity="critical"} _x2 120x8
	ALERTS_FOR_STATE{alertname="ReplicaDown",job="inference-gateway",service="inference-gateway",severity="warning"} _x2 120x8
`

// TestTheOutagePanelShowsTheImpactSoFar evaluates the outage panel's
// queries with Prometheus' own engine 4 minutes into an outage: 240s down,
// 4800 requests lost at 20/s, each series carrying the labels its legend
// names.
func TestTheOutagePanelShowsTheImpactSoFar(t *testing.T) {
	d, _ := load(t)
	storage := promqltest.LoadedStorage(t, outage)
	engine := promqltest.NewTestEngine(t, false, 0, promqltest.DefaultMaxSamplesPerQuery)
	at := time.Unix(0, 0).Add(9 * time.Minute)
	want := []float64{240, 4800, 20}
	found := false
	for _, p := range d.Panels {
		if p.Panel == nil || p.Panel.Id == nil || *p.Panel.Id != dashboard.PanelIncident {
			continue
		}
		found = true
		raw, _ := json.Marshal(p.Panel.Targets)
		var targets []struct{ Expr, LegendFormat string }
		if err := json.Unmarshal(raw, &targets); err != nil {
			t.Fatal(err)
		}
		if len(targets) != len(want) {
			t.Fatalf("%d queries, want downtime, requests lost and served rate", len(targets))
		}
		for i, tg := range targets {
			q, err := engine.NewInstantQuery(context.Background(), storage, nil, tg.Expr, at)
			if err != nil {
				t.Fatalf("%q: %v", tg.Expr, err)
			}
			res := q.Exec(context.Background())
			v, err := res.Vector()
			if res.Err != nil || err != nil {
				t.Fatalf("%q: %v %v", tg.Expr, res.Err, err)
			}
			if len(v) != 1 || v[0].F != want[i] {
				t.Errorf("%q (%s) = %v, want one series of %g", tg.Expr, tg.LegendFormat, v, want[i])
			}
			for _, s := range v {
				for _, m := range legendLabel.FindAllStringSubmatch(tg.LegendFormat, -1) {
					if s.Metric.Get(m[1]) == "" {
						t.Errorf("%q: legend %q names %s, which series %v lacks", tg.Expr, tg.LegendFormat, m[1], s.Metric)
					}
				}
			}
			q.Close()
		}
	}
	if !found {
		t.Fatal("the dashboard has no outage panel")
	}
}
