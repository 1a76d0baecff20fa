package main

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/sre-tools/promgen/rules"
)

// TestTheREADMEShowsThisFile keeps the README's example from rotting: each
// Go block after an example:ml-platform marker must appear verbatim in one
// of the example's files, which CI builds and whose output promtool proves.
func TestTheREADMEShowsThisFile(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var src []string
	for _, f := range []string{"main.go", "alerts/alerts.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src = append(src, string(b))
	}
	const marker = "<!-- example:ml-platform -->\n```go\n"
	blocks := strings.Split(string(readme), marker)[1:]
	if len(blocks) == 0 {
		t.Fatalf("README.md has no %q block", strings.TrimSpace(marker))
	}
	for _, rest := range blocks {
		block, _, ok := strings.Cut(rest, "```\n")
		if !ok || strings.TrimSpace(block) == "" {
			t.Fatal("a README example block is empty or unterminated")
		}
		if !slices.ContainsFunc(src, func(f string) bool { return strings.Contains(f, block) }) {
			t.Errorf("README.md's example is not an excerpt of examples/ml-platform/main.go or alerts/alerts.go; copy it again:\n%s", block)
		}
	}
}

// TestTheSpecIsValid checks the spec on its own, so a broken example fails
// in go test as well as in make check.
func TestTheSpecIsValid(t *testing.T) {
	s := Spec(rules.Production)
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(s.Services) != 3 || len(s.Pipeline) == 0 {
		t.Fatalf("got %d services and %d pipeline alerts", len(s.Services), len(s.Pipeline))
	}
}
