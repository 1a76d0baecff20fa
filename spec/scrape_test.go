package spec_test

import (
	"testing"

	"github.com/sre-tools/promgen/spec"
)

func TestValidateScrape(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(s *spec.Spec)
		want   []string
	}{
		{"hosts with names and Docker addresses pass", func(s *spec.Spec) {
			s.Hosts = []spec.Host{{Name: "node-1", Address: "unix:///var/run/docker.sock"}, {Name: "node-2", Address: "tcp://10.0.0.2:2375"}}
		}, nil},
		{"static targets pass", func(s *spec.Spec) {
			s.Services[0].Scrape = spec.Scrape{Static: []string{"10.0.0.5:8000", "api.example.com:80"}}
		}, nil},
		{"a host without an address is named with the field", func(s *spec.Spec) {
			s.Hosts = []spec.Host{{Name: "node-1"}}
		}, []string{`host "node-1": address: missing: the Docker daemon's address`}},
		{"a host address Docker discovery cannot reach is rejected", func(s *spec.Spec) {
			s.Hosts = []spec.Host{{Name: "node-1", Address: "ssh://node-1"}}
		}, []string{`host "node-1": address: "ssh://node-1" is not a Docker daemon address`}},
		{"duplicate host names are rejected", func(s *spec.Spec) {
			s.Hosts = []spec.Host{{Name: "node-1", Address: "tcp://a:2375"}, {Name: "node-1", Address: "tcp://b:2375"}}
		}, []string{`host "node-1": name: duplicate host`}},
		{"a TLS host with its CA, client certificate and basic auth passes", func(s *spec.Spec) {
			s.Hosts = []spec.Host{{Name: "gpu-1", Address: "https://gpu-1:2376",
				TLS:       &spec.TLS{CAFile: "/etc/prometheus/docker/ca.pem", CertFile: "/etc/prometheus/docker/cert.pem", KeyFile: "/etc/prometheus/docker/key.pem"},
				BasicAuth: &spec.BasicAuth{Username: "prometheus", PasswordFile: "/etc/prometheus/docker/password"}}}
			s.Prometheus.ExporterTLS = &spec.TLS{CAFile: "/etc/prometheus/exporter/ca.pem"}
		}, nil},
		{"Docker's TLS port on tcp:// without TLS is named with the host", func(s *spec.Spec) {
			s.Hosts = []spec.Host{{Name: "gpu-1", Address: "tcp://gpu-1:2376"}}
		}, []string{`host "gpu-1": tls: "tcp://gpu-1:2376" is Docker's TLS port but the address is not https://`}},
		{"TLS on tcp:// is rejected, as docker_sd would ignore it", func(s *spec.Spec) {
			s.Hosts = []spec.Host{{Name: "gpu-1", Address: "tcp://gpu-1:2376", TLS: &spec.TLS{CAFile: "ca.pem"}}}
		}, []string{`host "gpu-1": address: "tcp://gpu-1:2376": docker_sd_configs ignores TLS and auth on tcp://; write https://gpu-1:2376`}},
		{"TLS on an http:// host is rejected", func(s *spec.Spec) {
			s.Hosts = []spec.Host{{Name: "gpu-1", Address: "http://gpu-1:2375", TLS: &spec.TLS{CAFile: "ca.pem"}}}
		}, []string{`host "gpu-1": tls: set, but "http://gpu-1:2375" is plain http://; write https://gpu-1:2375`}},
		{"TLS on a local socket is rejected", func(s *spec.Spec) {
			s.Hosts = []spec.Host{{Name: "local", Address: "unix:///var/run/docker.sock", TLS: &spec.TLS{CAFile: "ca.pem"}}}
		}, []string{`host "local": tls: "unix:///var/run/docker.sock" is a local socket`}},
		{"a client certificate without its key is named with the host and field", func(s *spec.Spec) {
			s.Hosts = []spec.Host{{Name: "gpu-1", Address: "https://gpu-1:2376", TLS: &spec.TLS{CAFile: "ca.pem", CertFile: "cert.pem"}}}
		}, []string{`host "gpu-1": tls.key_file: missing: cert_file "cert.pem" needs its key`}},
		{"basic auth without a password file is rejected", func(s *spec.Spec) {
			s.Hosts = []spec.Host{{Name: "gpu-1", Address: "https://gpu-1:2376", TLS: &spec.TLS{CAFile: "ca.pem"}, BasicAuth: &spec.BasicAuth{Username: "prometheus"}}}
		}, []string{`host "gpu-1": basic_auth.password_file: missing`}},
		{"the exporter's key without its certificate is named with the field", func(s *spec.Spec) {
			s.Prometheus.ExporterTLS = &spec.TLS{KeyFile: "key.pem"}
		}, []string{`prometheus.exporter_tls.cert_file: missing: key_file "key.pem" needs its certificate`}},
		{"a host without a name is located by its index", func(s *spec.Spec) {
			s.Hosts = []spec.Host{{Address: "tcp://a:2375"}}
		}, []string{`hosts[0].name: missing`}},
		{"a service whose alerts read its job must be scraped", func(s *spec.Spec) { s.Services[0].Scrape = spec.Scrape{} },
			[]string{`service "api": scrape.port: neither a port nor static targets, but alert "ApiDown" reads job "api"`}},
		{"a service no alert reads the job of needs no scrape settings", func(s *spec.Spec) {
			s.Services[0].Scrape = spec.Scrape{}
			s.Services[0].Alerts[0].Expr = spec.Filter(spec.Metric("docker_container_state", spec.Eq("compose_service", "api")), spec.OpEq, 0)
		}, nil},
		{"a static target that is not host:port is named with its index", func(s *spec.Spec) {
			s.Services[0].Scrape = spec.Scrape{Static: []string{"10.0.0.5:8000", "http://10.0.0.6:8000/metrics"}}
		}, []string{`service "api": scrape.static[1]: "http://10.0.0.6:8000/metrics" is not host:port`}},
		{"a port and static targets together are rejected", func(s *spec.Spec) { s.Services[0].Scrape.Static = []string{"a:1"} },
			[]string{`service "api": scrape.static: set either a port (Docker discovery) or static targets, not both`}},
		{"a port out of range is rejected", func(s *spec.Spec) { s.Services[0].Scrape.Port = 70000 },
			[]string{`service "api": scrape.port: 70000 is not a port`}},
		{"a relative metrics path is rejected", func(s *spec.Spec) { s.Services[0].Scrape.Path = "metrics" },
			[]string{`service "api": scrape.path: "metrics" must start with /`}},
		{"a scrape timeout above the interval is rejected", func(s *spec.Spec) {
			s.Prometheus = spec.Prometheus{ScrapeInterval: 5e9, ScrapeTimeout: 10e9}
		}, []string{`prometheus.scrape_timeout: 10s exceeds the scrape interval 5s`}},
		{"a spec without cAdvisor passes", func(s *spec.Spec) { s.Sources.WithoutCAdvisor = true }, nil},
		{"a cAdvisor job named for a spec without cAdvisor is rejected", func(s *spec.Spec) {
			s.Sources = spec.Sources{WithoutCAdvisor: true, CAdvisorJob: "cadv"}
		}, []string{`sources.cadvisor_job: "cadv" is set, but without_cadvisor says there is no cAdvisor`}},
		{"an alert on cAdvisor's job in a spec without cAdvisor is rejected", func(s *spec.Spec) {
			s.Sources.WithoutCAdvisor = true
			s.Services[0].Alerts[0].Expr = spec.Filter(spec.Metric("up", spec.Eq("job", spec.DefaultCAdvisorJob)), spec.OpEq, 0)
		}, []string{`service "api": alert "ApiDown": expr: reads job "cadvisor", which without_cadvisor leaves unscraped`}},
		{"a negative refresh interval is rejected", func(s *spec.Spec) { s.Prometheus.RefreshInterval = -1 },
			[]string{`prometheus: intervals and timeout must not be negative`}},
		{"scrape problems are reported with the others", func(s *spec.Spec) {
			s.Hosts = []spec.Host{{Name: "node-1"}, {Name: "node-1", Address: "tcp://b:2375"}}
			s.Services[0].Scrape = spec.Scrape{Static: []string{"nope"}}
			s.Services[0].Alerts[0].For = -1
		}, []string{`host "node-1": address: missing`, `host "node-1": name: duplicate host`, `scrape.static[0]: "nope" is not host:port`, `for: must not be negative`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkValidate(t, tc.mutate, tc.want) })
	}
}

func TestHostMachine(t *testing.T) {
	for addr, want := range map[string]string{
		"unix:///var/run/docker.sock": "localhost",
		"tcp://10.0.0.2:2375":         "10.0.0.2",
		"https://node-2.example.com":  "node-2.example.com",
	} {
		if got := (spec.Host{Address: addr}).Machine(); got != want {
			t.Errorf("Machine(%q) = %q, want %q", addr, got, want)
		}
	}
}
