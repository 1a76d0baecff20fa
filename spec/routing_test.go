package spec_test

import (
	"testing"
	"time"

	"github.com/sre-tools/promgen/spec"
)

// watchdog is an always-firing pipeline alert, as rules.Watchdog builds it.
func watchdog() spec.Alert {
	return spec.Alert{
		Name: "Watchdog", Expr: spec.Call("vector", spec.Num(1)), Severity: spec.Info,
		Summary: "alive", Description: "alive", RunbookURL: "https://example.com/runbook",
		Tests: []spec.Test{{
			Name:   "fires always",
			Series: []spec.Series{{Metric: "up", Labels: map[string]string{"job": "prometheus"}, Values: []spec.Segment{{Value: 0, For: 5 * time.Minute}}}},
			Expect: []spec.Expect{{At: time.Minute, Firing: []spec.Firing{{}}}},
		}},
	}
}

func TestValidateNotifications(t *testing.T) {
	heartbeat := &spec.Heartbeat{Webhook: spec.Webhook{URLFile: "/etc/alertmanager/secrets/heartbeat"}}
	cases := []struct {
		name   string
		mutate func(s *spec.Spec)
		want   []string
	}{
		{"the team's words, a P0 cadence and the external URLs pass", func(s *spec.Spec) {
			s.Routing = routing()
			s.Routing.RepeatBySeverity = map[spec.Severity]time.Duration{spec.Critical: 5 * time.Minute}
			s.Routing.Incident = spec.Incident{Channel: "#incidents", WarRoom: "https://zoom.us/j/emergency", Commander: "@ic",
				SeverityNames: map[spec.Severity]string{spec.Critical: "P0"}}
			s.Routing.ExternalURL = "https://alertmanager.example.com"
			s.Prometheus.ExternalURL = "https://prometheus.example.com"
		}, nil},
		{"a repeat interval of a severity without a route is refused", func(s *spec.Spec) {
			s.Routing = routing()
			s.Routing.RepeatBySeverity = map[spec.Severity]time.Duration{spec.Info: time.Minute, spec.Critical: -time.Minute}
		}, []string{`routing.repeat_by_severity.info: no route of this severity to repeat`, `routing.repeat_by_severity.critical: must be > 0`}},
		{"a war room, or external URLs, that are no absolute URLs are refused", func(s *spec.Spec) {
			s.Routing = routing()
			s.Routing.Incident.WarRoom = "zoom"
			s.Routing.ExternalURL = "/alertmanager"
			s.Prometheus.ExternalURL = "localhost:9090"
		}, []string{`routing.incident.war_room: "zoom" is not an absolute URL`, `routing.external_url: "/alertmanager" is not an absolute URL`,
			`prometheus.external_url: "localhost:9090" is not an absolute URL`}},
		{"a name for no severity is refused", func(s *spec.Spec) {
			s.Routing = routing()
			s.Routing.Incident.SeverityNames = map[spec.Severity]string{"page": "P0"}
		}, []string{`routing.incident.severity_names.page: not a severity`}},
		{"a Watchdog routed without a heartbeat is refused", func(s *spec.Spec) {
			s.Routing = routing()
			s.Pipeline = []spec.Alert{watchdog()}
		}, []string{`routing.heartbeat: missing: alert "Watchdog" always fires`}},
		{"a Watchdog with a heartbeat needs no route of its severity, nor a quiet scenario", func(s *spec.Spec) {
			s.Routing = routing()
			s.Routing.Heartbeat = heartbeat
			s.Pipeline = []spec.Alert{watchdog()}
		}, nil},
		{"a heartbeat's webhook is checked as any webhook, and its name is its own", func(s *spec.Spec) {
			s.Routing = routing()
			s.Routing.Heartbeat = &spec.Heartbeat{Webhook: spec.Webhook{URL: "https://user:pw@hc.example.com/ping"}, Interval: -time.Second}
			s.Routing.Receivers[1].Name = spec.HeartbeatReceiver
			s.Routing.Default, s.Routing.BySeverity[spec.Critical], s.Routing.BySeverity[spec.Warning] = "heartbeat", []string{"page"}, []string{"heartbeat"}
		}, []string{`routing.heartbeat.webhook.url: receiver "heartbeat": holds credentials`, `routing.heartbeat.interval: must not be negative`,
			`routing.receivers[1].name: "heartbeat" is the heartbeat's receiver`}},
		{"an inhibition naming the Watchdog is refused", func(s *spec.Spec) {
			s.Routing = routing()
			s.Routing.Heartbeat = heartbeat
			s.Pipeline = []spec.Alert{watchdog()}
			s.Routing.Inhibitions = []spec.Inhibition{{Source: "Watchdog", Targets: []string{"ApiDown"}, Equal: []string{"service"}}}
		}, []string{`routing.inhibitions[0].names[0]: "Watchdog" always fires`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkValidate(t, tc.mutate, tc.want) })
	}
}
