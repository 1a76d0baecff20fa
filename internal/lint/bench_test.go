package lint

import (
	"fmt"
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
