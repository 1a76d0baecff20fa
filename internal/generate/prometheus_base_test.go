package generate

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"

	"github.com/sre-tools/promgen/internal/testenv"
	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
)

// teamBase is what a team's own prometheus.yml holds before it adopts
// promgen: its labels, its node_exporter job, remote storage with a
// password from a file, and an alert relabelling.
const teamBase = `global:
  external_labels:
    cluster: prod-eu
    replica: ${HOSTNAME}
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ["node-1:9100", "node-2:9100"]
remote_write:
  - url: https://metrics.example.com/api/v1/write
    basic_auth:
      username: team
      password_file: /etc/prometheus/remote-write.password
alerting:
  alert_relabel_configs:
    - action: labeldrop
      regex: replica
`

// withBaseFile is the gateway's spec with a base file holding content.
func withBaseFile(t *testing.T, content string) spec.Spec {
	t.Helper()
	path := filepath.Join(t.TempDir(), "prometheus-base.yml")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	s := rules.Spec(rules.Production)
	s.Prometheus.Base = path
	return s
}

// TestATeamsPrometheusConfigKeepsItsOwnAndGainsPromgens: a team with its
// own prometheus.yml names it as the base; the generated file keeps every
// setting and job of the team's, and has promgen's rule files, jobs and
// Alertmanagers beside them.
func TestATeamsPrometheusConfigKeepsItsOwnAndGainsPromgens(t *testing.T) {
	s := withBaseFile(t, teamBase)
	files, err := renderPrometheus(Target{Spec: s})
	if err != nil {
		t.Fatal(err)
	}
	b := files["prometheus/prometheus.yml"]
	cfg, err := config.Load(string(b), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	// The label the team writes as ${HOSTNAME} stays a reference for the
	// Prometheus that loads the file, not the build machine's name.
	if !strings.Contains(string(b), "replica: ${HOSTNAME}") {
		t.Errorf("the external label ${HOSTNAME} is not kept as written:\n%s", b)
	}
	if got := cfg.GlobalConfig.ExternalLabels.Get("cluster"); got != "prod-eu" {
		t.Errorf("external label cluster = %q, want prod-eu", got)
	}
	var jobs []string
	for _, sc := range cfg.ScrapeConfigs {
		jobs = append(jobs, sc.JobName)
	}
	for _, want := range []string{"node", rules.GatewayService, spec.DefaultExporterJob} {
		if !slices.Contains(jobs, want) {
			t.Errorf("no job %q in %v", want, jobs)
		}
	}
	node := cfg.ScrapeConfigs[slices.Index(jobs, "node")]
	if want := model.Duration(spec.DefaultScrapeInterval); node.ScrapeInterval != want {
		t.Errorf("the team's job is scraped every %s, want the spec's %s", node.ScrapeInterval, want)
	}
	if len(cfg.RemoteWriteConfigs) != 1 || cfg.RemoteWriteConfigs[0].HTTPClientConfig.BasicAuth.PasswordFile != "/etc/prometheus/remote-write.password" {
		t.Errorf("remote_write not kept: %+v", cfg.RemoteWriteConfigs)
	}
	if len(cfg.AlertingConfig.AlertRelabelConfigs) != 1 || len(cfg.AlertingConfig.AlertmanagerConfigs) != 1 {
		t.Errorf("alerting: %d relabellings, %d Alertmanager configs; want the team's one and promgen's one",
			len(cfg.AlertingConfig.AlertRelabelConfigs), len(cfg.AlertingConfig.AlertmanagerConfigs))
	}
	if len(cfg.RuleFiles) != len(groups(s)) {
		t.Errorf("rule files %v, want one per group (%d)", cfg.RuleFiles, len(groups(s)))
	}
	for _, section := range []string{"storage:", "runtime:"} {
		if strings.Contains(string(b), section) {
			t.Errorf("a %s section the base does not have, which would override Prometheus' flags:\n%s", section, b)
		}
	}
}

// TestABaseThatDisagreesIsRefused: each base a team could write that
// would make its file and promgen's disagree is refused, naming the base
// file's line and what to do.
func TestABaseThatDisagreesIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name, base string
		want       []string
	}{
		{"a job named as the gateway's", "scrape_configs:\n  - job_name: node\n    static_configs: [{targets: [\"a:1\"]}]\n  - job_name: inference-gateway\n    static_configs: [{targets: [\"b:1\"]}]\n",
			[]string{"prometheus-base.yml:4:", `job "inference-gateway" is also promgen's job for service "inference-gateway"`}},
		{"a job named as the exporter's", "scrape_configs:\n  - job_name: " + spec.DefaultExporterJob + "\n    static_configs: [{targets: [\"b:1\"]}]\n",
			[]string{"prometheus-base.yml:2:", "the alerting pipeline"}},
		{"another scrape interval", "global:\n  scrape_interval: 30s\n",
			[]string{"prometheus-base.yml:2:", "global.scrape_interval is 30s, the spec's is 15s", "Prometheus.ScrapeInterval"}},
		{"another evaluation interval", "global:\n  evaluation_interval: 1m\n",
			[]string{"prometheus-base.yml:2:", "global.evaluation_interval is 1m, the spec's is 15s"}},
		{"Alertmanagers of its own", "alerting:\n  alertmanagers:\n    - static_configs: [{targets: [\"am:9093\"]}]\n",
			[]string{"prometheus-base.yml:3:", "name the Alertmanagers in the spec"}},
		{"an inline password", "remote_write:\n  - url: https://m.example.com/write\n    basic_auth: {username: u, password: hunter2}\n",
			[]string{"an inline secret (password", "password_file"}},
		{"a field Prometheus does not know", "global:\n  scrape_intervall: 15s\n",
			[]string{"Prometheus' config loader rejects it", "line 2", "scrape_intervall"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := renderPrometheus(Target{Spec: withBaseFile(t, tc.base)})
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error repeats the secret: %v", err)
			}
		})
	}
	t.Run("a base file that is not there", func(t *testing.T) {
		s := rules.Spec(rules.Production)
		s.Prometheus.Base = filepath.Join(t.TempDir(), "missing.yml")
		if _, err := renderPrometheus(Target{Spec: s}); err == nil || !strings.Contains(err.Error(), "missing.yml") {
			t.Errorf("got %v, want an error naming the file", err)
		}
	})
}

// TestTheMergedConfigRunsInARealPrometheus starts the pinned Prometheus on
// 127.0.0.1 with a build's merged prometheus.yml: it loads the rules, and
// its running configuration holds the team's job and labels beside
// promgen's.
func TestTheMergedConfigRunsInARealPrometheus(t *testing.T) {
	bin := testenv.Tool(t, "PROMETHEUS", "prometheus")
	s := withBaseFile(t, teamBase)
	files, err := Build(context.Background(), []Target{{Spec: s}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Write(filepath.Join(dir, "out"), files); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "out", "prometheus", "prometheus.yml"),
		"--web.listen-address="+addr, "--storage.tsdb.path="+filepath.Join(dir, "data"))
	cmd.Env = append(os.Environ(), "HOSTNAME=prom-a")
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	var status struct {
		Data struct {
			YAML string `json:"yaml"`
		} `json:"data"`
	}
	var rulesAPI struct {
		Data struct {
			Groups []struct {
				Name string `json:"name"`
			} `json:"groups"`
		} `json:"data"`
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		err := getJSON("http://"+addr+"/api/v1/status/config", &status)
		if err == nil {
			err = getJSON("http://"+addr+"/api/v1/rules", &rulesAPI)
		}
		if err == nil && len(rulesAPI.Data.Groups) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus at %s not serving its config and rules within 60s (last error %v)\n%s", addr, err, log.String())
		}
	}
	for _, want := range []string{"job_name: node", "job_name: " + rules.GatewayService, "cluster: prod-eu", "replica: prom-a", "remote_write:"} {
		if !strings.Contains(status.Data.YAML, want) {
			t.Errorf("the running configuration lacks %q:\n%s", want, status.Data.YAML)
		}
	}
	// Every group of the rule files written: a service's slow group too.
	want := 0
	for _, g := range groups(s) {
		want += len(ruleGroups(s, g, &spec.Printer{}).Groups)
	}
	if len(rulesAPI.Data.Groups) != want {
		t.Errorf("%d rule groups loaded, want the rule files' %d", len(rulesAPI.Data.Groups), want)
	}
}

func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
