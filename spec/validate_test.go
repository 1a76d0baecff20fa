package spec_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/spec"
)

// valid returns a minimal spec that passes validation; cases break one field.
func valid() spec.Spec {
	return spec.Spec{Services: []spec.Service{{
		Name:      "api",
		Container: spec.RunbookContainer("http://localhost:8000/health"),
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
		{"a reservation above the limit is rejected", func(s *spec.Spec) { s.Services[0].Container.Memory.Reservation = 8 * spec.GiB },
			[]string{`container.memory.reservation: 8589934592 bytes exceeds the limit`}},
		{"a healthcheck without CMD is rejected", func(s *spec.Spec) { s.Services[0].Container.Healthcheck.Test = []string{"curl", "-f", "x"} },
			[]string{`container.healthcheck.test: must start with CMD, CMD-SHELL or NONE`}},
		{"an invalid compose service name is rejected", func(s *spec.Spec) { s.Services[0].Name = "API Gateway" },
			[]string{`name: "API Gateway" is not a compose service name`}},
		{"every problem of a run is reported together", func(s *spec.Spec) {
			s.Services[0].Alerts[0].For = -1
			s.Services[0].Alerts[0].Summary = ""
			s.Services[0].Container.RestartPolicy.Condition = "sometimes"
		}, []string{`for: must not be negative`, `summary: missing`, `restart_policy.condition: "sometimes" is not one of`}},
		{"duplicate alert names across services are rejected", func(s *spec.Spec) {
			other := s.Services[0]
			other.Name = "worker"
			s.Services = append(s.Services, other)
		}, []string{`service "worker": alert "ApiDown": name: duplicate alert (also in service "api")`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := valid()
			tc.mutate(&s)
			err := s.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors containing %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() error\n%v\ndoes not contain %q", err, w)
				}
			}
			if n := strings.Count(err.Error(), "\n") + 1; n != len(tc.want) {
				t.Errorf("got %d problems, want %d:\n%v", n, len(tc.want), err)
			}
		})
	}
}
