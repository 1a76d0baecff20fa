package lint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseConfigErrorsNameFileAndLine(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"an unknown check", "checks:\n  no-such-check: off\n", []string{`lint.yml:2: checks: unknown check "no-such-check"`}},
		{"a bad setting", "checks:\n  rate-range: loud\n", []string{`lint.yml:2: checks: rate-range: "loud" is not off, on, error, warning or info`}},
		{"a bad rule regexp and a bad glob, both",
			"overrides:\n  - paths: ['a/[b']\n    rules: ['Kube(']\n",
			[]string{`lint.yml:2: paths: bad glob "a/[b"`, `lint.yml:3: rules: bad regexp "Kube("`}},
		{"a bad name pattern", "conventions:\n  alert_name: '^[A-Z'\n", []string{`lint.yml:2: conventions: alert_name: bad regexp "^[A-Z"`}},
		{"a bad scrape interval", "scrape_interval: often\n", []string{`lint.yml:1: scrape_interval: "often" is not a positive duration`}},
		{"an unknown field", "check:\n  rate-range: off\n", []string{`lint.yml:1: field check not found`}},
		{"not YAML", "scrape_interval: 30s\nchecks: [\n", []string{`lint.yml:2: did not find expected node content`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("lint.yml", []byte(tc.in))
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

func TestPolicyResolution(t *testing.T) {
	pol, err := ParseConfig("lint.yml", []byte(`
scrape_interval: 30s
checks:
  record-name: off
  alert-condition: warning
conventions:
  labels:
    team: []
    severity: [page, ticket]
  annotations: [runbook_url]
overrides:
  - paths: ["generated/**"]
    conventions: promgen
    scrape_interval: 15s
  - paths: ["./vendor/*.yml"]
    rules: ["Kube.*"]
    conventions: none
    checks:
      record-name: on
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, rule string
		interval         time.Duration
		labels           string
		recordName       Setting
	}{
		{"the top level applies everywhere", "rules/a.yml", "X", 30 * time.Second, "severity,team", SettingOff},
		{"a path glob with ** replaces the conventions and the interval", "generated/rules/x.yml", "X", 15 * time.Second, "severity", SettingOff},
		{"a path and rule override applies to matching rules", "vendor/k.yml", "KubeDown", 30 * time.Second, "", SettingOn},
		{"a rule regexp must match the whole name", "vendor/k.yml", "NotKube", 30 * time.Second, "severity,team", SettingOff},
		{"* stays within a folder", "vendor/sub/k.yml", "KubeDown", 30 * time.Second, "severity,team", SettingOff},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eff := pol.For(tc.path, tc.rule)
			if eff.ScrapeInterval != tc.interval {
				t.Errorf("scrape interval %s, want %s", eff.ScrapeInterval, tc.interval)
			}
			labels := ""
			if eff.Conventions != nil {
				var names []string
				for n := range eff.Conventions.Labels {
					names = append(names, n)
				}
				labels = strings.Join(sortStrings(names), ",")
			}
			if labels != tc.labels {
				t.Errorf("required labels %q, want %q", labels, tc.labels)
			}
			if got := eff.setting("record-name"); got != tc.recordName {
				t.Errorf("record-name %q, want %q", got, tc.recordName)
			}
		})
	}
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

// The defaults: correctness checks on everywhere, conventions nowhere.
func TestDefaultPolicyLeavesConventionsOff(t *testing.T) {
	in := `groups:
- name: g
  rules:
  - alert: etcdMembersDown
    expr: up == 0
    labels:
      severity: none
`
	for _, tc := range []struct {
		name string
		pol  *Policy
		want int
	}{
		{"without a policy, a foreign file's names, severities and annotations are its own", nil, 0},
		{"under the house policy they are errors", HousePolicy(), 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := Lint([]File{{Path: "rules.yml", Content: []byte(in)}}, Config{Policy: tc.pol})
			if len(ps) != tc.want {
				t.Errorf("got %d problems, want %d: %v", len(ps), tc.want, ps)
			}
		})
	}
}

func TestSeverityAndCheckSettingsApply(t *testing.T) {
	in := `groups:
- name: g
  rules:
  - alert: Flapping
    expr: up > 1
  - alert: Guess
    expr: jobs_total > 3
`
	pol, err := ParseConfig("lint.yml", []byte("checks:\n  impossible-comparison: warning\n  counter-functions: error\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range Lint([]File{{Path: "rules.yml", Content: []byte(in)}}, Config{Policy: pol}) {
		got = append(got, string(p.Severity)+" "+p.Check)
	}
	// A hint from a guess stays a hint whatever severity the check gets.
	want := []string{"warning impossible-comparison", "info counter-functions"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFindConfigStopsAtTheRepositoryRoot(t *testing.T) {
	root := t.TempDir()
	sub := filepath.Join(root, "repo", "rules", "deep")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	// A config above the repository does not apply to it.
	if err := os.WriteFile(filepath.Join(root, ".promgen-lint.yml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "repo", ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := FindConfig(sub); err != nil || got != "" {
		t.Errorf("found %q (%v) outside the repository", got, err)
	}
	cfg := filepath.Join(root, "repo", ".promgen-lint.yml")
	if err := os.WriteFile(cfg, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := FindConfig(sub); err != nil || got != cfg {
		t.Errorf("found %q (%v), want %q", got, err, cfg)
	}
}
