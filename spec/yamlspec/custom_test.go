package yamlspec

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sre-tools/promgen/internal/generate"
	"github.com/sre-tools/promgen/internal/testenv"
)

// customSpec is a service with a custom alert and its scenario in
// promtool's format; expect is the summary it expects.
func customSpec(expr, expect string) string {
	return `runbook_url: https://runbooks.example.com/api
services:
  - name: api
    scrape: {port: 9000}
    custom_alerts:
      - name: HighErrorRate
        expr: '` + expr + `'
        for: 5m
        severity: warning
        summary: '{{ $labels.job }} fails {{ $value | humanizePercentage }} of requests'
        description: More than 5% of requests fail.
        tests:
          - name: fires once a tenth of requests failed for 5m
            interval: 1m
            input_series:
              - series: 'http_requests_total{job="api",status="200"}'
                values: '0+90x20'
              - series: 'http_requests_total{job="api",status="500"}'
                values: '0+10x12 120x2 stale _x3'
            alert_rule_test:
              - eval_time: 4m
              - eval_time: 12m
                exp_alerts:
                  - exp_labels: {job: api}
                    exp_annotations:
                      summary: '` + expect + `'
                      description: More than 5% of requests fail.
              # The errors stopped at 12m: resolved.
              - eval_time: 15m
              - eval_time: 19m
`
}

const errorRatio = `sum by (job) (rate(http_requests_total{job="api",status=~"5.."}[5m])) / sum by (job) (rate(http_requests_total{job="api"}[5m])) > 0.05`

// A custom alert's scenario is written as promtool's test of the
// generated rule, and the real promtool runs it: a right expectation
// passes, a wrong one fails.
func TestCustomAlertScenariosRunInPromtool(t *testing.T) {
	promtool := testenv.Promtool(t)
	for _, tc := range []struct {
		name, summary string
		pass          bool
	}{
		{"the expected summary", "api fails 10% of requests", true},
		{"a wrong summary", "api fails 20% of requests", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := Parse("f.yaml", []byte(customSpec(errorRatio, tc.summary)))
			if err != nil {
				t.Fatal(err)
			}
			files, err := generate.Build(context.Background(), []generate.Target{{Spec: doc.Spec}}, generate.Options{})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := generate.Write(dir, files); err != nil {
				t.Fatal(err)
			}
			test := filepath.Join(dir, "tests", "api.test.yml")
			if !strings.Contains(string(files["tests/api.test.yml"]), "values: 0+10x12 120x2 stale _x3") {
				t.Errorf("the series are not written as given:\n%s", files["tests/api.test.yml"])
			}
			out, err := exec.Command(promtool, "test", "rules", test).CombinedOutput()
			if (err == nil) != tc.pass {
				t.Errorf("promtool test rules: %v, want pass %v\n%s", err, tc.pass, out)
			}
		})
	}
}

// PromQL the parser refuses names the file, line and column of the
// expression and the alert, with every other such problem.
func TestCustomAlertParseErrorsNameFileLineAndAlert(t *testing.T) {
	bad := strings.Replace(customSpec("sum(rate(http_requests_total[5m]) > 0.05", "x"), "'0+10x12 120x2 stale _x3'", "'0+10x12 _ 3'", 1)
	_, err := Parse("f.yaml", []byte(bad))
	if err == nil {
		t.Fatal("a broken expression parsed")
	}
	for _, want := range []string{
		`f.yaml:7:15: alert "HighErrorRate": expr: 1:41: parse error: unclosed left parenthesis`,
		`f.yaml:19:25: alert "HighErrorRate": test "fires once a tenth of requests failed for 5m": series http_requests_total{job="api",status="500"}: an omitted sample (_) may only follow stale`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// A problem validation finds in a custom alert is placed at its field.
func TestCustomAlertValidationProblemsAreAtTheirField(t *testing.T) {
	doc, err := Parse("f.yaml", []byte(strings.Replace(customSpec(errorRatio, "x"), "severity: warning", "severity: urgent", 1)))
	if err != nil {
		t.Fatal(err)
	}
	err = doc.Spec.Validate()
	if err == nil {
		t.Fatal("severity urgent validated")
	}
	if where := doc.Where(err.(interface{ Unwrap() []error }).Unwrap()[0]); where != "f.yaml:9:19" {
		t.Errorf("%v: located at %s, want f.yaml:9:19", err, where)
	}
}
