package commands

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
)

func TestScrapeProblemsAreReportedWithTheOthersAndNothingWritten(t *testing.T) {
	dir := workdir(t)
	s := rules.Spec(rules.Production)
	s.Hosts = []spec.Host{{Name: "node-1"}, {Name: "node-1", Address: "tcp://node-1:2375"}}
	s.Services[0].Scrape = spec.Scrape{Static: []string{"localhost"}}
	s.Services[0].Alerts[0].For = -1
	_, err := run(t, Config{Origin: "rules/", Outputs: []Output{{Spec: s}}}, dir, "build")
	if err == nil {
		t.Fatal("build of a bad spec succeeded")
	}
	for _, want := range []string{
		"nothing written (4 problems)",
		`rules/: host "node-1": address: missing`,
		`rules/: host "node-1": name: duplicate host`,
		`rules/: service "inference-gateway": scrape.static[0]: "localhost" is not host:port`,
		`rules/: service "inference-gateway": alert "ServiceDown": for: must not be negative`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "generated")); !os.IsNotExist(err) {
		t.Errorf("a refused build wrote generated/ (%v)", err)
	}
}
