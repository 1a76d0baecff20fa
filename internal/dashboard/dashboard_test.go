package dashboard_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/catalog"
)

// The committed output, as users get it: the dashboard JSON and the rule
// file are read independently, so a threshold or link that drifts from the
// alerts fails here.
const (
	dashboardFile = "../../generated/grafana/inference-gateway.json"
	rulesFile     = "../../generated/rules/inference-gateway.rules.yml"
)

func load(t *testing.T) (dashboard.Dashboard, []rulefmt.Rule) {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var d dashboard.Dashboard
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s does not decode strictly into Grafana's dashboard type: %v", dashboardFile, err)
	}
	rb, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	groups, errs := rulefmt.Parse(rb, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var rules []rulefmt.Rule
	for _, g := range groups.Groups {
		rules = append(rules, g.Rules...)
	}
	return d, rules
}

func TestEveryQueryParses(t *testing.T) {
	d, _ := load(t)
	n := 0
	for _, p := range d.Panels {
		if p.Panel == nil {
			continue
		}
		raw, _ := json.Marshal(p.Panel.Targets)
		var targets []struct{ Expr string }
		json.Unmarshal(raw, &targets)
		for _, tg := range targets {
			n++
			if _, err := parser.NewParser(parser.Options{}).ParseExpr(tg.Expr); err != nil {
				t.Errorf("panel %v: %q: %v", p.Panel.Id, tg.Expr, err)
			}
		}
	}
	if n < 8 {
		t.Fatalf("only %d queries in the dashboard", n)
	}
}

func TestTheMemoryThresholdsAreTheAlerts(t *testing.T) {
	d, rules := load(t)
	var fromRules []float64
	for _, r := range rules {
		e, err := parser.NewParser(parser.Options{}).ParseExpr(r.Expr)
		if err != nil || r.Alert == "" {
			continue
		}
		parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
			if b, ok := n.(*parser.BinaryExpr); ok && b.Op == parser.GTR && strings.Contains(b.LHS.String(), catalog.ContainerMemoryUsageRatio) {
				fromRules = append(fromRules, b.RHS.(*parser.NumberLiteral).Val)
			}
			return nil
		})
	}
	slices.Sort(fromRules)
	var fromDashboard []float64
	for _, p := range d.Panels {
		if p.Panel == nil || p.Panel.Title == nil || !strings.Contains(*p.Panel.Title, "memory limit") {
			continue
		}
		for _, s := range p.Panel.FieldConfig.Defaults.Thresholds.Steps {
			if s.Value != nil {
				fromDashboard = append(fromDashboard, *s.Value)
			}
		}
	}
	if len(fromRules) != 2 || !slices.Equal(fromRules, fromDashboard) {
		t.Errorf("memory alert thresholds %v, dashboard thresholds %v", fromRules, fromDashboard)
	}
}

func TestEveryAlertLinksToAPanelOfTheDashboard(t *testing.T) {
	d, rules := load(t)
	ids := map[string]bool{}
	for _, p := range d.Panels {
		if p.Panel != nil && p.Panel.Id != nil {
			ids[fmt.Sprint(*p.Panel.Id)] = true
		}
	}
	n := 0
	for _, r := range rules {
		if r.Alert == "" {
			continue
		}
		n++
		u, err := url.Parse(r.Annotations["dashboard_url"])
		if err != nil || u.Host == "" {
			t.Errorf("alert %s: dashboard_url %q", r.Alert, r.Annotations["dashboard_url"])
			continue
		}
		if !strings.Contains(u.Path, "/d/"+*d.Uid+"/") {
			t.Errorf("alert %s links to %s, not dashboard %s", r.Alert, u, *d.Uid)
		}
		if id := u.Query().Get("viewPanel"); !ids[id] {
			t.Errorf("alert %s links to panel %s, which the dashboard lacks (%v)", r.Alert, id, ids)
		}
		if _, err := strconv.Atoi(u.Query().Get("viewPanel")); err != nil {
			t.Errorf("alert %s: viewPanel %q", r.Alert, u.Query().Get("viewPanel"))
		}
	}
	if n == 0 {
		t.Fatal("no alerts in the rule file")
	}
}
