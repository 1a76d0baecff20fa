package generate

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	amconfig "github.com/prometheus/alertmanager/config"
	amtemplate "github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/rulefmt"
	yamlv2 "go.yaml.in/yaml/v2"
	"go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/sre-tools/promgen/internal/rulecheck"
	"github.com/sre-tools/promgen/spec"
)

// A text field of a spec that the string tests write arbitrary text into:
// how to set it, the names a refusal must give (service, alert, field),
// and where its loaders read it back.
type textField struct {
	name string
	// names must all appear in an error that refuses the text.
	names []string
	set   func(s *spec.Spec, text string)
	// read returns what the loaders of the written files read back where
	// the text went, each of which must equal it.
	read func(t *testing.T, files Files) []string
	// empty is what an empty text reads back as, when the spec gives the
	// field a default.
	empty string
}

// workerAlert is the alert of the fixture the string tests write into.
func workerAlert(s *spec.Spec) *spec.Alert { return &s.Services[1].Alerts[0] }

// firing is the worker alert's expected instance.
func firing(s *spec.Spec) *spec.Firing {
	return &workerAlert(s).Tests[0].Expect[1].Firing[0]
}

var textFields = []textField{
	{
		name: "summary", names: []string{"worker", "WorkerDown", "summary"},
		set: func(s *spec.Spec, text string) { workerAlert(s).Summary, firing(s).Summary = text, text },
		read: func(t *testing.T, files Files) []string {
			return []string{workerRule(t, files).Annotations["summary"], workerExpected(t, files).ExpAnnotations["summary"], kubernetesRule(t, files).Annotations["summary"]}
		},
	},
	{
		name: "description", names: []string{"worker", "WorkerDown", "description"},
		set: func(s *spec.Spec, text string) { workerAlert(s).Description, firing(s).Description = text, text },
		read: func(t *testing.T, files Files) []string {
			return []string{workerRule(t, files).Annotations["description"], workerExpected(t, files).ExpAnnotations["description"], kubernetesRule(t, files).Annotations["description"]}
		},
	},
	{
		name: "runbook_url", names: []string{"worker", "WorkerDown", "runbook_url"},
		set:   func(s *spec.Spec, text string) { workerAlert(s).RunbookURL = text },
		empty: "https://example.com/runbooks/all", // the spec's
		read: func(t *testing.T, files Files) []string {
			return []string{workerRule(t, files).Annotations["runbook_url"], workerExpected(t, files).ExpAnnotations["runbook_url"], kubernetesRule(t, files).Annotations["runbook_url"]}
		},
	},
	{
		name: "a label's value", names: []string{"worker", "WorkerDown", "labels"},
		set: func(s *spec.Spec, text string) { workerAlert(s).Labels = map[string]string{"team": text} },
		read: func(t *testing.T, files Files) []string {
			return []string{workerRule(t, files).Labels["team"], workerExpected(t, files).ExpLabels["team"], kubernetesRule(t, files).Labels["team"]}
		},
	},
	{
		name: "an incident commander", names: []string{"routing", "incident", "commander"},
		set: func(s *spec.Spec, text string) { s.Routing.Incident.Commander = text },
		read: func(t *testing.T, files Files) []string {
			return []string{renderTemplate(t, files, `{{ template "promgen.words.commander" . }}`)}
		},
	},
	{
		name: "a Slack channel", names: []string{"routing", "slack", "channel"},
		set: func(s *spec.Spec, text string) { s.Routing.Receivers[0].Slack.Channel = text },
		read: func(t *testing.T, files Files) []string {
			cfg, err := amconfig.Load(string(files["alertmanager/alertmanager.yml"]))
			if err != nil {
				t.Fatalf("Alertmanager's loader refuses the written alertmanager.yml: %v", err)
			}
			return []string{cfg.Receivers[0].SlackConfigs[0].Channel}
		},
	},
}

// parseTemplates parses a notification template file as Alertmanager does.
func parseTemplates(b []byte) error {
	t, err := amtemplate.New()
	if err != nil {
		return err
	}
	return t.Parse(bytes.NewReader(b))
}

// renderTemplate renders text with the written notification templates, as
// Alertmanager renders a receiver's field.
func renderTemplate(t *testing.T, files Files, text string) string {
	t.Helper()
	tmpl, err := amtemplate.New()
	if err == nil {
		err = tmpl.Parse(bytes.NewReader(files["alertmanager/notifications.tmpl"]))
	}
	if err != nil {
		t.Fatalf("Alertmanager refuses the written notifications.tmpl: %v", err)
	}
	out, err := tmpl.ExecuteTextString(text, &amtemplate.Data{})
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	return out
}

// stringsSpec is the fixture with a Slack receiver for every alert.
func stringsSpec() spec.Spec {
	s := fixture()
	s.Routing = spec.Routing{
		Receivers:  []spec.Receiver{{Name: "slack", Slack: &spec.Slack{APIURLFile: "/etc/alertmanager/slack", Channel: "#ops"}}},
		BySeverity: map[spec.Severity][]string{spec.Critical: {"slack"}, spec.Warning: {"slack"}},
		Default:    "slack",
	}
	// The Kubernetes target too: its PrometheusRule is written through
	// sigs.k8s.io/yaml, another YAML writer.
	s.Kubernetes = &spec.Kubernetes{Namespace: "monitoring"}
	s.Services[0].Kubernetes.Omit = true
	return s
}

// kubernetesRule is the worker's Kubernetes alert as the API server reads
// the written PrometheusRule.
func kubernetesRule(t *testing.T, files Files) monitoringv1.Rule {
	t.Helper()
	var pr monitoringv1.PrometheusRule
	if err := sigsyaml.UnmarshalStrict(files["kubernetes/prometheusrules/worker.yaml"], &pr); err != nil {
		t.Fatalf("the written PrometheusRule does not decode: %v", err)
	}
	return pr.Spec.Groups[0].Rules[0]
}

// workerRule is the worker alert as Prometheus loads the written rule file.
func workerRule(t *testing.T, files Files) rulefmt.Rule {
	t.Helper()
	rgs, errs := rulefmt.Parse(files["rules/worker.rules.yml"], false, model.UTF8Validation, rulecheck.Parser, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		t.Fatalf("rulefmt refuses the written rules/worker.rules.yml: %v", errs)
	}
	return rgs.Groups[0].Rules[0]
}

// workerExpected is the worker alert's expected instance as promtool reads
// the written test file (yaml v2, strictly).
func workerExpected(t *testing.T, files Files) expAlert {
	t.Helper()
	var f testFile
	if err := yamlv2.UnmarshalStrict(files["tests/worker.test.yml"], &f); err != nil {
		t.Fatalf("the written tests/worker.test.yml does not decode: %v", err)
	}
	return f.Tests[0].AlertRuleTest[1].ExpAlerts[0]
}

// checkText builds the strings spec with text in field, and requires that
// the build either refuses it naming the field's service, alert and field,
// or writes files that their own loaders read, text where it went.
func checkText(t *testing.T, f textField, text string) (refused bool) {
	t.Helper()
	s := stringsSpec()
	f.set(&s, text)
	s.Services[1].Kubernetes.Alerts = []spec.Alert{*workerAlert(&s)}
	files, err := Build(context.Background(), []Target{{Spec: s}}, Options{})
	if err != nil {
		for _, n := range f.names {
			if !strings.Contains(err.Error(), n) {
				t.Fatalf("%s %q: the build refuses it without naming %q: %v", f.name, text, n, err)
			}
		}
		return true
	}
	want := text
	if text == "" && f.empty != "" {
		want = f.empty
	}
	for _, got := range f.read(t, files) {
		if got != want {
			t.Fatalf("%s %q: the written files read back %q", f.name, text, got)
		}
	}
	// Every other file still reads with its own loader.
	if _, err := promconfig.Load(string(files["prometheus/prometheus.yml"]), slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("%s %q: Prometheus refuses the written prometheus.yml: %v", f.name, text, err)
	}
	for _, p := range files.Paths() {
		var v any
		switch {
		case strings.HasSuffix(p, ".json"):
			err = json.Unmarshal(files[p], &v)
		case strings.HasSuffix(p, ".tmpl"):
			err = parseTemplates(files[p])
		default:
			err = yaml.Unmarshal(files[p], &v)
		}
		if err != nil {
			t.Fatalf("%s %q: %s does not decode: %v", f.name, text, p, err)
		}
	}
	return false
}

// hostileTexts are what users and tools put in free text: tabs, line
// breaks at either end, CR, NUL, invalid UTF-8, templates, YAML's own
// indicators, and very long values.
var hostileTexts = []string{
	"\tSee the runbook.\n",
	"\nstarts with a line break",
	"ends with a line break\n",
	"ends with two line breaks\n\n",
	"\n",
	" ",
	"\t",
	"line one\r\nline two",
	"carriage\rreturn",
	"nul\x00byte",
	"bell\x07 and escape\x1b[0m",
	"delete\x7f",
	"C1 \u0085 next line and \u009b",
	"nonchar \uffff",
	"invalid \xff UTF-8",
	"\xc3\x28",
	"unicode line separator\u2028paragraph\u2029",
	"bom\ufeffinside",
	"{{ $labels.instance }} is down",
	"{{",
	"}}",
	"{{ .Broken",
	"- a list?",
	"key: value",
	"# a comment",
	"&anchor *alias !tag",
	"'single' \"double\" `back`",
	"| literal",
	"> folded",
	"--- document",
	"...",
	"null",
	"~",
	"true",
	"0x1F",
	"1e3",
	"  indented\n  twice\n",
	" lead\n\ttab",
	"trailing space \n ",
	"a\tb\tc",
	"#incidents",
	"https://example.com/runbooks/x#anchor",
	strings.Repeat("long value ", 10_000),
	strings.Repeat("line\n", 2_000),
}

// TestEveryTextRoundTrips writes each hostile text, and random
// concatenations of them, into every free-text field.
func TestEveryTextRoundTrips(t *testing.T) {
	texts := append([]string{}, hostileTexts...)
	rng := rand.New(rand.NewPCG(23, 1))
	for range 40 {
		var b strings.Builder
		for range 1 + rng.IntN(4) {
			h := hostileTexts[rng.IntN(len(hostileTexts))]
			b.WriteString(h[:min(len(h), 200)])
		}
		texts = append(texts, b.String())
	}
	for _, f := range textFields {
		t.Run(f.name, func(t *testing.T) {
			refused := 0
			for _, text := range texts {
				if checkText(t, f, text) {
					refused++
				}
			}
			t.Logf("%d texts written and read back, %d refused", len(texts)-refused, refused)
		})
	}
}

// FuzzBuildStrings writes arbitrary text into a free-text field of a spec:
// `go test -fuzz FuzzBuildStrings ./internal/generate`. Its seeds, every
// hostile text in every field, run with go test.
func FuzzBuildStrings(f *testing.F) {
	for i := range textFields {
		for _, text := range hostileTexts {
			f.Add(uint8(i), text)
		}
	}
	f.Fuzz(func(t *testing.T, field uint8, text string) {
		checkText(t, textFields[int(field)%len(textFields)], text)
	})
}
