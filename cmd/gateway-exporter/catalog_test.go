package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/internal/exporter/cache"
	"github.com/sre-tools/promgen/internal/exporter/memory"
)

// TestScrapeMatchesCatalog scrapes an exporter whose cache holds every kind
// of series and fails on any metric of its own that the catalog, and so
// docs/metrics.md, does not describe with the same type, help and labels;
// and on any catalogued metric of the exporter that the scrape lacks. Go and
// process metrics are client_golang's and documented there.
func TestScrapeMatchesCatalog(t *testing.T) {
	c := cache.New(cache.Options{Retention: time.Hour})
	now := time.Now()
	labels := map[string]string{cache.LabelComposeProject: "stack", cache.LabelComposeService: "web"}
	c.Upsert(cache.Container{ID: "a", Name: "web", Image: "gw:1", Labels: labels, State: "running", Health: "healthy", StartedAt: now, MemoryLimit: 1 << 30})
	c.SetMemory(map[string]memory.Stats{"a": {WorkingSet: 1 << 20, Usage: 2 << 20, Limit: 1 << 30}})
	c.Upsert(cache.Container{ID: "b", Name: "worker", Image: "gw:1", Labels: labels, State: "running", StartedAt: now})
	c.Apply(cache.Event{ID: "b", Action: "die", Time: now, Attributes: map[string]string{"exitCode": "1"}})
	c.SetSourceUp("docker", true)

	w := httptest.NewRecorder()
	c.Handler(newRegistry(c), slog.New(slog.DiscardHandler)).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(w.Body)
	if err != nil {
		t.Fatalf("parse scrape: %v", err)
	}
	for name, f := range fams {
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") {
			continue
		}
		m, ok := catalog.Lookup(name)
		if !ok {
			t.Errorf("%s is published but not in the catalog (catalog/catalog.go, then go test ./cmd/gateway-exporter -run TestMetricsDocs -update)", name)
			continue
		}
		if m.Source != catalog.SourceExporter {
			t.Errorf("%s: the catalog gives source %s, want %s", name, m.Source, catalog.SourceExporter)
		}
		if want := map[catalog.Type]dto.MetricType{catalog.Gauge: dto.MetricType_GAUGE, catalog.Counter: dto.MetricType_COUNTER}[m.Type]; f.GetType() != want {
			t.Errorf("%s: published as %s, the catalog says %s", name, f.GetType(), m.Type)
		}
		if f.GetHelp() != m.Help {
			t.Errorf("%s: published help %q, the catalog says %q", name, f.GetHelp(), m.Help)
		}
		want := m.AllLabels()
		slices.Sort(want)
		for _, s := range f.GetMetric() {
			var got []string
			for _, l := range s.GetLabel() {
				got = append(got, l.GetName())
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s: published with labels %v, the catalog says %v", name, got, want)
				break
			}
		}
	}
	for _, m := range catalog.BySource(catalog.SourceExporter) {
		if _, ok := fams[m.Name]; !ok {
			t.Errorf("%s is in the catalog but not published", m.Name)
		}
	}
}
