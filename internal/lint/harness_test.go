package lint

import (
	"maps"
	"slices"
	"testing"
)

// lintCase is one run of Lint: rule files in, the problems of one check out.
type lintCase struct {
	name string
	in   string            // rules.yml
	more map[string]string // further files of the run, by path
	cfg  Config            // Policy nil: the house policy, so convention checks run too
	want []string          // Problem.String() of the check's problems, in order
}

// runCases lints each case and compares the problems of the named check,
// and any parse problems, so that a broken fixture fails the case too.
func runCases(t *testing.T, check string, cases []lintCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := []File{{Path: "rules.yml", Content: []byte(tc.in)}}
			for _, path := range slices.Sorted(maps.Keys(tc.more)) {
				files = append(files, File{Path: path, Content: []byte(tc.more[path])})
			}
			cfg := tc.cfg
			if cfg.Policy == nil {
				cfg.Policy = HousePolicy()
			}
			var got []string
			for _, p := range Lint(files, cfg) {
				if p.Check == check || p.Check == "parse" {
					got = append(got, p.String())
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("problems differ\ngot:\n%s\nwant:\n%s", lines(got), lines(tc.want))
			}
		})
	}
}

func lines(ss []string) string {
	out := ""
	for _, s := range ss {
		out += "  " + s + "\n"
	}
	return out
}
