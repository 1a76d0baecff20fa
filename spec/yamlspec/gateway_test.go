package yamlspec

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sre-tools/promgen/internal/generate"
)

// The gateway's spec is written twice, in Go (rules/gateway.go, whose
// production profile builds generated/ outside e2e/) and in YAML: both
// must build the same files, byte for byte.
func TestGatewayYAMLBuildsTheGoSpecsGeneratedFiles(t *testing.T) {
	doc, err := Load("../../examples/gateway/promgen.yaml")
	if err != nil {
		t.Fatal(err)
	}
	built, err := generate.Build(context.Background(), []generate.Target{{Spec: doc.Spec}},
		generate.Options{ComposeBase: filepath.Join(doc.Dir(), doc.File.ComposeBase)})
	if err != nil {
		t.Fatal(err)
	}
	onDisk := map[string][]byte{}
	root := "../../generated"
	err = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		// The manifest is the writer's record of the files, not a file
		// the spec builds.
		if rel = filepath.ToSlash(rel); !strings.HasPrefix(rel, "e2e/") && rel != generate.Manifest {
			onDisk[rel], err = os.ReadFile(p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for p, b := range built {
		want, ok := onDisk[p]
		switch {
		case !ok:
			t.Errorf("%s: built from the YAML, not in generated/", p)
		case !bytes.Equal(b, want):
			t.Errorf("%s: differs from generated/ (%d bytes built, %d on disk)", p, len(b), len(want))
		}
	}
	for p := range onDisk {
		if _, ok := built[p]; !ok {
			t.Errorf("%s: in generated/, not built from the YAML", p)
		}
	}
}
