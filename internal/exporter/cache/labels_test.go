package cache

import (
	"strings"
	"testing"

	"github.com/sre-tools/promgen/catalog"
)

// TestCheckLabels holds CheckLabels to what a scrape needs: a set it refuses
// is one whose keys publish a label twice, each problem naming the keys;
// a set it accepts renders and scrapes with every key's value.
func TestCheckLabels(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys []string
		want []string // one substring per problem; none when accepted
	}{
		{"distinct keys are accepted", []string{"com.example.team", "com.example.team2", "team", "com_example_tier"}, nil},
		{"the same key twice is refused", []string{"team", "tier", "team"}, []string{`"team" is given twice`}},
		{"keys that sanitise to one name are refused, naming both", []string{"com.example.team", "com.example/team"},
			[]string{`"com.example.team" and "com.example/team" are both published as label_com_example_team`}},
		{"a key equal to another's sanitised form is refused", []string{"a.b", "a_b"}, []string{`"a.b" and "a_b"`}},
		{"an empty key is refused", []string{""}, []string{"empty"}},
		{"every problem is reported", []string{"x", "x", "y-z", "y.z"}, []string{`"x" is given twice`, `"y-z" and "y.z"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := CheckLabels(tc.keys)
			if len(errs) != len(tc.want) {
				t.Fatalf("CheckLabels(%q) = %v, want %d problems", tc.keys, errs, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("problem %d is %q, want it to say %q", i, errs[i], w)
				}
			}
			if len(errs) > 0 {
				return
			}
			c := New(Options{Labels: tc.keys})
			x := running("1", "web")
			for _, k := range tc.keys {
				x.Labels[k] = "v-" + k
			}
			c.Sync([]Container{x}, at(1))
			lines := scrape(t, c, catalog.ContainerInfo)
			if len(lines) != 1 {
				t.Fatalf("info series: %q", lines)
			}
			for _, k := range tc.keys {
				if want := LabelName(k) + `="v-` + k + `"`; !strings.Contains(lines[0], want) {
					t.Errorf("info lacks %s: %s", want, lines[0])
				}
			}
		})
	}
}
