package lint

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusRun lints testdata/corpus as the CLI would: its folder read
// recursively (PrometheusRule manifests included), its lint.yml as the
// policy and its metadata.json as the metric source.
func corpusRun(t testing.TB) []Problem {
	t.Helper()
	files, err := ReadInputs([]string{"testdata/corpus"})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := LoadConfig("testdata/corpus/lint.yml")
	if err != nil {
		t.Fatal(err)
	}
	md, err := LoadMetadata("testdata/corpus/metadata.json")
	if err != nil {
		t.Fatal(err)
	}
	return Lint(files, Config{Policy: pol, Metadata: md})
}

// TestCorpusMatchesGolden pins every finding on the corpus: the defects
// each check is for, and nothing on the idioms, so that a new false
// positive, or a lost finding, shows in review as a diff of corpus.golden.
func TestCorpusMatchesGolden(t *testing.T) {
	var got bytes.Buffer
	if err := WriteText(&got, corpusRun(t)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "corpus.golden")
	if *update {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("%s differs from the output (run go test -update after checking it):\ngot:\n%s\nwant:\n%s", path, got.Bytes(), want)
	}
}

// TestCorpusIdiomsAreQuiet holds independently of the golden file: the
// idioms of real rule files draw no finding at all, not even a hint.
func TestCorpusIdiomsAreQuiet(t *testing.T) {
	for _, p := range corpusRun(t) {
		if strings.Contains(filepath.ToSlash(p.Path), "/idioms/") {
			t.Errorf("finding on an idiom: %s", p)
		}
	}
}

// TestCorpusHasEveryCheck keeps the corpus honest: each check finds
// something in it, so each is proven on a rule file, not only on a case.
func TestCorpusHasEveryCheck(t *testing.T) {
	found := map[string]bool{}
	for _, p := range corpusRun(t) {
		found[p.Check] = true
	}
	for _, name := range CheckNames() {
		switch name {
		case "promql-syntax", "memory-limit", "healthcheck", "volatile-labels", "unknown-metric":
			continue // their cases are in testdata/bad.yml, with the spec's services
		}
		if !found[name] {
			t.Errorf("no finding of %s in testdata/corpus", name)
		}
	}
}
