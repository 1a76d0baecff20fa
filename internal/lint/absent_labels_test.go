package lint

import "testing"

func TestAbsentLabels(t *testing.T) {
	runCases(t, "absent-labels", []lintCase{
		{
			name: "labels of absent()'s equality matchers, and guarded uses, pass",
			in: `groups:
- name: g
  rules:
  - alert: A
    expr: absent(up{job="api", env="prod", instance=~".+"})
    annotations:
      summary: '{{ $labels.job }} in {{ $labels.env }}'
  - alert: B
    expr: up{job="api"} == 0 or absent(up{job="api"})
    annotations:
      summary: '{{ $labels.job }}{{ with $labels.instance }} on {{ . }}{{ end }}'
`,
		},
		{
			name: "labels absent() does not return are reported, a warning when it is one side of an or",
			in: `groups:
- name: g
  rules:
  - alert: A
    expr: absent(up{job="api", instance=~".+"})
    annotations:
      summary: '{{ $labels.instance }}'
  - alert: B
    expr: absent((up{job="api"}))
    annotations:
      summary: '{{ $labels.job }}'
  - alert: C
    expr: up{job="api"} == 0 or absent(up{job="api"})
    annotations:
      summary: '{{ $labels.instance }}'
`,
			want: []string{
				`rules.yml:7: warning absent-labels: alert "A": annotation "summary" reads $labels.instance, but absent() returns only the labels of its selector's equality matchers: it renders empty whenever the alert fires`,
				`rules.yml:11: warning absent-labels: alert "B": annotation "summary" reads $labels.job, but absent() of anything but a plain selector returns no labels at all: it renders empty whenever the alert fires`,
				`rules.yml:15: warning absent-labels: alert "C": annotation "summary" reads $labels.instance, which the "or absent(...)" side does not return (absent() returns only the labels of its selector's equality matchers): it renders empty when that side fires; guard it with {{ if $labels.instance }}`,
			},
		},
	})
}
