package generate

import (
	"context"
	"log/slog"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery/moby"
	"github.com/prometheus/prometheus/discovery/targetgroup"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/prometheus/prometheus/scrape"
	"go.yaml.in/yaml/v3"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/internal/testenv"
	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
)

// loadPrometheus renders s's prometheus.yml and loads it with Prometheus'
// own loader.
func loadPrometheus(t *testing.T, s spec.Spec) *config.Config {
	t.Helper()
	files, err := renderPrometheus(Target{Spec: s})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(string(files["prometheus/prometheus.yml"]), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// targetLabels runs Prometheus' own target labelling (relabel_configs
// included) over a discovered target of job, and returns its labels
// without the internal ones.
func targetLabels(t *testing.T, cfg *config.Config, job string, discovered model.LabelSet) map[string]string {
	t.Helper()
	scs, err := cfg.GetScrapeConfigs()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(scs, func(c *config.ScrapeConfig) bool { return c.JobName == job })
	if i < 0 {
		t.Fatalf("no scrape job %q", job)
	}
	ls, err := scrape.PopulateLabels(labels.NewBuilder(labels.EmptyLabels()), scs[i], discovered, nil)
	if err != nil {
		t.Fatalf("job %q: %v", job, err)
	}
	out := map[string]string{}
	ls.Range(func(l labels.Label) {
		if !strings.HasPrefix(l.Name, "__") {
			out[l.Name] = l.Value
		}
	})
	out[model.AddressLabel] = ls.Get(model.AddressLabel)
	return out
}

// container is what docker_sd_configs discovers for a compose container.
func container(name, service, project, networkMode, address, ip string) model.LabelSet {
	return model.LabelSet{
		model.AddressLabel:                            model.LabelValue(address),
		"__meta_docker_container_name":                model.LabelValue("/" + name),
		"__meta_docker_container_network_mode":        model.LabelValue(networkMode),
		"__meta_docker_network_ip":                    model.LabelValue(ip),
		dockerMeta(catalog.DockerLabelComposeService): model.LabelValue(service),
		dockerMeta(catalog.DockerLabelComposeProject): model.LabelValue(project),
	}
}

// withPort adds the prometheus.io/port label to a discovered container.
func withPort(c model.LabelSet, port string) model.LabelSet {
	c[dockerMeta(catalog.DockerLabelMetricsPort)] = model.LabelValue(port)
	return c
}

func TestDiscoveredContainersCarryTheExportersLabelsAndTheirHost(t *testing.T) {
	s := rules.Spec(rules.Production)
	s.Hosts = []spec.Host{
		{Name: "node-1", Address: "unix:///var/run/docker.sock"},
		{Name: "node-2", Address: "tcp://10.0.0.2:2375"},
	}
	cfg := loadPrometheus(t, s)
	gw := rules.GatewayService
	cases := []struct {
		name, job  string
		discovered model.LabelSet
		want       map[string]string
	}{
		{
			name:       "a host-network container on the local host is scraped on loopback at the service's port",
			job:        gw + "@node-1",
			discovered: container("promgen-inference-gateway-1", gw, "promgen", "host", "localhost", ""),
			want: map[string]string{"__address__": "localhost:8000", "instance": "localhost:8000", "job": gw, "host": "node-1",
				"name": "promgen-inference-gateway-1", "compose_project": "promgen", "compose_service": gw},
		},
		{
			name:       "a host-network container on a remote host is scraped at that host",
			job:        gw + "@node-2",
			discovered: container("promgen-inference-gateway-2", gw, "promgen", "host", "10.0.0.2", ""),
			want: map[string]string{"__address__": "10.0.0.2:8000", "instance": "10.0.0.2:8000", "job": gw, "host": "node-2",
				"name": "promgen-inference-gateway-2", "compose_project": "promgen", "compose_service": gw},
		},
		{
			name:       "a host-network replica labelled with its own port is scraped at that port",
			job:        gw + "@node-1",
			discovered: withPort(container("promgen-2-inference-gateway-1", gw, "promgen-2", "host", "localhost", ""), "8001"),
			want: map[string]string{"__address__": "localhost:8001", "instance": "localhost:8001", "job": gw, "host": "node-1",
				"name": "promgen-2-inference-gateway-1", "compose_project": "promgen-2", "compose_service": gw},
		},
		{
			name:       "a bridge container labelled with its port is scraped at its address and that port",
			job:        gw + "@node-2",
			discovered: withPort(container("promgen-inference-gateway-1", gw, "promgen", "bridge", "172.17.0.2:9999", "172.17.0.2"), "9100"),
			want: map[string]string{"__address__": "172.17.0.2:9100", "instance": "172.17.0.2:9100", "job": gw, "host": "node-2",
				"name": "promgen-inference-gateway-1", "compose_project": "promgen", "compose_service": gw},
		},
		{
			name:       "a bridge container exposing another port is scraped at its address and the service's port",
			job:        gw + "@node-2",
			discovered: container("promgen-inference-gateway-1", gw, "promgen", "bridge", "172.17.0.2:9999", "172.17.0.2"),
			want: map[string]string{"__address__": "172.17.0.2:8000", "instance": "172.17.0.2:8000", "job": gw, "host": "node-2",
				"name": "promgen-inference-gateway-1", "compose_project": "promgen", "compose_service": gw},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := targetLabels(t, cfg, tc.job, tc.discovered); !maps.Equal(got, tc.want) {
				t.Errorf("got %v\nwant %v", got, tc.want)
			}
		})
	}
}

// published is what docker_sd_configs discovers for one listed port of a
// container: the private port and, when Docker publishes it, the public one.
func published(c model.LabelSet, private, public string) model.LabelSet {
	c = maps.Clone(c)
	c["__meta_docker_port_private"] = model.LabelValue(private)
	if public != "" {
		c["__meta_docker_port_public"] = model.LabelValue(public)
		c["__meta_docker_port_public_ip"] = "0.0.0.0"
	}
	return c
}

// TestRemoteContainersAreScrapedAtTheirPublishedPort: a bridge IP on
// another machine is out of Prometheus' reach, the port Docker publishes on
// that machine's address is not.
func TestRemoteContainersAreScrapedAtTheirPublishedPort(t *testing.T) {
	s := rules.Spec(rules.Production)
	s.Hosts = []spec.Host{
		{Name: "node-1", Address: "unix:///var/run/docker.sock"},
		{Name: "node-2", Address: "https://node-2.example.com:2376", TLS: &spec.TLS{CAFile: "ca.pem"}},
	}
	cfg := loadPrometheus(t, s)
	gw := rules.GatewayService
	bridge := container("promgen-inference-gateway-1", gw, "promgen", "promgen_default", "172.18.0.2:8000", "172.18.0.2")
	labels := func(host, addr string) map[string]string {
		return map[string]string{"__address__": addr, "instance": addr, "job": gw, "host": host,
			"name": "promgen-inference-gateway-1", "compose_project": "promgen", "compose_service": gw}
	}
	cases := []struct {
		name, job  string
		discovered model.LabelSet
		want       map[string]string // nil: dropped
	}{
		{"a remote container's published metrics port is scraped on the host's address",
			gw + "@node-2", published(bridge, "8000", "32768"), labels("node-2", "node-2.example.com:32768")},
		{"a remote container's other published port is no target",
			gw + "@node-2", published(bridge, "8443", "32769"), nil},
		{"a remote container's port labelled prometheus.io/port is scraped where it is published",
			gw + "@node-2", published(withPort(maps.Clone(bridge), "9100"), "9100", "32770"), labels("node-2", "node-2.example.com:32770")},
		{"a stopped remote container, with no port listed, stays a target",
			gw + "@node-2", bridge, labels("node-2", "172.18.0.2:8000")},
		{"a local container is still scraped at its bridge IP",
			gw + "@node-1", published(bridge, "8000", "32768"), labels("node-1", "172.18.0.2:8000")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := targetLabels(t, cfg, tc.job, tc.discovered)
			if tc.want == nil {
				if got[model.AddressLabel] != "" {
					t.Errorf("got target %v, want it dropped", got)
				}
				return
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("got %v\nwant %v", got, tc.want)
			}
		})
	}
}

// TestRemoteHostsAndTheExporterGetTheirTLSAndAuth: dockerd --tlsverify and
// an exporter behind --web.config.file refuse a client without them.
func TestRemoteHostsAndTheExporterGetTheirTLSAndAuth(t *testing.T) {
	s := rules.Spec(rules.Production)
	tls := &spec.TLS{CAFile: "/etc/prometheus/docker/ca.pem", CertFile: "/etc/prometheus/docker/cert.pem", KeyFile: "/etc/prometheus/docker/key.pem", ServerName: "node-2"}
	auth := &spec.BasicAuth{Username: "prometheus", PasswordFile: "/etc/prometheus/exporter/password"}
	s.Hosts = []spec.Host{{Name: "node-2", Address: "https://10.0.0.2:2376", TLS: tls}}
	s.Prometheus.ExporterTLS = &spec.TLS{CAFile: "/etc/prometheus/exporter/ca.pem"}
	s.Prometheus.ExporterBasicAuth = auth
	cfg := loadPrometheus(t, s)
	job := func(name string) *config.ScrapeConfig {
		i := slices.IndexFunc(cfg.ScrapeConfigs, func(c *config.ScrapeConfig) bool { return c.JobName == name })
		if i < 0 {
			t.Fatalf("no job %s", name)
		}
		return cfg.ScrapeConfigs[i]
	}
	sd, ok := job(rules.GatewayService).ServiceDiscoveryConfigs[0].(*moby.DockerSDConfig)
	if !ok {
		t.Fatalf("gateway job discovers with %T", job(rules.GatewayService).ServiceDiscoveryConfigs[0])
	}
	if c := sd.HTTPClientConfig.TLSConfig; c.CAFile != tls.CAFile || c.CertFile != tls.CertFile || c.KeyFile != tls.KeyFile || c.ServerName != tls.ServerName {
		t.Errorf("docker_sd TLS %+v, want %+v", c, tls)
	}
	ex := job(spec.DefaultExporterJob)
	if ex.Scheme != "https" || ex.HTTPClientConfig.TLSConfig.CAFile != "/etc/prometheus/exporter/ca.pem" {
		t.Errorf("exporter job scheme %q, TLS %+v", ex.Scheme, ex.HTTPClientConfig.TLSConfig)
	}
	if b := ex.HTTPClientConfig.BasicAuth; b == nil || b.Username != auth.Username || b.PasswordFile != auth.PasswordFile || b.Password != "" {
		t.Errorf("exporter job basic auth %+v, want user %q and password file %q", b, auth.Username, auth.PasswordFile)
	}
	if c := job(spec.DefaultCAdvisorJob); c.Scheme != "http" || c.HTTPClientConfig.BasicAuth != nil {
		t.Errorf("cAdvisor job took the exporter's settings: %+v", c)
	}
}

func TestOneHostKeepsTheJobNameAndLabelsTheSourcesWithTheHost(t *testing.T) {
	cfg := loadPrometheus(t, rules.Spec(rules.Production))
	var jobs []string
	for _, sc := range cfg.ScrapeConfigs {
		jobs = append(jobs, sc.JobName)
		if !sc.HonorTimestamps || !sc.EnableCompression || !sc.HTTPClientConfig.FollowRedirects || sc.MetricsPath != "/metrics" {
			t.Errorf("job %s does not have Prometheus' defaults: %+v", sc.JobName, sc)
		}
	}
	if want := []string{rules.GatewayService, spec.DefaultExporterJob, spec.DefaultCAdvisorJob, spec.DefaultPrometheusJob, spec.DefaultAlertmanagerJob}; !slices.Equal(jobs, want) {
		t.Fatalf("jobs %v, want %v", jobs, want)
	}
	got := targetLabels(t, cfg, rules.GatewayService, container("promgen-inference-gateway-1", rules.GatewayService, "promgen", "host", "localhost", ""))
	if got["host"] != spec.DefaultHost.Name || got["job"] != rules.GatewayService || got["__address__"] != "localhost:8000" {
		t.Errorf("gateway target %v", got)
	}
	for _, job := range []string{spec.DefaultExporterJob, spec.DefaultCAdvisorJob} {
		sc := cfg.ScrapeConfigs[slices.IndexFunc(cfg.ScrapeConfigs, func(c *config.ScrapeConfig) bool { return c.JobName == job })]
		g := staticGroups(t, sc)
		if len(g) != 1 || g[0].Labels[catalog.LabelHost] != model.LabelValue(spec.DefaultHost.Name) {
			t.Errorf("job %s: want one target group with host %q, got %v", job, spec.DefaultHost.Name, g)
		}
	}
	want := []string{"../rules/inference-gateway.rules.yml", "../rules/promgen-pipeline.rules.yml"}
	if !slices.Equal(cfg.RuleFiles, want) {
		t.Errorf("rule files %v, want %v", cfg.RuleFiles, want)
	}
}

func TestWithoutCAdvisorScrapesNoCAdvisor(t *testing.T) {
	s := rules.Spec(rules.Production)
	s.Sources.WithoutCAdvisor = true
	var jobs []string
	for _, sc := range loadPrometheus(t, s).ScrapeConfigs {
		jobs = append(jobs, sc.JobName)
	}
	if want := []string{rules.GatewayService, spec.DefaultExporterJob, spec.DefaultPrometheusJob, spec.DefaultAlertmanagerJob}; !slices.Equal(jobs, want) {
		t.Errorf("jobs %v, want %v", jobs, want)
	}
}

// TestPrometheusScrapesItselfAndItsAlertmanagers: the self-alerts read
// Prometheus' and Alertmanager's own metrics, from the addresses the spec
// says they listen at.
func TestPrometheusScrapesItselfAndItsAlertmanagers(t *testing.T) {
	s := rules.Spec(rules.Production)
	s.Prometheus.Address = "prom.example.com:9090"
	s.Prometheus.Alertmanagers = []string{"am-1.example.com:9093", "am-2.example.com:9093"}
	cfg := loadPrometheus(t, s)
	for job, want := range map[string][]string{
		spec.DefaultPrometheusJob:   {"prom.example.com:9090"},
		spec.DefaultAlertmanagerJob: {"am-1.example.com:9093", "am-2.example.com:9093"},
	} {
		i := slices.IndexFunc(cfg.ScrapeConfigs, func(c *config.ScrapeConfig) bool { return c.JobName == job })
		if i < 0 {
			t.Fatalf("no job %s", job)
		}
		var got []string
		for _, g := range staticGroups(t, cfg.ScrapeConfigs[i]) {
			for _, tg := range g.Targets {
				got = append(got, string(tg[model.AddressLabel]))
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("job %s scrapes %v, want %v", job, got, want)
		}
	}
}

func TestStaticTargetsCarryTheComposeLabelsButNoName(t *testing.T) {
	s := rules.Spec(rules.Production)
	s.Services[0].Scrape = spec.Scrape{Static: []string{"10.0.0.5:8000"}}
	cfg := loadPrometheus(t, s)
	sc := cfg.ScrapeConfigs[0]
	g := staticGroups(t, sc)
	if len(g) != 1 || len(g[0].Targets) != 1 || g[0].Targets[0][model.AddressLabel] != "10.0.0.5:8000" {
		t.Fatalf("static groups %v", g)
	}
	got := targetLabels(t, cfg, rules.GatewayService, g[0].Targets[0].Merge(g[0].Labels))
	want := map[string]string{"__address__": "10.0.0.5:8000", "instance": "10.0.0.5:8000", "job": rules.GatewayService, "compose_service": rules.GatewayService}
	if !maps.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// staticGroups returns a job's static target groups.
func staticGroups(t *testing.T, sc *config.ScrapeConfig) []*targetgroup.Group {
	t.Helper()
	var out []*targetgroup.Group
	for _, c := range sc.ServiceDiscoveryConfigs {
		b, err := yaml.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var gs []*targetgroup.Group
		if err := yaml.Unmarshal(b, &gs); err != nil {
			t.Fatalf("job %s: not a static config: %v", sc.JobName, err)
		}
		out = append(out, gs...)
	}
	return out
}

// TestGeneratedPrometheusConfigPassesPromtool runs promtool check config on
// every profile's prometheus.yml, beside the rule files it names.
func TestGeneratedPrometheusConfigPassesPromtool(t *testing.T) {
	promtool := testenv.Promtool(t)
	var targets []Target
	for _, p := range rules.Profiles {
		targets = append(targets, Target{Dir: p.Name, Spec: rules.Spec(p)})
	}
	files, err := Build(context.Background(), targets, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Write(dir, files); err != nil {
		t.Fatal(err)
	}
	for _, p := range rules.Profiles {
		cfg := filepath.Join(dir, p.Name, "prometheus", "prometheus.yml")
		out, err := exec.Command(promtool, "check", "config", cfg).CombinedOutput()
		if err != nil {
			t.Errorf("promtool check config %s: %v\n%s", p.Name, err, out)
		}
		if !strings.Contains(string(out), "SUCCESS: 2 rule files found") {
			t.Errorf("promtool check config %s did not find the two rule files:\n%s", p.Name, out)
		}
	}
}

// TestRelabelDefaultsLeftOutComeBackOnLoad: the file leaves out what
// Prometheus defaults in a relabelling (the replace action, the regex
// (.*)), and Prometheus' loader reads back each rule as it was built.
func TestRelabelDefaultsLeftOutComeBackOnLoad(t *testing.T) {
	s := rules.Spec(rules.Production)
	cfg := prometheusConfig(s)
	b, err := marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, def := range []string{"action: replace", "regex: (.*)\n"} {
		if strings.Contains(string(b), def) {
			t.Errorf("the file spells out the default %q", def)
		}
	}
	loaded, err := config.Load(string(b), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, sc := range cfg.ScrapeConfigs {
		got := loaded.ScrapeConfigs[i].RelabelConfigs
		if len(got) != len(sc.RelabelConfigs) {
			t.Fatalf("job %s: %d relabellings loaded, %d built", sc.JobName, len(got), len(sc.RelabelConfigs))
		}
		for j, want := range sc.RelabelConfigs {
			g := got[j]
			if g.Action != relabel.Replace || g.Regex.String() != want.Regex.String() || g.TargetLabel != want.TargetLabel ||
				g.Replacement != want.Replacement || g.Separator != want.Separator || !slices.Equal(g.SourceLabels, want.SourceLabels) {
				t.Errorf("job %s, relabelling %d: loaded %+v, built %+v", sc.JobName, j, *g, *want)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no relabelling compared")
	}
}
