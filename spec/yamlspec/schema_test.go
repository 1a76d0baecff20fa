package yamlspec

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/invopop/jsonschema"
	jsv "github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

//go:generate go test -run TestSchemaIsUpToDate -update

var update = flag.Bool("update", false, "rewrite docs/promgen.schema.json from the Go types")

// schemaPath is the JSON Schema editors read, generated from File.
const schemaPath = "../../docs/promgen.schema.json"

// schema reflects File, with the doc comments of this package's source as
// descriptions.
func schema(t *testing.T) []byte {
	r := &jsonschema.Reflector{FieldNameTag: "yaml", ExpandedStruct: true}
	if err := r.AddGoComments("github.com/sre-tools/promgen/spec/yamlspec", "."); err != nil {
		t.Fatal(err)
	}
	s := r.Reflect(&File{})
	s.ID = "https://github.com/sre-tools/promgen/docs/promgen.schema.json"
	s.Title = "promgen spec"
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestSchemaIsUpToDate(t *testing.T) {
	want := schema(t)
	if *update {
		if err := os.WriteFile(schemaPath, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run go generate ./spec/yamlspec", schemaPath)
	}
}

// compiled is the shipped schema, compiled by a validator of its own.
func compiled(t *testing.T) *jsv.Schema {
	f, err := os.Open(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsv.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsv.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(schemaPath, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// asJSON reads YAML as the JSON value an editor validates.
func asJSON(t *testing.T, y []byte) any {
	var v any
	if err := yaml.Unmarshal(y, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	j, err := jsv.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestTheShippedSpecsValidateAgainstTheSchema(t *testing.T) {
	s := compiled(t)
	gateway, err := os.ReadFile("../../examples/gateway/promgen.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, y := range map[string][]byte{"examples/gateway/promgen.yaml": gateway, "the starter": Starter} {
		if err := s.Validate(asJSON(t, y)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// The schema refuses what promgen refuses, so an editor flags it.
func TestTheSchemaRefusesWhatTheDecoderRefuses(t *testing.T) {
	s := compiled(t)
	for _, tc := range []struct{ name, from, to string }{
		{"an unknown field", "    scrape:", "    scrap:"},
		{"an alert the runbook does not have", "      - ServiceDown", "      - ServiceGone"},
		{"a duration Prometheus cannot parse", "retention: 31d", "retention: 31 days"},
		{"a size without a unit compose knows", "limit: 4GiB", "limit: 4GB"},
		{"a service without a name", "  - name: my-service", "  - job: my-service"},
		{"a size in bytes below zero", "limit: 4GiB", "limit: -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(string(Starter), tc.from, tc.to, 1)
			if bad == string(Starter) {
				t.Fatalf("the starter lacks %q", tc.from)
			}
			if doc, err := Parse("f.yaml", []byte(bad)); err == nil && doc.Spec.Validate() == nil {
				t.Errorf("promgen accepts it")
			}
			if err := s.Validate(asJSON(t, []byte(bad))); err == nil {
				t.Errorf("the schema accepts it")
			}
		})
	}
}
