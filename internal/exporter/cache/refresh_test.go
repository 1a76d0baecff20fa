package cache

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/internal/exporter/memory"
)

// fakeSource answers reads from a script; a step with hang set blocks until
// the read's context ends. Past the script, reads block until end is
// closed, so that the state the script left stays put while it is checked.
type fakeSource struct {
	steps   []fakeRead
	end     chan struct{}
	reads   atomic.Int32
	active  atomic.Int32
	overlap atomic.Bool
}

type fakeRead struct {
	stats map[string]memory.Stats
	err   error
	hang  bool
}

func (f *fakeSource) Name() string { return "fake" }

func (f *fakeSource) Read(ctx context.Context) (map[string]memory.Stats, error) {
	if f.active.Add(1) > 1 {
		f.overlap.Store(true)
	}
	defer f.active.Add(-1)
	n := int(f.reads.Add(1)) - 1
	if n >= len(f.steps) {
		<-f.end
		return nil, errors.New("script over")
	}
	step := f.steps[n]
	if step.hang {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return step.stats, step.err
}

func TestRefreshMemory(t *testing.T) {
	ok := fakeRead{stats: map[string]memory.Stats{"a": {WorkingSet: 50, Usage: 60, Limit: 100}}}
	for _, tc := range []struct {
		name  string
		steps []fakeRead
		want  []string
	}{{
		name:  "a successful read publishes the memory and the source up",
		steps: []fakeRead{ok},
		want: []string{
			series(catalog.ContainerMemoryUsageRatio, "0.5"),
			`gateway_exporter_source_errors_total{source="fake"} 0`,
			`gateway_exporter_source_up{source="fake"} 1`,
		},
	}, {
		name:  "a failed read clears the memory and counts an error",
		steps: []fakeRead{ok, {err: errors.New("boom")}},
		want: []string{
			`gateway_exporter_source_errors_total{source="fake"} 1`,
			`gateway_exporter_source_up{source="fake"} 0`,
		},
	}, {
		name:  "a hung read gives up at the timeout and marks the source down",
		steps: []fakeRead{ok, {hang: true}},
		want: []string{
			`gateway_exporter_source_errors_total{source="fake"} 1`,
			`gateway_exporter_source_up{source="fake"} 0`,
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(Options{Retention: time.Hour})
			c.Upsert(running("a", "web"))
			src := &fakeSource{steps: tc.steps, end: make(chan struct{})}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				RefreshMemory(ctx, c, src, 20*time.Millisecond, 50*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
				close(done)
			}()
			for int(src.reads.Load()) <= len(tc.steps) {
				time.Sleep(5 * time.Millisecond)
			}
			got := scrape(t, c, catalog.ContainerMemoryUsageRatio, catalog.ExporterSourceUp, catalog.ExporterSourceErrorsTotal)
			cancel()
			close(src.end)
			<-done
			if !slices.Equal(got, tc.want) {
				t.Errorf("got:\n%q\nwant:\n%q", got, tc.want)
			}
			if src.overlap.Load() {
				t.Error("reads overlapped")
			}
		})
	}
}
