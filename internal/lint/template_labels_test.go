package lint

import (
	"slices"
	"testing"
)

func TestTemplateLabels(t *testing.T) {
	runCases(t, "template-labels", []lintCase{
		{
			name: "labels the expression keeps, adds by join or label_replace, or guards with if, pass",
			in: `groups:
- name: g
  rules:
  - alert: A
    expr: sum by (job, instance) (rate(errors_total[5m])) > 0
    annotations:
      summary: '{{ $labels.job }} {{ $labels.instance }} {{ .Labels.job }} {{ index $labels "instance" }}'
  - alert: B
    expr: (up == 0) * on (instance) group_left (nodename) node_uname_info
    annotations:
      summary: '{{ $labels.nodename }} {{ $labels.job }}'
  - alert: C
    expr: label_replace(sum by (job) (up) == 0, "service", "$1", "job", "(.*)")
    annotations:
      summary: '{{ $labels.service }}{{ if $labels.instance }} {{ $labels.instance }}{{ end }}'
  - alert: D
    expr: sum without (cpu) (rate(cpu_seconds_total[5m])) > 1
    annotations:
      summary: '{{ $labels.instance }}'
  - alert: E
    expr: count by (cluster) (mon_quorum_status == 0) > 1
    annotations:
      description: 'Down: {{ range printf "mon_quorum_status{cluster=%q} == 0" .Labels.cluster | query }}{{ .Labels.ceph_daemon }} {{ end }}{{ with $x := 1 }}{{ .Labels.host }}{{ end }}'
`,
		},
		{
			name: "labels an aggregation, on(), histogram_quantile() or an empty label_replace() removed are reported, an error in a label",
			in: `groups:
- name: g
  rules:
  - alert: A
    expr: sum by (job) (up) == 0
    labels:
      instance: '{{ $labels.instance }}'
    annotations:
      summary: '{{ $labels.job }} on {{ $labels.instance }}'
  - alert: B
    expr: histogram_quantile(0.99, sum by (le, job) (rate(d_bucket[5m]))) > 1 and on (job) up == 1
    annotations:
      summary: '{{ $labels.le }}'
  - alert: C
    expr: errors > on (job) limits
    labels:
      severity: warning
    annotations:
      summary: '{{ $labels.instance }} {{ $labels.severity }}'
  - alert: D
    expr: count without (instance) (up == 0) > 1
    annotations:
      summary: '{{ $labels.instance }}'
  - alert: E
    expr: label_replace(up == 0, "instance", "", "", "")
    annotations:
      summary: '{{ $labels.instance }}'
`,
			want: []string{
				`rules.yml:7: error template-labels: alert "A": label "instance" reads $labels.instance, but the expression's sum by (job) removes that label: it renders empty`,
				`rules.yml:9: warning template-labels: alert "A": annotation "summary" reads $labels.instance, but the expression's sum by (job) removes that label: it renders empty ($labels holds the series' labels, not the rule's own)`,
				`rules.yml:13: warning template-labels: alert "B": annotation "summary" reads $labels.le, but the expression's histogram_quantile() removes that label: it renders empty`,
				`rules.yml:19: warning template-labels: alert "C": annotation "summary" reads $labels.instance, but the expression's on(job) removes that label: it renders empty`,
				`rules.yml:19: warning template-labels: alert "C": annotation "summary" reads $labels.severity, but the expression's on(job) removes that label: it renders empty ($labels holds the series' labels, not the rule's own)`,
				`rules.yml:23: warning template-labels: alert "D": annotation "summary" reads $labels.instance, but the expression's count without (instance) removes that label: it renders empty`,
				`rules.yml:27: warning template-labels: alert "E": annotation "summary" reads $labels.instance, but the expression's label_replace() with an empty replacement removes that label: it renders empty`,
			},
		},
	})
}

// TestTemplateLabelsHandsAbsentToAbsentLabels: a label a template reads is
// reported once, by the check that knows why it is missing. An expression
// with an absent() anywhere in it is absent-labels' alone, even when its
// other side also removes the label; without absent(), template-labels
// reports it.
func TestTemplateLabelsHandsAbsentToAbsentLabels(t *testing.T) {
	for _, tc := range []struct {
		name, expr string
		want       []string // check names of the problems, in order
	}{
		{"absent() alone is absent-labels'", `absent(up{job="api"})`, []string{"absent-labels"}},
		{"an aggregation or absent() is absent-labels' alone", `sum by (job) (up{job="api"}) == 0 or absent(up{job="api"})`, []string{"absent-labels"}},
		{"an aggregation without absent() is template-labels'", `sum by (job) (up{job="api"}) == 0`, []string{"template-labels"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: '" + tc.expr + "'\n    annotations:\n      summary: '{{ $labels.instance }} is down'\n"
			var got []string
			for _, p := range Lint([]File{{Path: "rules.yml", Content: []byte(in)}}, Config{Policy: HousePolicy()}) {
				switch p.Check {
				case "absent-labels", "template-labels", "parse":
					got = append(got, p.Check)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("reported by %v, want %v", got, tc.want)
			}
		})
	}
}
