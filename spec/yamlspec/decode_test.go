package yamlspec

import (
	"errors"
	"strings"
	"testing"

	"github.com/sre-tools/promgen/spec"
)

func TestParseReportsEveryProblemAtItsLineAndColumn(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{
			name: "an unknown field and a misspelt one, in two services",
			yaml: "services:\n  - name: a\n    colour: red\n  - name: b\n    scrape:\n      prot: 80\n",
			want: []string{`f.yaml:3:5: unknown field "colour"`, `f.yaml:6:7: unknown field "prot"`},
		},
		{
			name: "a string where a number belongs",
			yaml: "services:\n  - name: a\n    scrape: {port: eighty}\n",
			want: []string{"f.yaml:3:20: cannot unmarshal !!str `eighty` into int"},
		},
		{
			name: "a bad duration, size and matcher at once",
			yaml: "prometheus:\n  retention: 31 days\nservices:\n  - name: a\n    container:\n      memory: {limit: 4GB}\n" +
				"    slos:\n      - name: availability\n        objective: 0.9\n        window: 30d\n        availability: {requests: r_total, errors: '{status=~5..}'}\n",
			want: []string{`f.yaml:2:14: "31 days" is not a duration`, `f.yaml:6:23: "4GB" is not a size`, `f.yaml:11:51: "{status=~5..}"`},
		},
		{
			name: "an alert name the runbook does not have",
			yaml: "pipeline: [Watchdog, Wachdog]\nservices:\n  - name: a\n    alerts:\n      - ServiceDown\n      - ServiceGone\n",
			want: []string{`f.yaml:1:22: pipeline alert "Wachdog" is not one of the runbook's`, `f.yaml:6:9: alert "ServiceGone" is not one of the runbook's`},
		},
		{
			name: "a syntax error",
			yaml: "services:\n  - name: a\n    job: b: c\n",
			want: []string{"f.yaml:3: mapping values are not allowed"},
		},
		{
			name: "an empty file",
			yaml: "# nothing\n",
			want: []string{"f.yaml: empty"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if n := strings.Count(err.Error(), "f.yaml"); n != len(tc.want) {
				t.Errorf("%d problems reported, want %d:\n%v", n, len(tc.want), err)
			}
		})
	}
}

// A problem only validation finds is located at the field that holds it,
// or at the name of the alert whose builder made it.
func TestWhereLocatesValidationProblemsInTheFile(t *testing.T) {
	doc, err := Parse("f.yaml", []byte(`services:
  - name: a
    scrape: {port: 80}
  - name: b
    container:
      restart: sometimes
      memory: {limit: 1GiB}
    scrape: {port: 81}
    alerts: [ServiceDown]
    slos:
      - name: availability
        objective: 1.5
        window: 30d
        availability: {requests: r_total, errors: '{code="500"}'}
routing:
  receivers:
    - name: chat
      webhook: {}
`))
	if err != nil {
		t.Fatal(err)
	}
	err = doc.Spec.Validate()
	if err == nil {
		t.Fatal("the spec validated")
	}
	got := map[string]string{}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *spec.FieldError
		if errors.As(e, &fe) {
			got[fe.Field] = doc.Where(e)
		}
	}
	for field, want := range map[string]string{
		// Service a has no alerts: its entry.
		"alerts":            "f.yaml:2:5",
		"container.restart": "f.yaml:6:16",
		// The burn-rate alerts rules.SLOs made: their objectives.
		"runbook_url":                  "f.yaml:11:7",
		"slos[0].objective":            "f.yaml:12:20",
		"routing.receivers[0].webhook": "f.yaml:18:16",
		// Routes not written: the routing they belong to.
		"routing.default": "f.yaml:16:3",
	} {
		if got[field] != want {
			t.Errorf("%s: located at %q, want %s (all: %v)", field, got[field], want, got)
		}
	}
}

// An objective whose window is too short for its alert windows (an hour
// scales the workbook's 5m window to a fraction of a second) is refused at
// its window, as every problem is, not by a builder dividing by zero.
func TestAnObjectiveTooShortToMeasureIsRefusedAtItsWindow(t *testing.T) {
	for _, window := range []string{"1h", "10m", "1s"} {
		t.Run(window, func(t *testing.T) {
			doc, err := Parse("f.yaml", []byte(`services:
  - name: a
    container: {memory: {limit: 1GiB}}
    scrape: {port: 80}
    alerts: [ServiceDown]
    slos:
      - name: availability
        objective: 0.999
        window: `+window+`
        availability: {requests: r_total, errors: '{code="500"}'}
      - name: latency
        objective: 0.99
        window: `+window+`
        latency: {histogram: d_seconds, threshold: 0.5, buckets: [0.5, 1]}
kubernetes: {namespace: prod}
`))
			if err != nil {
				t.Fatal(err)
			}
			err = doc.Spec.Validate()
			if err == nil {
				t.Fatal("the spec validated")
			}
			var at []string
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var fe *spec.FieldError
				if errors.As(e, &fe) && strings.HasSuffix(fe.Field, ".window") {
					at = append(at, doc.Where(e)+": "+fe.Problem)
				}
			}
			want := []string{"f.yaml:9:17: " + window + " is too short", "f.yaml:13:17: " + window + " is too short"}
			if len(at) != len(want) {
				t.Fatalf("window problems %q, want two, at 9:17 and 13:17 (all: %v)", at, err)
			}
			for i := range want {
				if !strings.HasPrefix(at[i], want[i]) {
					t.Errorf("problem %q, want it to start %q", at[i], want[i])
				}
			}
		})
	}
}

// A service's declared metrics reach spec.Service.Metrics, and a problem
// with one is located at its field.
func TestDeclaredMetricsAreTheServicesAndLocated(t *testing.T) {
	doc, err := Parse("f.yaml", []byte(`runbook_url: https://runbooks.example.com/worker
services:
  - name: worker
    scrape: {port: 80}
    alerts: [ServiceDown]
    metrics:
      - {name: worker_queue_depth, type: gauge, help: Requests waiting.}
      - name: worker_jobs_total
        type: count
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Spec.Services[0].Metrics; len(got) != 2 || got[0] != (spec.ExposedMetric{Name: "worker_queue_depth", Type: "gauge", Help: "Requests waiting."}) {
		t.Fatalf("metrics %+v", got)
	}
	err = doc.Spec.Validate()
	var fe *spec.FieldError
	if !errors.As(err, &fe) || fe.Field != "metrics[1].type" || doc.Where(err.(interface{ Unwrap() []error }).Unwrap()[0]) != "f.yaml:9:15" {
		t.Errorf("validation %v, want metrics[1].type at f.yaml:9:15", err)
	}
}
