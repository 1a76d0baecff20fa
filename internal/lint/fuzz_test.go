package lint

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLint feeds Lint arbitrary files: whatever the input, it must not
// panic, and every problem must say where it is and which check found it.
func FuzzLint(f *testing.F) {
	paths, err := filepath.Glob("testdata/*.yml")
	if err != nil {
		f.Fatal(err)
	}
	more, err := filepath.Glob("testdata/corpus/*/*.y*ml")
	paths = append(paths, more...)
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	names := map[string]bool{"parse": true, checkInput: true}
	for _, c := range checks {
		names[c.Name()] = true
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		for _, p := range Lint([]File{{Path: "f.yml", Content: content}}, spec) {
			if p.Path != "f.yml" || !names[p.Check] || p.Message == "" {
				t.Errorf("malformed problem %+v", p)
			}
		}
	})
}

// TestTruncatedFilesDoNotPanic lints every corpus file cut short at many
// points (inside block scalars, quotes, manifests) and in manifests moved
// by an odd indentation: whatever is left, Lint must not panic and every
// problem must name a check.
func TestTruncatedFilesDoNotPanic(t *testing.T) {
	paths, err := filepath.Glob("testdata/corpus/*/*.y*ml")
	if err != nil || len(paths) == 0 {
		t.Fatal(paths, err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for cut := 0; cut < len(b); cut += 23 {
			for _, content := range [][]byte{b[:cut], append([]byte("  "), b[:cut]...)} {
				for _, pr := range Lint([]File{{Path: "f.yml", Content: content}}, spec) {
					if pr.Check == "" || pr.Message == "" {
						t.Errorf("%s cut at %d: malformed problem %+v", p, cut, pr)
					}
				}
			}
		}
	}
}
