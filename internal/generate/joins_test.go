package generate

import (
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
)

func TestJoinsOfTheRunbookMatchEveryKindOfTarget(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(s *spec.Spec)
	}{
		{"one host, discovered containers", func(*spec.Spec) {}},
		{"two hosts, discovered containers", func(s *spec.Spec) {
			s.Hosts = []spec.Host{{Name: "node-1", Address: "unix:///var/run/docker.sock"}, {Name: "node-2", Address: "tcp://node-2:2375"}}
		}},
		{"static targets", func(s *spec.Spec) { s.Services[0].Scrape = spec.Scrape{Static: []string{"10.0.0.5:8000"}} }},
		{"a compose project", func(s *spec.Spec) { s.Services[0].ComposeProject = "ml" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := rules.Spec(rules.Production)
			tc.mutate(&s)
			if _, err := renderPrometheus(Target{Spec: s}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestJoinsThatCannotMatchTheTargetsAreRejected(t *testing.T) {
	const diagnosis = `docker_container_last_termination_info{compose_service="inference-gateway"}`
	cases := []struct {
		name   string
		static bool
		expr   string
		want   []string
	}{
		{
			name: "a join by compose service alone, on targets that name their container, may borrow another replica's diagnosis",
			expr: `(up{job="inference-gateway"} == 0) * on (compose_service) group_left (exit_code, reason) topk by (compose_service) (1, ` + diagnosis + `)`,
			want: []string{`service "inference-gateway": alert "Custom": expr: joins gateway-exporter's series to job "inference-gateway"'s targets`,
				`on (compose_service): the targets name their container, so the join must key on host and name`},
		},
		{
			name:   "a join on the container's name, on static targets that carry none, never matches",
			static: true,
			expr:   `(up{job="inference-gateway"} == 0) * on (host, name) group_left (exit_code, reason) topk by (host, name) (1, ` + diagnosis + `)`,
			want:   []string{`alert "Custom": expr: no join of gateway-exporter's series ever matches job "inference-gateway"'s targets (labels compose_service, instance, job): its pages never carry the diagnosis`},
		},
		{
			name: "a join on a label neither side carries matches every container with any other, and is rejected",
			expr: `(up{job="inference-gateway"} == 0) * on (pod) group_left (exit_code) ` + diagnosis,
			want: []string{`on (pod): the targets name their container, so the join must key on host and name`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := rules.Spec(rules.Production)
			svc := &s.Services[0]
			if tc.static {
				svc.Scrape = spec.Scrape{Static: []string{"10.0.0.5:8000"}}
			}
			expr, err := parser.NewParser(parser.Options{}).ParseExpr(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			svc.Alerts = append(svc.Alerts, spec.Alert{Name: "Custom", Expr: expr})
			_, err = renderPrometheus(Target{Spec: s})
			if err == nil {
				t.Fatal("rendered without error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), `"ServiceDown"`) {
				t.Errorf("the runbook's ServiceDown is reported too: %v", err)
			}
		})
	}
}

// The join proof knows PromQL's labels as the lint checks do: count_values
// adds its label, so a join on it can match.
func TestJoinsOnALabelCountValuesAddsAreAccepted(t *testing.T) {
	s := rules.Spec(rules.Production)
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(`count_values by (host) ("name", up{job="inference-gateway"} == 0) * on (host, name) group_left (exit_code, reason) topk by (host, name) (1, docker_container_last_termination_info{compose_service="inference-gateway"})`)
	if err != nil {
		t.Fatal(err)
	}
	s.Services[0].Alerts = append(s.Services[0].Alerts, spec.Alert{Name: "Custom", Expr: expr})
	if _, err := renderPrometheus(Target{Spec: s}); err != nil {
		t.Fatal(err)
	}
}

func TestTargetsWithoutTheJoinedLabelsAreRejected(t *testing.T) {
	s := rules.Spec(rules.Production)
	cfg := prometheusConfig(s)
	// A relabelling that forgets the container's name, and an exporter
	// target without its host.
	gw := cfg.ScrapeConfigs[0]
	gw.RelabelConfigs = slices.DeleteFunc(gw.RelabelConfigs, func(r *relabel.Config) bool { return r.TargetLabel == catalog.LabelName })
	exporter := cfg.ScrapeConfigs[1].ServiceDiscoveryConfigs[0].(discovery.StaticConfig)
	exporter[0].Labels = model.LabelSet{"site": "local"}
	b, err := marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := config.Load(string(b), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	targets, err := jobTargets(loaded, s)
	if err != nil {
		t.Fatal(err)
	}
	err = errors.Join(checkTargets(s, targets)...)
	for _, w := range []string{
		`job "inference-gateway": discovered containers carry no name label`,
		`job "gateway-exporter": gateway-exporter's targets carry no host label`,
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v\nlacks %q", err, w)
		}
	}
}
