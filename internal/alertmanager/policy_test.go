package alertmanager_test

import (
	"slices"
	"testing"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/common/model"

	"github.com/sre-tools/promgen/rules"
)

// routingPolicy is who must hear of what, written down by hand from each
// team's policy: the runbook pages PagerDuty and posts in Slack #incidents
// for a P0 and only posts a warning; the ML platform pages its own
// on-call and posts everything in its channel; the fault matrix's profile
// sends pages to /page and PagerDuty's stand-in, everything to /chat and
// Slack's stand-in, and the Watchdog to the heartbeat alone. Nothing here is read from
// the specs or from alertmanager.Cases, so a change to either that breaks
// the policy fails here.
var routingPolicy = []struct {
	config string // a generated alertmanager.yml, from the repository root
	name   string
	labels map[string]string
	want   []string // receivers, in any order
}{
	{"generated/alertmanager/alertmanager.yml", "a critical ServiceDown of the gateway pages and posts in #incidents",
		map[string]string{"alertname": "ServiceDown", "severity": "critical", "service": "inference-gateway"}, []string{"pagerduty", "slack-incidents"}},
	{"generated/alertmanager/alertmanager.yml", "a critical OOM kill of the gateway pages and posts in #incidents",
		map[string]string{"alertname": "ContainerOOMKilled", "severity": "critical", "service": "inference-gateway", "name": "inference-gateway-1"}, []string{"pagerduty", "slack-incidents"}},
	{"generated/alertmanager/alertmanager.yml", "a gateway warning only posts in #incidents",
		map[string]string{"alertname": "HighMemoryUsage", "severity": "warning", "service": "inference-gateway", "name": "inference-gateway-1"}, []string{"slack-incidents"}},
	{"generated/alertmanager/alertmanager.yml", "a pipeline warning, of no service, only posts in #incidents",
		map[string]string{"alertname": "GatewayExporterDown", "severity": "warning"}, []string{"slack-incidents"}},
	{"generated/alertmanager/alertmanager.yml", "an alert of no known severity still reaches #incidents",
		map[string]string{"alertname": "Unknown"}, []string{"slack-incidents"}},

	{"generated/alertmanager/alertmanager.yml", "the Watchdog reaches the heartbeat alone, never a person",
		map[string]string{"alertname": "Watchdog", "severity": "info"}, []string{"heartbeat"}},
	{"generated/alertmanager/alertmanager.yml", "Alertmanager failing to deliver pages and posts, so that whichever integration works carries it",
		map[string]string{"alertname": "AlertmanagerNotificationsFailing", "severity": "critical", "integration": "slack"}, []string{"pagerduty", "slack-incidents"}},

	{"generated/e2e/alertmanager/alertmanager.yml", "in the fault matrix, a critical ServiceDown reaches page, PagerDuty, chat and Slack",
		map[string]string{"alertname": "ServiceDown", "severity": "critical", "service": "inference-gateway"}, []string{"page", "pagerduty", "chat", "slack-incidents"}},
	{"generated/e2e/alertmanager/alertmanager.yml", "in the fault matrix, a warning reaches chat and Slack alone",
		map[string]string{"alertname": "ContainerCrashLooping", "severity": "warning", "service": "inference-gateway", "name": "inference-gateway-1"}, []string{"chat", "slack-incidents"}},
	{"generated/e2e/alertmanager/alertmanager.yml", "in the fault matrix, the Watchdog reaches the heartbeat alone",
		map[string]string{"alertname": "Watchdog", "severity": "info"}, []string{"heartbeat"}},

	{"examples/ml-platform/generated/alertmanager/alertmanager.yml", "a critical ServiceDown of the ranker pages ML on-call and posts in the team's channel",
		map[string]string{"alertname": "ServiceDown", "severity": "critical", "service": "ranker"}, []string{"ml-oncall", "ml-platform-chat"}},
	{"examples/ml-platform/generated/alertmanager/alertmanager.yml", "a critical ServiceDown of the embedder pages ML on-call and posts in the team's channel",
		map[string]string{"alertname": "ServiceDown", "severity": "critical", "service": "embedder"}, []string{"ml-oncall", "ml-platform-chat"}},
	{"examples/ml-platform/generated/alertmanager/alertmanager.yml", "a critical OOM kill of the batch worker pages ML on-call and posts in the team's channel",
		map[string]string{"alertname": "ContainerOOMKilled", "severity": "critical", "service": "batch-worker", "name": "batch-worker-1"}, []string{"ml-oncall", "ml-platform-chat"}},
	{"examples/ml-platform/generated/alertmanager/alertmanager.yml", "the ML platform's Watchdog reaches its heartbeat alone, never a person",
		map[string]string{"alertname": "Watchdog", "severity": "info"}, []string{"heartbeat"}},
	{"examples/ml-platform/generated/alertmanager/alertmanager.yml", "a warning of the ranker only posts in the team's channel",
		map[string]string{"alertname": "HighMemoryUsage", "severity": "warning", "service": "ranker", "name": "ranker-1"}, []string{"ml-platform-chat"}},
	{"examples/ml-platform/generated/alertmanager/alertmanager.yml", "a warning of the embedder only posts in the team's channel",
		map[string]string{"alertname": "ContainerCrashLooping", "severity": "warning", "service": "embedder", "name": "embedder-1"}, []string{"ml-platform-chat"}},
}

// TestRoutingFollowsThePolicy routes the policy's alerts with
// Alertmanager's own router through the committed configurations, and,
// for the gateway's, through the configuration its spec renders now, so a
// change not yet generated is held to the policy too.
func TestRoutingFollowsThePolicy(t *testing.T) {
	routes := map[string]*dispatch.Route{}
	load := func(t *testing.T, path string) *dispatch.Route {
		t.Helper()
		if r, ok := routes[path]; ok {
			return r
		}
		cfg, err := amconfig.LoadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		routes[path] = dispatch.NewRoute(cfg.Route, nil)
		return routes[path]
	}
	rendered := map[string]string{
		"generated/alertmanager/alertmanager.yml":     render(t, rules.Spec(rules.Production)),
		"generated/e2e/alertmanager/alertmanager.yml": render(t, rules.Spec(rules.E2E)),
	}
	for _, tc := range routingPolicy {
		t.Run(tc.name, func(t *testing.T) {
			paths := []string{"../../" + tc.config}
			if p, ok := rendered[tc.config]; ok {
				paths = append(paths, p)
			}
			ls := model.LabelSet{}
			for k, v := range tc.labels {
				ls[model.LabelName(k)] = model.LabelValue(v)
			}
			want := slices.Sorted(slices.Values(tc.want))
			for _, p := range paths {
				var got []string
				for _, r := range load(t, p).Match(ls) {
					got = append(got, r.RouteOpts.Receiver)
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("%s: %v reaches %v, the policy says %v", p, tc.labels, got, want)
				}
			}
		})
	}
}

// TestAP0IsRepeatedOnTheRunbooksCadence: while a P0 fires, both of its
// receivers hear of it again every 5 minutes (the runbook's status
// updates); a warning every 4 hours; the heartbeat every minute. The
// cadence is what Alertmanager's dispatcher does with the routes' options:
// at each group-interval flush it repeats once the repeat interval has
// passed since the last send, which is logged a moment after its own
// flush.
func TestAP0IsRepeatedOnTheRunbooksCadence(t *testing.T) {
	cfg, err := amconfig.LoadFile(render(t, rules.Spec(rules.Production)))
	if err != nil {
		t.Fatal(err)
	}
	root := dispatch.NewRoute(cfg.Route, nil)
	// sentAfterFlush is how long after its flush a send is logged.
	const sentAfterFlush = time.Second
	cadence := func(o dispatch.RouteOpts) time.Duration {
		for k := time.Duration(1); ; k++ {
			if k*o.GroupInterval-sentAfterFlush > o.RepeatInterval {
				return k * o.GroupInterval
			}
		}
	}
	for _, c := range []struct {
		labels model.LabelSet
		want   time.Duration
	}{
		{model.LabelSet{"alertname": "ServiceDown", "severity": "critical", "service": "inference-gateway"}, 5 * time.Minute},
		{model.LabelSet{"alertname": "HighMemoryUsage", "severity": "warning", "service": "inference-gateway"}, 4 * time.Hour},
		{model.LabelSet{"alertname": "Watchdog", "severity": "info"}, time.Minute},
	} {
		for _, r := range root.Match(c.labels) {
			if got := cadence(r.RouteOpts); got != c.want {
				t.Errorf("%v reaches %s every %s (group_interval %s, repeat_interval %s), want %s", c.labels, r.RouteOpts.Receiver, got, r.RouteOpts.GroupInterval, r.RouteOpts.RepeatInterval, c.want)
			}
		}
	}
}
