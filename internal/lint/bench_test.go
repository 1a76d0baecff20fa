package lint

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkLint200Files lints 200 rule files made from testdata/corpus
// (its 7 files over and over, each copy under its own folder), with the
// corpus' policy and metadata: the size of a large repository's rules. The
// figure goes in docs/lint.md.
func BenchmarkLint200Files(b *testing.B) {
	src, err := ReadInputs([]string{"testdata/corpus"})
	if err != nil {
		b.Fatal(err)
	}
	pol, err := LoadConfig("testdata/corpus/lint.yml")
	if err != nil {
		b.Fatal(err)
	}
	md, err := LoadMetadata("testdata/corpus/metadata.json")
	if err != nil {
		b.Fatal(err)
	}
	var files []File
	for i := 0; len(files) < 200; i++ {
		f := src[i%len(src)]
		files = append(files, File{Path: fmt.Sprintf("copy%03d/%s", i/len(src), f.Path), Content: f.Content})
	}
	b.ResetTimer()
	for b.Loop() {
		Lint(files, Config{Policy: pol, Metadata: md})
	}
}

// BenchmarkLintRules lints one file of n alerts of one name and labels (a
// ServiceDown per job), each an impossible comparison, with or without a
// comment above each that disables the check: the suppressions and the
// duplicate check were cubic and quadratic in n. The figures go in
// docs/lint.md.
func BenchmarkLintRules(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		for _, comments := range []bool{false, true} {
			b.Run(fmt.Sprintf("rules=%d/comments=%t", n, comments), func(b *testing.B) {
				files := []File{{Path: "rules.yml", Content: manyRules(n, comments)}}
				cfg := Config{Policy: HousePolicy()}
				want := n
				if comments {
					want = 0
				}
				for b.Loop() {
					got := 0
					for _, p := range Lint(files, cfg) {
						if p.Check == "impossible-comparison" {
							got++
						}
					}
					if got != want {
						b.Fatalf("%d impossible-comparison problems, want %d", got, want)
					}
				}
			})
		}
	}
}

// manyRules is a rule file of n alerts named ServiceDown, one per job,
// each with a comment disabling impossible-comparison when comments is set.
func manyRules(n int, comments bool) []byte {
	var b strings.Builder
	b.WriteString("groups:\n- name: g\n  rules:\n")
	for i := range n {
		if comments {
			b.WriteString("  # promgen-lint disable impossible-comparison\n")
		}
		fmt.Fprintf(&b, "  - alert: ServiceDown\n    expr: up{job=\"job-%d\"} > 1\n    for: 1m\n    labels: {severity: critical}\n", i)
	}
	return []byte(b.String())
}
