package spec_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/spec"
)

// valid returns a minimal spec that passes validation; cases break one field.
func valid() spec.Spec {
	return spec.Spec{Services: []spec.Service{{
		Name:      "api",
		Container: spec.RunbookContainer("http://localhost:8000/health"),
		Scrape:    spec.Scrape{Port: 8000},
		Alerts: []spec.Alert{{
			Name:        "ApiDown",
			Expr:        spec.Filter(spec.Metric("up", spec.Eq("job", "api")), spec.OpEq, 0),
			For:         time.Minute,
			Severity:    spec.Critical,
			Summary:     "api is down",
			Description: "api is down",
			RunbookURL:  "https://example.com/runbook",
			Tests: []spec.Test{{
				Name:   "fires when down",
				Series: []spec.Series{{Metric: "up", Labels: map[string]string{"job": "api"}, Values: []spec.Segment{{Value: 0, For: 5 * time.Minute}}}},
				Expect: []spec.Expect{{At: 30 * time.Second}, {At: 2 * time.Minute, Firing: []spec.Firing{{}}}},
			}},
		}},
	}}}
}

// availability is a 30-day availability objective.
func availability(objective float64) spec.SLO {
	return spec.SLO{Name: "availability", Objective: objective, Window: 30 * 24 * time.Hour,
		Availability: &spec.AvailabilitySLI{Requests: "http_requests_total", Errors: []*labels.Matcher{spec.Re("status", "5..")}}}
}

// routing routes valid()'s critical alert to a pager and the rest to chat.
func routing() spec.Routing {
	return spec.Routing{
		Receivers: []spec.Receiver{
			{Name: "page", PagerDuty: &spec.PagerDuty{RoutingKeyFile: "/etc/alertmanager/secrets/pd"}},
			{Name: "chat", Slack: &spec.Slack{APIURLFile: "/etc/alertmanager/secrets/slack", Channel: "#incidents"}},
		},
		BySeverity: map[spec.Severity][]string{spec.Critical: {"page", "chat"}, spec.Warning: {"chat"}},
		Default:    "chat",
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(s *spec.Spec)
		want   []string
	}{
		{"a valid spec passes", func(*spec.Spec) {}, nil},
		{"a negative for is named with its service, alert and field", func(s *spec.Spec) { s.Services[0].Alerts[0].For = -time.Second },
			[]string{`service "api": alert "ApiDown": for: must not be negative`}},
		{"an alert name that is not CamelCase is rejected", func(s *spec.Spec) { s.Services[0].Alerts[0].Name = "api_down" },
			[]string{`alert "api_down": name: "api_down" is not CamelCase`}},
		{"an unknown severity is rejected", func(s *spec.Spec) { s.Services[0].Alerts[0].Severity = "page" },
			[]string{`severity: "page" is not one of critical, warning, info`}},
		{"a templated label is rejected as volatile", func(s *spec.Spec) {
			s.Services[0].Alerts[0].Labels = map[string]string{"value": "{{ $value }}"}
		}, []string{`labels.value: holds a template`}},
		{"a label promgen sets is rejected", func(s *spec.Spec) { s.Services[0].Alerts[0].Labels = map[string]string{"severity": "x"} },
			[]string{`labels.severity: is set by promgen`}},
		{"an annotation promgen sets is rejected", func(s *spec.Spec) {
			s.Services[0].Alerts[0].Annotations = map[string]string{"summary": "x"}
		}, []string{`alert "ApiDown": annotations.summary: is set by promgen`}},
		{"a firing that leaves out one of the alert's annotations is named, as promtool compares them all", func(s *spec.Spec) {
			s.Services[0].Alerts[0].Annotations = map[string]string{"impact_downtime": "{{ $value }}"}
		}, []string{`test "fires when down": expect[1].firing[0].annotations.impact_downtime: missing: the alert renders it`}},
		{"a firing with an annotation the alert lacks is named", func(s *spec.Spec) {
			s.Services[0].Alerts[0].Tests[0].Expect[1].Firing[0].Annotations = map[string]string{"impact_downtime": "1m"}
		}, []string{`test "fires when down": expect[1].firing[0].annotations.impact_downtime: the alert has no such annotation`}},
		{"a relative runbook URL is rejected", func(s *spec.Spec) { s.Services[0].Alerts[0].RunbookURL = "runbooks/api" },
			[]string{`runbook_url: "runbooks/api" is not an absolute URL`}},
		{"a range vector expression is rejected", func(s *spec.Spec) {
			s.Services[0].Alerts[0].Expr = spec.Range(spec.Metric("up"), time.Minute)
		}, []string{`expr: must evaluate to an instant vector, not matrix`}},
		{"an AST that prints as a different expression is rejected", func(s *spec.Spec) {
			s.Services[0].Alerts[0].Expr = &parser.BinaryExpr{Op: parser.MUL, LHS: spec.Metric("a"),
				RHS: &parser.BinaryExpr{Op: parser.GTR, LHS: spec.Metric("b"), RHS: spec.Num(0)}}
		}, []string{`expr: prints as "a * b > 0", which Prometheus reads as a different tree`}},
		{"an alert without a quiet expectation is not proven", func(s *spec.Spec) {
			s.Services[0].Alerts[0].Tests[0].Expect = s.Services[0].Alerts[0].Tests[0].Expect[1:]
		}, []string{`tests: need at least one expectation that the alert fires and one that it does not`}},
		{"an expectation past the end of the series is rejected", func(s *spec.Spec) {
			s.Services[0].Alerts[0].Tests[0].Expect[1].At = time.Hour
		}, []string{`test "fires when down": expect[1].at: 1h0m0s is outside the series`}},
		{"a record with a negative interval is named with its service, record and field", func(s *spec.Spec) {
			s.Services[0].Records = []spec.Record{{Name: "service:up:max", Expr: spec.Max(spec.Metric("up")), Interval: -time.Minute}}
		}, []string{`service "api": records[0].interval: record "service:up:max": -1m0s is negative`}},
		{"a reservation above the limit is rejected", func(s *spec.Spec) { s.Services[0].Container.Memory.Reservation = 8 * spec.GiB },
			[]string{`container.memory.reservation: 8589934592 bytes exceeds the limit`}},
		{"an alert on the memory ratio of a service without a memory limit names the limit", func(s *spec.Spec) {
			s.Services[0].Container.Memory = spec.Memory{}
			s.Services[0].Alerts[0].Expr = spec.Filter(spec.Metric(catalog.ContainerMemoryUsageRatio, spec.Eq("compose_service", "api")), spec.OpGt, 0.85)
		}, []string{`service "api": container.memory.limit: alert "ApiDown" reads the memory ratio, which needs a limit`}},
		{"a healthcheck without CMD is rejected", func(s *spec.Spec) { s.Services[0].Container.Healthcheck.Test = []string{"curl", "-f", "x"} },
			[]string{`container.healthcheck.test: must start with CMD, CMD-SHELL or NONE`}},
		{"an invalid compose service name is rejected", func(s *spec.Spec) { s.Services[0].Name = "API Gateway" },
			[]string{`name: "API Gateway" is not a compose service name`}},
		{"every problem of a run is reported together", func(s *spec.Spec) {
			s.Services[0].Alerts[0].For = -1
			s.Services[0].Alerts[0].Summary = ""
			s.Services[0].Container.Restart = "sometimes"
		}, []string{`for: must not be negative`, `summary: missing`, `container.restart: "sometimes" is not a restart policy Docker applies`}},
		{"the same alert in two services is accepted: the service label tells them apart", func(s *spec.Spec) {
			other := s.Services[0]
			other.Name = "worker"
			s.Services = append(s.Services, other)
		}, nil},
		{"an alert name twice within one service is rejected", func(s *spec.Spec) {
			s.Services[0].Alerts = append(s.Services[0].Alerts, s.Services[0].Alerts[0])
		}, []string{`service "api": alert "ApiDown": name: duplicate alert: an alert name may appear once per service`}},
		{"a service declared twice is rejected", func(s *spec.Spec) {
			s.Services = append(s.Services, s.Services[0])
		}, []string{`service "api": name: duplicate service`}},
		{"a pipeline alert declared twice is rejected, named as a pipeline alert", func(s *spec.Spec) {
			a := s.Services[0].Alerts[0]
			a.Name = "ExporterDown"
			s.Pipeline = []spec.Alert{a, a}
		}, []string{`pipeline alert "ExporterDown": name: duplicate alert: an alert name may appear once per spec (pipeline alerts)`}},
		{"a pipeline alert's problems are located as such", func(s *spec.Spec) {
			a := s.Services[0].Alerts[0]
			a.Name, a.For = "ExporterDown", -time.Second
			s.Pipeline = []spec.Alert{a}
		}, []string{`pipeline alert "ExporterDown": for: must not be negative`}},
		{"an empty service name is rejected", func(s *spec.Spec) { s.Services[0].Name = "" },
			[]string{`name: "" is not a compose service name`}},
		{"the pipeline group's name is reserved", func(s *spec.Spec) { s.Services[0].Name = spec.PipelineGroup },
			[]string{`name: "promgen-pipeline" is reserved for the spec's pipeline alerts`}},
		{"an empty alert name is rejected", func(s *spec.Spec) { s.Services[0].Alerts[0].Name = "" },
			[]string{`name: "" is not CamelCase`}},
		{"the runbook comes from the service when the alert names none", func(s *spec.Spec) {
			s.Services[0].Alerts[0].RunbookURL = ""
			s.Services[0].RunbookURL = "https://example.com/api"
		}, nil},
		{"the runbook comes from the spec when neither alert nor service names one", func(s *spec.Spec) {
			s.Services[0].Alerts[0].RunbookURL = ""
			s.RunbookURL = "https://example.com/all"
		}, nil},
		{"an alert without any runbook is rejected", func(s *spec.Spec) { s.Services[0].Alerts[0].RunbookURL = "" },
			[]string{`alert "ApiDown": runbook_url: missing: set it on the alert, its service or the spec`}},
		{"a relative service runbook is rejected where it is set", func(s *spec.Spec) { s.Services[0].RunbookURL = "/runbooks/api" },
			[]string{`service "api": runbook_url: "/runbooks/api" is not an absolute URL`}},
		{"a relative service runbook its alerts inherit is named once, where it is set", func(s *spec.Spec) {
			s.Services[0].RunbookURL, s.Services[0].Alerts[0].RunbookURL = "/runbooks/api", ""
		}, []string{`service "api": runbook_url: "/runbooks/api" is not an absolute URL`}},
		{"a relative spec runbook is named once, not at every alert", func(s *spec.Spec) {
			s.RunbookURL, s.Services[0].Alerts[0].RunbookURL = "runbooks/all", ""
		}, []string{`runbook_url: "runbooks/all" is not an absolute URL`}},
		{"a declared metric with a bad name, a second declaration and an unknown type are each named", func(s *spec.Spec) {
			s.Services[0].Metrics = []spec.ExposedMetric{
				{Name: "queue-depth", Type: "gauge"}, {Name: "queue_depth", Type: "gauge"}, {Name: "queue_depth", Type: "Gauge"},
			}
		}, []string{`service "api": metrics[0].name: "queue-depth" is not a metric name`, `service "api": metrics[2].name: "queue_depth" is declared twice`,
			`service "api": metrics[2].type: "Gauge" is not a metric type: want counter, gauge, histogram, summary`}},
		{"an invalid compose project is rejected", func(s *spec.Spec) { s.Services[0].ComposeProject = "My Project" },
			[]string{`compose_project: "My Project" is not a compose project name`}},
		{"routing to receivers with their secrets in files is accepted", func(s *spec.Spec) { s.Routing = routing() }, nil},
		{"a receiver without its secret file is rejected, named", func(s *spec.Spec) {
			s.Routing = routing()
			s.Routing.Receivers[0].PagerDuty.RoutingKeyFile = ""
		}, []string{`routing.receivers[0].pagerduty.routing_key_file: receiver "page": set exactly one of routing_key_file and routing_key (a key that is no secret): a real key must come from a file, never from the spec`}},
		{"a stand-in's Slack URL and PagerDuty key, written in the spec, are accepted", func(s *spec.Spec) {
			s.Routing = routing()
			s.Routing.Receivers[0].PagerDuty = &spec.PagerDuty{RoutingKey: "stand-in", URL: "http://127.0.0.1:19095/pagerduty"}
			s.Routing.Receivers[1].Slack = &spec.Slack{APIURL: "http://127.0.0.1:19095/slack", Channel: "#incidents"}
		}, nil},
		{"a Slack receiver with both its URL and a file of it, or a relative URL, is rejected, named", func(s *spec.Spec) {
			s.Routing = routing()
			s.Routing.Receivers[1].Slack.APIURL = "/slack"
		}, []string{`routing.receivers[1].slack.api_url_file: receiver "chat": set exactly one of api_url_file and api_url`,
			`routing.receivers[1].slack.api_url: receiver "chat": "/slack" is not an absolute URL`}},
		{"a route to an unknown receiver is rejected", func(s *spec.Spec) {
			s.Routing = routing()
			s.Routing.BySeverity[spec.Critical] = []string{"pager"}
		}, []string{`routing.by_severity.critical[0]: "pager" is not a receiver of the spec`}},
		{"a severity an alert uses without a route is rejected", func(s *spec.Spec) {
			s.Routing = routing()
			delete(s.Routing.BySeverity, spec.Critical)
		}, []string{`routing.by_severity.critical: no receiver, but alert "ApiDown" has this severity`}},
		{"an inhibition naming an alert the spec lacks is rejected", func(s *spec.Spec) {
			s.Routing = routing()
			s.Routing.Inhibitions = []spec.Inhibition{{Source: "ApiDown", Targets: []string{"ApiSlow"}, Equal: []string{"service"}}}
		}, []string{`routing.inhibitions[0].targets[0]: "ApiSlow" is not an alert of the spec`}},
		{"an inhibition of a service's alerts not equal on service is rejected", func(s *spec.Spec) {
			s.Routing = routing()
			other := s.Services[0].Alerts[0]
			other.Name = "ApiSlow"
			s.Services[0].Alerts = append(s.Services[0].Alerts, other)
			s.Routing.Inhibitions = []spec.Inhibition{{Source: "ApiDown", Targets: []string{"ApiSlow"}}}
		}, []string{`routing.inhibitions[0].equal: must contain "service": the inhibition involves a service's alert, and nothing may mute across services`}},
		{"an objective of 100% is rejected", func(s *spec.Spec) { s.Services[0].SLOs = []spec.SLO{availability(1)} },
			[]string{`slos[0].objective: 1 must be above 0 and below 1 (an objective of 100% leaves no error budget)`}},
		{"an objective of 0 is rejected", func(s *spec.Spec) { s.Services[0].SLOs = []spec.SLO{availability(0)} },
			[]string{`slos[0].objective: 0 must be above 0 and below 1`}},
		{"a window shorter than its alert windows can be is rejected", func(s *spec.Spec) {
			o := availability(0.999)
			o.Window = 24 * time.Hour
			s.Services[0].SLOs = []spec.SLO{o}
		}, []string{`service "api": slos[0].window: 1d is too short: its shortest alert window would be 10s, under 30s`}},
		{"an objective longer than the retention the spec declares is rejected", func(s *spec.Spec) {
			s.Prometheus.Retention = 15 * 24 * time.Hour
			s.Services[0].SLOs = []spec.SLO{availability(0.999)}
		}, []string{`service "api": slos[0].window: objective "availability": 30d is longer than prometheus.retention 15d: Prometheus would compute its budget over part of the window`}},
		{"an objective within the declared retention is accepted", func(s *spec.Spec) {
			s.Prometheus.Retention = 31 * 24 * time.Hour
			s.Services[0].SLOs = []spec.SLO{availability(0.999)}
		}, nil},
		{"a negative retention is rejected", func(s *spec.Spec) { s.Prometheus.Retention = -time.Hour },
			[]string{`prometheus.retention: -1h0m0s must not be negative`}},
		{"a latency threshold between buckets is rejected", func(s *spec.Spec) {
			s.Services[0].SLOs = []spec.SLO{{Name: "latency", Objective: 0.99, Window: 30 * 24 * time.Hour,
				Latency: &spec.LatencySLI{Histogram: "http_request_duration_seconds", Threshold: 0.3, Buckets: []float64{0.1, 0.25, 0.5}}}}
		}, []string{`slos[0].latency.threshold: 0.3s is not a bucket boundary of http_request_duration_seconds ([0.1 0.25 0.5])`}},
		{"a negative keep_firing_for is rejected", func(s *spec.Spec) { s.Services[0].Alerts[0].KeepFiringFor = -time.Second },
			[]string{`keep_firing_for: must not be negative`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkValidate(t, tc.mutate, tc.want) })
	}
}

// checkValidate validates valid() after mutate and checks that the error
// holds exactly the problems in want (none when want is empty).
func checkValidate(t *testing.T, mutate func(*spec.Spec), want []string) {
	t.Helper()
	s := valid()
	mutate(&s)
	err := s.Validate()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("Validate() = %v, want nil", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("Validate() = nil, want errors containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Validate() error\n%v\ndoes not contain %q", err, w)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", n, len(want), err)
	}
}

// TestValidateReportsEveryServicesProblemsInTheirOrder: services are
// checked on every core, and their problems still come in the services'
// order, a duplicate's before its own.
func TestValidateReportsEveryServicesProblemsInTheirOrder(t *testing.T) {
	s := valid()
	base := s.Services[0]
	s.Services = nil
	var want []string
	for i := range 40 {
		svc := base
		svc.Name = fmt.Sprintf("svc-%02d", i)
		svc.Alerts = slices.Clone(base.Alerts)
		if i%3 == 0 {
			svc.Alerts[0].For = -time.Second
			want = append(want, fmt.Sprintf(`service %q: alert "ApiDown": for: must not be negative`, svc.Name))
		}
		s.Services = append(s.Services, svc)
	}
	s.Services = append(s.Services, s.Services[3])
	want = append(want, `service "svc-03": name: duplicate service`, `service "svc-03": alert "ApiDown": for: must not be negative`)
	err := s.Validate()
	if err == nil {
		t.Fatal("Validate() = nil")
	}
	if got := strings.Split(err.Error(), "\n"); !slices.Equal(got[:min(len(got), len(want))], want) {
		t.Errorf("Validate() =\n%v\nwant first\n%s", err, strings.Join(want, "\n"))
	}
}

// TestValidateWithPrintsAndParsesEachExpressionOnce: a build hands Validate
// the Printer it writes the rule files with; each alert's expression is
// parsed once, from the text the rule file holds, and that text is what
// the Printer gives the build.
func TestValidateWithPrintsAndParsesEachExpressionOnce(t *testing.T) {
	s := valid()
	parsed := map[string]int{}
	var mu sync.Mutex
	p := &spec.Printer{Parse: func(text string) (parser.Expr, error) {
		mu.Lock()
		parsed[text]++
		mu.Unlock()
		return parser.NewParser(parser.Options{}).ParseExpr(text)
	}}
	if err := s.ValidateWith(p); err != nil {
		t.Fatal(err)
	}
	for _, svc := range s.Services {
		for _, a := range svc.Alerts {
			text := p.PromQL(a.Expr)
			if text != spec.PromQL(a.Expr) {
				t.Errorf("alert %s: the Printer gives %q, PromQL %q", a.Name, text, spec.PromQL(a.Expr))
			}
			if parsed[text] != 1 {
				t.Errorf("alert %s: its text was parsed %d times, want once", a.Name, parsed[text])
			}
		}
	}
	if len(parsed) == 0 {
		t.Fatal("Validate parsed nothing through the Printer")
	}
}

// TestTextNoFileCanHoldIsRefusedNamingTheField: invalid UTF-8 (which
// yaml.v3 writes as !!binary) and a text of several lines that starts with
// a tab (which it writes as a block no parser reads) are refused, each
// located by service, alert and field.
func TestTextNoFileCanHoldIsRefusedNamingTheField(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(s *spec.Spec)
		want string
	}{
		{"invalid UTF-8 in a summary", func(s *spec.Spec) { s.Services[0].Alerts[0].Summary = "down \xff" },
			`alert "ApiDown": summary: not valid UTF-8`},
		{"a tab before a line break in a description", func(s *spec.Spec) { s.Services[0].Alerts[0].Description = "\tSee the runbook.\n" },
			`alert "ApiDown": description: a text of several lines may not start with a tab`},
		{"DEL in a summary, which Kubernetes' YAML writer cannot hold", func(s *spec.Spec) { s.Services[0].Alerts[0].Summary = "down\x7f" },
			`alert "ApiDown": summary: holds a character YAML 1.1 readers refuse`},
		{"invalid UTF-8 in a label's value", func(s *spec.Spec) { s.Services[0].Alerts[0].Labels = map[string]string{"team": "\xc3\x28"} },
			`alert "ApiDown": labels["team"]: not valid UTF-8`},
		{"invalid UTF-8 in a Slack channel", func(s *spec.Spec) {
			s.Routing = routing()
			s.Routing.Receivers[1].Slack.Channel = "#ops\xff"
		}, `routing.receivers[1].slack.channel: not valid UTF-8`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := valid()
			tc.set(&s)
			err := s.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}
