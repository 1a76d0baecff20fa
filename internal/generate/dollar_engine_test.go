package generate_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sre-tools/promgen/internal/generate"
	"github.com/sre-tools/promgen/internal/testenv"
	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
)

// TestHealthcheckDollarReachesDocker creates the gateway's container from
// the base compose file and a fragment whose healthcheck reads $PORT, with
// the real docker compose and a PORT set on the host, and reads back the
// healthcheck Docker holds: the spec's command with its $, for the
// container's shell to expand, not the host's value.
func TestHealthcheckDollarReachesDocker(t *testing.T) {
	cli := testenv.RequireDocker(t)
	test := []string{"CMD-SHELL", "curl -f http://localhost:$PORT/health"}
	c := spec.RunbookContainer("http://localhost:8000/health")
	c.Healthcheck.Test = test
	b, err := generate.ComposeFragment(spec.Service{Name: rules.GatewayService, Container: c})
	if err != nil {
		t.Fatal(err)
	}
	frag := filepath.Join(t.TempDir(), rules.GatewayService+".compose.yml")
	if err := os.WriteFile(frag, b, 0o644); err != nil {
		t.Fatal(err)
	}
	p := newComposeProject(t, nil, frag)
	p.env = append(p.env, "PORT=6666")
	p.run("create", "--no-build", "--pull=never", rules.GatewayService)
	hc := inspect(t, cli, p.container()).Config.Healthcheck
	if hc == nil || !slices.Equal(hc.Test, test) {
		t.Errorf("Docker's healthcheck is %+v, want the test %q", hc, test)
	}
}
