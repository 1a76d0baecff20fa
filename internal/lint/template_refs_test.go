package lint

import (
	"slices"
	"testing"
)

// TestTemplateLabelRefs pins which series labels a template reads, and
// which of them it tests first.
func TestTemplateLabelRefs(t *testing.T) {
	for _, c := range []struct {
		name, text string
		want       []string // name, with "?" when guarded
	}{
		{"each way of reading a label, in order, once", `{{ $labels.a }} {{ .Labels.b }} {{ index $labels "c" }} {{ $labels.a }}`, []string{"a", "b", "c"}},
		{"an if guards the labels it tests, also where read before", `{{ $labels.x }}{{ if $labels.x }}{{ $labels.y }}{{ else }}{{ $labels.z }}{{ end }}`, []string{"x?", "y", "z"}},
		{"a with guards its label; inside it . is another value", `{{ with $labels.w }}{{ . }}{{ .Labels.no }}{{ $labels.v }}{{ else }}{{ .Labels.e }}{{ end }}`, []string{"w?", "v", "e"}},
		{"inside a range .Labels is the query result's, $labels the alert's", `{{ range query "up" }}{{ .Labels.instance }}{{ $labels.r }}{{ end }}`, []string{"r"}},
		{"labels in pipelines, chains and declarations are read", `{{ $x := $labels.d }}{{ $labels.p | toUpper }}{{ (printf "%s" $labels.q) }}`, []string{"d", "p", "q"}},
		{"a template that does not parse reads nothing", `{{ $labels.a `, nil},
		{"text without actions reads nothing", `plain`, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, r := range templateLabelRefs(c.text) {
				got = append(got, r.name+map[bool]string{true: "?"}[r.guarded])
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("%s: got %q, want %q", c.text, got, c.want)
			}
		})
	}
}
