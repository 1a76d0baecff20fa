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
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	names := map[string]bool{"parse": true}
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
