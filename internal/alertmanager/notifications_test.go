package alertmanager_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sre-tools/promgen/internal/alertmanager"
	"github.com/sre-tools/promgen/internal/testenv"
	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
)

var update = flag.Bool("update", false, "rewrite the golden notifications under testdata/")

// notificationSpecs are the specs whose notifications are kept as golden
// texts: the gateway's, and the same without the team's words, which every
// message must do without.
func notificationSpecs() map[string]spec.Spec {
	plain := rules.Spec(rules.Production)
	plain.Routing.Incident = spec.Incident{}
	plain.Routing.RepeatBySeverity = nil
	plain.GrafanaURL = ""
	return map[string]spec.Spec{"gateway": rules.Spec(rules.Production), "plain": plain}
}

// show writes a receiver's rendered fields as a person reads them, one
// field after another.
func show(fields []alertmanager.Field) string {
	var b strings.Builder
	for _, f := range fields {
		fmt.Fprintf(&b, "── %s ──\n%s\n", f.Name, f.Value)
	}
	return b.String()
}

// TestNotificationsMatchTheirGoldenTexts renders every receiver's templated
// fields with Alertmanager's template package over a firing and a resolved
// outage and compares them with testdata/notifications (go test -update
// rewrites them; docs/notifications.md quotes them).
func TestNotificationsMatchTheirGoldenTexts(t *testing.T) {
	for name, s := range notificationSpecs() {
		cfg := alertmanager.Config(s)
		text := alertmanager.Templates(s)
		for _, g := range alertmanager.SampleGroups(s) {
			for _, rc := range cfg.Receivers {
				d := g.Data
				d.Receiver = rc.Name
				fields, err := alertmanager.Render(text, rc, &d)
				if err != nil {
					t.Fatal(err)
				}
				if len(fields) == 0 {
					continue // a webhook: Alertmanager posts its data as JSON
				}
				golden := filepath.Join("testdata", "notifications", name, rc.Name+"."+g.Name+".txt")
				got := show(fields)
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update)", err)
				}
				if got != string(want) {
					t.Errorf("%s drifted (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", golden, got, want)
				}
			}
		}
	}
}

// TestTheMessagesSayWhatTheRunbookSays reads the gateway's messages for the
// runbook's facts, so that a golden text rewritten with -update cannot lose
// them unnoticed.
func TestTheMessagesSayWhatTheRunbookSays(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", "notifications", "gateway", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for file, want := range map[string][]string{
		"slack-incidents.firing.txt": {"🚨 MAJOR INCIDENT: inference-gateway is down: OOM kill (exit code 137)",
			"Severity: P0 - All Hands (critical)", "Incident Commander: @oncall-engineer", "Started: 2025-10-23 15:45 UTC",
			"Root Cause: OOM kill (exit code 137)", "Restarts: 3", "Peak memory: 98.4% of the limit",
			"Runbook: https://runbooks.example.com/inference-gateway/service-down", "Dashboard: http://localhost:3000/",
			"Prometheus: http://localhost:9090/graph?", "Silence: http://localhost:9093/#/silences/new?filter=%7Bservice%3D%22inference-gateway%22%7D",
			"War Room: https://zoom.us/j/emergency", "Next Update: in 5 min, while it fires, in #incidents",
			// The runbook's Step 3 figures, from when the outage began: 1m
			// before the page, at 20 requests/s, against 43m12s of budget.
			"Down for: 1m 0s", "Requests failing: 20/s (the traffic before the outage)", "Requests lost: 1.2k (estimate)", "Error budget consumed: 2.315%"},
		// Each update carries the elapsed time and the impact anew.
		"slack-incidents.updated.txt":  {"🚨 MAJOR INCIDENT: inference-gateway is down: OOM kill (exit code 137)", "Down for: 6m 0s", "Requests lost: 7.2k (estimate)", "Error budget consumed: 13.89%", "Next Update: in 5 min"},
		"slack-incidents.resolved.txt": {"✅ RESOLVED [2025-10-23 15:53 UTC]", "Incident Duration: 8m0s", "Root Cause: OOM kill (exit code 137)", "Downtime: 9m 0s", "Requests lost: 10.8k (estimate)", "Error budget consumed: 20.83%", "Status: MONITORING"},
		"pagerduty.firing.txt":         {"── severity ──\ncritical\n", "── details.root_cause ──\nOOM kill (exit code 137)\n", "── links[3].href ──\nhttp://localhost:9093/#/silences/new?", "── details.requests_failing ──\n20/s\n", "── details.requests_lost ──\n1.2k\n"},
		"pagerduty.resolved.txt":       {"RESOLVED: inference-gateway is down: OOM kill (exit code 137)", "resolved after 8m0s, monitoring", "── details.downtime ──\n9m 0s\n", "── details.requests_lost ──\n10.8k\n", "── details.budget_consumed ──\n20.83%\n"},
	} {
		got := read(file)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s lacks %q:\n%s", file, w, got)
			}
		}
	}
}

// TestABadTemplateNamesItsReceiver: a template Alertmanager cannot parse,
// or one that reads a field its data lacks, fails the build's check with
// the receiver's name.
func TestABadTemplateNamesItsReceiver(t *testing.T) {
	s := rules.Spec(rules.Production)
	cfg := alertmanager.Config(s)
	good := string(alertmanager.Templates(s))
	for _, c := range []struct{ name, from, to, receiver string }{
		{"an unknown field of the data", `{{ define "promgen.slack.text" -}}`, `{{ define "promgen.slack.text" -}}{{ .Incident }}`, "slack-incidents"},
		{"an unknown field in PagerDuty's", `{{ define "promgen.pagerduty.severity" -}}`, `{{ define "promgen.pagerduty.severity" -}}{{ .Page.Key }}`, "pagerduty"},
		{"an unclosed action", `{{ define "promgen.time" }}`, `{{ define "promgen.time" }}{{ if }}`, "pagerduty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := strings.Replace(good, c.from, c.to, 1)
			if bad == good {
				t.Fatalf("%q is not in the template file", c.from)
			}
			err := alertmanager.CheckTemplates(s, cfg, []byte(bad))
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("receiver %q", c.receiver)) {
				t.Fatalf("got %v, want an error naming receiver %q", err, c.receiver)
			}
		})
	}
	if err := alertmanager.CheckTemplates(s, cfg, []byte(good)); err != nil {
		t.Fatal(err)
	}
}

// TestAmtoolRendersTheCommittedTemplates renders the committed template
// file with the pinned amtool (v0.28.1, the Alertmanager the stack runs)
// over the same data and expects the golden texts: the functions and
// fields the templates use exist in the Alertmanager that sends them.
func TestAmtoolRendersTheCommittedTemplates(t *testing.T) {
	amtool := testenv.Tool(t, "AMTOOL", "amtool")
	s := rules.Spec(rules.Production)
	committed := "../../generated/alertmanager/" + alertmanager.TemplateFile
	b, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, alertmanager.Templates(s)) {
		t.Fatalf("%s is stale: run go run ./cmd/promgen build", committed)
	}
	cfg := alertmanager.Config(s)
	for _, g := range alertmanager.SampleGroups(s) {
		for _, rc := range cfg.Receivers {
			d := g.Data
			d.Receiver = rc.Name
			want, err := alertmanager.Render(b, rc, &d)
			if err != nil {
				t.Fatal(err)
			}
			data, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			df := filepath.Join(t.TempDir(), "data.json")
			if err := os.WriteFile(df, data, 0o644); err != nil {
				t.Fatal(err)
			}
			texts := templatedFields(rc)
			for _, f := range want {
				out, err := exec.Command(amtool, "template", "render", "--template.glob="+committed,
					"--template.text="+texts[f.Name], "--template.data="+df).CombinedOutput()
				if err != nil {
					t.Fatalf("amtool template render %s %s (%s): %v\n%s", rc.Name, f.Name, g.Name, err, out)
				}
				if got := strings.TrimSuffix(string(out), "\n"); got != f.Value {
					t.Errorf("%s %s (%s): amtool renders\n%s\nwant\n%s", rc.Name, f.Name, g.Name, got, f.Value)
				}
			}
		}
	}
}

// templatedFields maps Render's field names to the receiver's templates.
func templatedFields(rc alertmanager.Receiver) map[string]string {
	out := map[string]string{}
	for _, c := range rc.SlackConfigs {
		out["title"], out["text"] = c.Title, c.Text
	}
	for _, c := range rc.PagerdutyConfigs {
		out["description"], out["severity"] = c.Description, c.Severity
		for k, v := range c.Details {
			out["details."+k] = v
		}
		for i, l := range c.Links {
			out[fmt.Sprintf("links[%d].text", i)] = l.Text
			out[fmt.Sprintf("links[%d].href", i)] = l.Href
		}
	}
	return out
}

// TestComposeRunsTheSpecsURLs: the stack's Prometheus and Alertmanager run
// with the external URLs the spec's links are written with, and
// Alertmanager finds the template file where its configuration names it.
func TestComposeRunsTheSpecsURLs(t *testing.T) {
	b, err := os.ReadFile("../../compose/docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Command []string `yaml:"command"`
			Volumes []string `yaml:"volumes"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatal(err)
	}
	s := rules.Spec(rules.Production)
	for svc, want := range map[string]string{
		"prometheus":   "--web.external-url=" + s.Prometheus.WithDefaults().ExternalURL,
		"alertmanager": "--web.external-url=" + s.Routing.AlertmanagerURL(),
	} {
		if !slices.Contains(compose.Services[svc].Command, want) {
			t.Errorf("compose service %s runs %v, want %s", svc, compose.Services[svc].Command, want)
		}
	}
	am := compose.Services["alertmanager"]
	cfg := ""
	for _, arg := range am.Command {
		if v, ok := strings.CutPrefix(arg, "--config.file="); ok {
			cfg = v
		}
	}
	mount := "../generated/alertmanager/" + alertmanager.TemplateFile + ":" + filepath.Join(filepath.Dir(cfg), alertmanager.TemplateFile) + ":ro"
	if cfg == "" || !slices.Contains(am.Volumes, mount) {
		t.Errorf("compose's alertmanager (config %q) does not mount %s", cfg, mount)
	}
}
