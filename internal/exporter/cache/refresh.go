package cache

import (
	"context"
	"log/slog"
	"time"

	"github.com/sre-tools/promgen/internal/exporter/memory"
)

// RefreshMemory reads src every interval until ctx ends and stores the
// figures in c. Each read gets its own deadline and reads never overlap, so
// a hung backend costs one timeout per interval and never piles up requests.
// A failed read clears the memory series rather than leave stale figures
// that an alert could fire on.
func RefreshMemory(ctx context.Context, c *Cache, src memory.Source, interval, timeout time.Duration, log *slog.Logger) {
	c.SetSourceUp(src.Name(), false)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		readMemory(ctx, c, src, timeout, log)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func readMemory(ctx context.Context, c *Cache, src memory.Source, timeout time.Duration, log *slog.Logger) {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stats, err := src.Read(rctx)
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		log.Warn("memory read failed", "source", src.Name(), "err", err)
		c.SourceError(src.Name())
		c.SetSourceUp(src.Name(), false)
		c.SetMemory(nil)
		return
	}
	c.SetMemory(stats)
	c.SetSourceUp(src.Name(), true)
}
