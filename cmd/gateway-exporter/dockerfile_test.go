package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// dockerfile is a Dockerfile as BuildKit reads it: its stages, its ARGs
// before the first FROM, and a lexer that expands words as BuildKit does.
type dockerfile struct {
	stages []instructions.Stage
	args   []string // NAME=default of the ARGs before the first FROM
	lex    *shell.Lex
}

func parseDockerfile(t *testing.T, path string) dockerfile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	stages, meta, err := instructions.Parse(res.AST, nil)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	d := dockerfile{stages: stages, lex: shell.NewLex(res.EscapeToken)}
	for _, a := range meta {
		for _, kv := range a.Args {
			if kv.Value != nil {
				d.args = append(d.args, kv.Key+"="+*kv.Value)
			}
		}
	}
	return d
}

// expand expands a word with the defaults of the ARGs before the first FROM.
func (d dockerfile) expand(t *testing.T, word string) string {
	t.Helper()
	s, _, err := d.lex.ProcessWord(word, shell.EnvsFromSlice(d.args))
	if err != nil {
		t.Fatalf("expand %q: %v", word, err)
	}
	return s
}

// runtime is what a stage gives the container it runs: its USER, EXPOSE
// and ENTRYPOINT instructions, as text.
func runtime(s instructions.Stage) []string {
	var out []string
	for _, c := range s.Commands {
		switch c := c.(type) {
		case *instructions.UserCommand:
			out = append(out, "USER "+c.User)
		case *instructions.ExposeCommand:
			out = append(out, "EXPOSE "+strings.Join(c.Ports, " "))
		case *instructions.EntrypointCommand:
			out = append(out, "ENTRYPOINT "+strings.Join(c.CmdLine, " "))
		}
	}
	return out
}

// TestSourceDockerfileBuildsAStaticBinaryIntoScratch checks, with
// BuildKit's own parser (no golang image can be pulled here to build it),
// that source.Dockerfile builds gateway-exporter from the module with the
// Go of go.mod, statically, and copies that very binary into a FROM
// scratch image that runs as the prebuilt-binary Dockerfile's does.
func TestSourceDockerfileBuildsAStaticBinaryIntoScratch(t *testing.T) {
	d := parseDockerfile(t, "source.Dockerfile")
	if len(d.stages) != 2 {
		t.Fatalf("source.Dockerfile has %d stages, want 2: build and the image", len(d.stages))
	}
	build, image := d.stages[0], d.stages[1]

	out, err := exec.Command("go", "mod", "edit", "-json", "../../go.mod").Output()
	if err != nil {
		t.Fatalf("go mod edit -json: %v", err)
	}
	var mod struct{ Go string }
	if err := json.Unmarshal(out, &mod); err != nil {
		t.Fatal(err)
	}
	if got, want := d.expand(t, build.BaseName), "golang:"+mod.Go; got != want {
		t.Errorf("build stage FROM %s, want %s (go.mod's go line)", got, want)
	}
	if build.Name == "" {
		t.Fatal("the build stage has no name for the image stage to copy from")
	}

	// The go build of the build stage, as the shell splits it.
	var goBuild []string
	for _, c := range build.Commands {
		if r, ok := c.(*instructions.RunCommand); ok && r.PrependShell {
			words, err := d.lex.ProcessWords(strings.Join(r.CmdLine, " "), shell.EnvsFromSlice(d.args))
			if err != nil {
				t.Fatal(err)
			}
			if i := slices.Index(words, "go"); i >= 0 && len(words) > i+1 && words[i+1] == "build" {
				goBuild = words
			}
		}
	}
	if goBuild == nil {
		t.Fatal("the build stage has no RUN ... go build")
	}
	for want, why := range map[string]string{"CGO_ENABLED=0": "scratch has no libc", "-trimpath": "the build machine's paths stay out"} {
		if !slices.Contains(goBuild, want) {
			t.Errorf("go build without %s (%s): %q", want, why, goBuild)
		}
	}
	if pkg := goBuild[len(goBuild)-1]; pkg != "./cmd/gateway-exporter" {
		t.Errorf("go build builds %s, want ./cmd/gateway-exporter", pkg)
	}
	i := slices.Index(goBuild, "-o")
	if i < 0 || i+1 >= len(goBuild) {
		t.Fatalf("go build names no -o output: %q", goBuild)
	}
	binary := goBuild[i+1]

	if image.BaseName != "scratch" {
		t.Errorf("the image stage is FROM %s, want scratch", image.BaseName)
	}
	var copied string
	for _, c := range image.Commands {
		if c, ok := c.(*instructions.CopyCommand); ok && c.From == build.Name {
			if !slices.Equal(c.SourcePaths, []string{binary}) {
				t.Errorf("COPY --from=%s %v, want the go build's output %s", build.Name, c.SourcePaths, binary)
			}
			copied = c.DestPath
		}
	}
	want := runtime(parseDockerfile(t, "Dockerfile").stages[0])
	if got := runtime(image); !slices.Equal(got, want) {
		t.Errorf("the image runs with %q, the prebuilt-binary Dockerfile's with %q", got, want)
	}
	if entry := slices.IndexFunc(image.Commands, func(c instructions.Command) bool {
		e, ok := c.(*instructions.EntrypointCommand)
		return ok && !e.PrependShell && len(e.CmdLine) > 0 && e.CmdLine[0] == copied
	}); copied == "" || entry < 0 {
		t.Errorf("the image's ENTRYPOINT is not the binary copied from the build stage (to %q)", copied)
	}
}
