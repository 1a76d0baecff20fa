package lint

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// spec is the service context of the testdata runs under the house
// policy: the gateway has a memory limit, the worker none.
var spec = Config{Services: []Service{
	{Name: "inference-gateway", Job: "inference-gateway", MemoryLimitBytes: 4 << 30},
	{Name: "worker", Job: "worker"},
}, Policy: HousePolicy()}

func readFiles(t *testing.T, paths ...string) []File {
	t.Helper()
	var files []File
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, File{Path: p, Content: b})
	}
	return files
}

func TestGoodRulesHaveNoProblems(t *testing.T) {
	ps := Lint(readFiles(t, "testdata/good.yml"), spec)
	for _, p := range ps {
		t.Error(p)
	}
}

func TestOutputMatchesGolden(t *testing.T) {
	ps := Lint(readFiles(t, "testdata/bad.yml", "testdata/broken.yml"), spec)
	for _, tc := range []struct {
		name   string
		golden string
		write  func(*bytes.Buffer) error
	}{
		{"text output lists one problem per line", "lint.txt", func(b *bytes.Buffer) error { return WriteText(b, ps) }},
		{"json output is an array of problems", "lint.json", func(b *bytes.Buffer) error { return WriteJSON(b, ps) }},
		{"json output of no problems is an empty array", "empty.json", func(b *bytes.Buffer) error { return WriteJSON(b, nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got bytes.Buffer
			if err := tc.write(&got); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tc.golden)
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
		})
	}
}
