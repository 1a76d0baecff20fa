package lint

import (
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/internal/analysis"

	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/sre-tools/promgen/catalog"
)

// Metadata maps metric family names to their metadata, in the shape of
// Prometheus' /api/v1/metadata: what a live Prometheus knows of the metrics
// its targets expose.
type Metadata map[string][]v1.Metadata

// LoadMetadata reads a metadata file: a saved /api/v1/metadata response
// (with or without its {"status", "data"} envelope).
func LoadMetadata(path string) (Metadata, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var envelope struct {
		Status string   `json:"status"`
		Data   Metadata `json:"data"`
	}
	if err := json.Unmarshal(b, &envelope); err == nil && envelope.Status != "" {
		if envelope.Status != "success" {
			return nil, fmt.Errorf("%s: status %q, want success", path, envelope.Status)
		}
		return nonNil(envelope.Data), nil
	}
	var md Metadata
	if err := json.Unmarshal(b, &md); err != nil {
		return nil, fmt.Errorf("%s: not Prometheus metadata (/api/v1/metadata JSON): %w", path, err)
	}
	return nonNil(md), nil
}

// FetchMetadata asks a live Prometheus at url for the metadata of every
// metric its targets expose, through client_golang's API client.
func FetchMetadata(ctx context.Context, url string) (Metadata, error) {
	client, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: %w", url, err)
	}
	md, err := v1.NewAPI(client).Metadata(ctx, "", "")
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: metadata: %w", url, err)
	}
	return nonNil(md), nil
}

// FetchScrapeInterval asks a live Prometheus at url for its global
// scrape_interval (/api/v1/status/config), what rate-range should assume
// when the lint config does not say.
func FetchScrapeInterval(ctx context.Context, url string) (time.Duration, error) {
	client, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		return 0, fmt.Errorf("prometheus %s: %w", url, err)
	}
	cfg, err := v1.NewAPI(client).Config(ctx)
	if err != nil {
		return 0, fmt.Errorf("prometheus %s: config: %w", url, err)
	}
	var parsed struct {
		Global struct {
			ScrapeInterval string `yaml:"scrape_interval"`
		} `yaml:"global"`
	}
	if err := yaml.Unmarshal([]byte(cfg.YAML), &parsed); err != nil {
		return 0, fmt.Errorf("prometheus %s: config: %w", url, err)
	}
	if parsed.Global.ScrapeInterval == "" {
		return DefaultScrapeInterval, nil
	}
	d, err := model.ParseDuration(parsed.Global.ScrapeInterval)
	if err != nil {
		return 0, fmt.Errorf("prometheus %s: config: scrape_interval: %w", url, err)
	}
	return time.Duration(d), nil
}

// nonNil keeps "a source that knows no metric" apart from "no source".
func nonNil(md Metadata) Metadata {
	if md == nil {
		return Metadata{}
	}
	return md
}

// Merge returns the metadata of both, m's first.
func (m Metadata) Merge(o Metadata) Metadata {
	if m == nil {
		return o
	}
	out := Metadata{}
	for k, v := range o {
		out[k] = v
	}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// metricType is what a check knows of a metric's type.
type metricType struct {
	// Type is counter, gauge, histogram, summary, info or "" (unknown).
	Type string
	// Guessed is true when the type comes from the name alone (a _total
	// suffix), not from the catalog, Prometheus or metadata.
	Guessed bool
}

// prometheusSeries are the series Prometheus writes itself, with their
// types: every target's scrape series and the alerting rules' state.
var prometheusSeries = map[string]string{
	"up":                                    "gauge",
	"scrape_duration_seconds":               "gauge",
	"scrape_samples_scraped":                "gauge",
	"scrape_samples_post_metric_relabeling": "gauge",
	"scrape_series_added":                   "gauge",
	"scrape_timeout_seconds":                "gauge",
	"scrape_sample_limit":                   "gauge",
	"scrape_body_size_bytes":                "gauge",
	"ALERTS":                                "gauge",
	"ALERTS_FOR_STATE":                      "gauge",
}

// types answers metric types from the catalog, Prometheus' own series and
// metadata, and guesses from the name.
type types struct {
	md Metadata
}

func newTypes(md Metadata) *types { return &types{md: md} }

// of returns the type of a metric.
func (t *types) of(name string) metricType {
	if typ := t.known(name); typ != "" {
		return metricType{Type: typ}
	}
	if strings.HasSuffix(name, "_total") {
		return metricType{Type: "counter", Guessed: true}
	}
	return metricType{}
}

// known returns a metric's type from a source, "" when no source knows it
// (or calls it unknown).
func (t *types) known(name string) string {
	if m, ok := catalog.Lookup(name); ok {
		return string(m.Type)
	}
	if typ, ok := prometheusSeries[name]; ok {
		return typ
	}
	if typ := t.family(name); typ != "" && typ != "unknown" {
		return typ
	}
	// The series of histograms and summaries, and OpenMetrics counters
	// whose family name drops _total.
	for suffix, series := range map[string]map[string]string{
		"_bucket":  {"histogram": "counter", "gaugehistogram": "gauge"},
		"_count":   {"histogram": "counter", "summary": "counter", "gaugehistogram": "gauge"},
		"_sum":     {"histogram": "counter", "summary": "counter", "gaugehistogram": "gauge"},
		"_total":   {"counter": "counter"},
		"_created": {"counter": "gauge", "histogram": "gauge", "summary": "gauge"},
		"_info":    {"info": "gauge"},
	} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if typ, ok := series[t.family(base)]; ok {
				return typ
			}
		}
	}
	return ""
}

// family returns the type metadata gives a family, "unknown" when its
// targets disagree.
func (t *types) family(name string) string {
	entries := t.md[name]
	if len(entries) == 0 {
		return ""
	}
	typ := string(entries[0].Type)
	for _, e := range entries[1:] {
		if string(e.Type) != typ {
			return "unknown"
		}
	}
	return typ
}

// exists reports whether a source knows the metric at all.
func (t *types) exists(name string) bool {
	if _, ok := catalog.Lookup(name); ok {
		return true
	}
	if _, ok := prometheusSeries[name]; ok || strings.HasPrefix(name, "scrape_") {
		return true
	}
	if len(t.md[name]) > 0 {
		return true
	}
	for _, suffix := range []string{"_bucket", "_count", "_sum", "_total", "_created", "_info"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && len(t.md[base]) > 0 {
			return true
		}
	}
	return false
}

// rangeOf is an expression's value range, counters as the metadata and
// catalog type them.
func (run *Run) rangeOf(e parser.Expr) analysis.Range {
	return analysis.RangeOf(e, func(name string) bool {
		mt := run.types.of(name)
		return mt.Type == "counter" && !mt.Guessed
	})
}
