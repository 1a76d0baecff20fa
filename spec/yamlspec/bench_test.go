package yamlspec

import (
	"os"
	"testing"
)

// BenchmarkParseGateway decodes, checks and assembles the gateway's YAML
// spec: the cost the file adds to a build before validation (docs/spec.md).
func BenchmarkParseGateway(b *testing.B) {
	data, err := os.ReadFile("../../examples/gateway/promgen.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("promgen.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}
