package generate

import (
	"bytes"
	"context"
	"encoding/json"
	"path"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	grafana "github.com/sre-tools/promgen/internal/dashboard"
	"github.com/sre-tools/promgen/internal/rulecheck"
	"github.com/sre-tools/promgen/rules"
)

// TestEveryDashboardDecodesStrictly decodes every dashboard of the gateway's
// profiles, the fixture and a scale spec strictly into the SDK's dashboard
// type, and its own Validate, which the build no longer does per service:
// between them these specs build every panel the dashboard builder has.
func TestEveryDashboardDecodesStrictly(t *testing.T) {
	panels := map[uint32]bool{}
	n := 0
	for _, files := range buildEveryKind(t, &rulecheck.Checker{}) {
		for _, p := range files.Paths() {
			if path.Ext(p) != ".json" {
				continue
			}
			dec := json.NewDecoder(bytes.NewReader(files[p]))
			dec.DisallowUnknownFields()
			var d dashboard.Dashboard
			if err := dec.Decode(&d); err != nil {
				t.Errorf("%s does not decode strictly into Grafana's dashboard type: %v", p, err)
				continue
			}
			if err := d.Validate(); err != nil {
				t.Errorf("%s: %v", p, err)
			}
			n++
			for _, pr := range d.Panels {
				if pr.Panel != nil && pr.Panel.Id != nil {
					panels[*pr.Panel.Id] = true
				}
			}
		}
	}
	for id := grafana.PanelUp; id <= grafana.PanelImpact; id++ {
		if !panels[id] {
			t.Errorf("no dashboard built here has panel %d: its JSON went unchecked", id)
		}
	}
	t.Logf("%d dashboards decoded", n)
}

// buildEveryKind builds the fixture, a scale spec and each of the gateway's
// profiles on its own with rc: between them every builder, every kind of
// file, and the Kubernetes target.
func buildEveryKind(t *testing.T, rc *rulecheck.Checker) []Files {
	t.Helper()
	s, base := scaleSpec(t, 3)
	targets := []Target{{Dir: "fixture", Spec: fixture()}, {Dir: "scale", Spec: s}}
	for _, p := range rules.Profiles {
		targets = append(targets, Target{Dir: p.Name, Spec: rules.Spec(p)})
	}
	var out []Files
	for _, tg := range targets {
		opts := Options{Rules: rc}
		if tg.Dir == "scale" {
			opts.ComposeBase = base
		}
		files, err := Build(context.Background(), []Target{tg}, opts)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, files)
	}
	return out
}
