// Package dockerstats reads the memory of every running container from
// Docker's stats API, for hosts without cAdvisor.
package dockerstats

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/sre-tools/promgen/internal/exporter/memory"
)

// Source reads container memory from one Docker daemon, one stats request per
// running container, at most a fixed number at a time.
type Source struct {
	client      *client.Client
	concurrency int

	mu       sync.Mutex
	memTotal uint64 // the host's memory, once known
}

// DefaultConcurrency is how many stats requests gateway-exporter keeps in
// flight unless --docker.stats-concurrency says otherwise.
const DefaultConcurrency = 8

// New returns a Source that asks c for at most concurrency containers' stats
// at a time (at least one), so a daemon with many containers is not flooded.
func New(c *client.Client, concurrency int) *Source {
	return &Source{client: c, concurrency: max(concurrency, 1)}
}

// Name is the exporter's source label for Docker's stats API. It differs from
// the Docker events source's, so the two report up and errors apart.
func (s *Source) Name() string { return "docker_stats" }

// Read returns the memory of every running container, keyed by full ID.
// Containers that stop or go away between the list and their stats are left
// out; any other failure, including ctx's deadline, fails the whole read.
func (s *Source) Read(ctx context.Context) (map[string]memory.Stats, error) {
	memTotal, err := s.hostMemory(ctx)
	if err != nil {
		return nil, err
	}
	list, err := s.client.ContainerList(ctx, client.ContainerListOptions{})
	if err != nil {
		return nil, fmt.Errorf("docker stats: list containers: %w", err)
	}

	type result struct {
		stats memory.Stats
		ok    bool
		err   error
	}
	results := make([]result, len(list.Items))
	sem := make(chan struct{}, s.concurrency)
	var wg sync.WaitGroup
	for i, c := range list.Items {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return nil, fmt.Errorf("docker stats: %w", ctx.Err())
		}
		wg.Go(func() {
			defer func() { <-sem }()
			st, ok, err := s.container(ctx, c.ID, memTotal)
			results[i] = result{st, ok, err}
		})
	}
	wg.Wait()

	out := make(map[string]memory.Stats, len(results))
	var failed int
	var first error
	for i, r := range results {
		switch {
		case r.err != nil:
			failed++
			if first == nil {
				first = r.err
			}
		case r.ok:
			out[list.Items[i].ID] = r.stats
		}
	}
	if first != nil {
		return nil, fmt.Errorf("docker stats: %d of %d containers failed, first: %w", failed, len(results), first)
	}
	return out, nil
}

// container reads one container's memory; ok is false when the container has
// gone or stopped since it was listed.
func (s *Source) container(ctx context.Context, id string, memTotal uint64) (st memory.Stats, ok bool, err error) {
	// The zero options ask for stream=false and one-shot=true: one sample,
	// without the daemon waiting a second for a previous one to compute CPU
	// deltas. Daemons older than API 1.41 ignore one-shot.
	res, err := s.client.ContainerStats(ctx, id, client.ContainerStatsOptions{})
	if cerrdefs.IsNotFound(err) {
		return memory.Stats{}, false, nil
	}
	if err != nil {
		return memory.Stats{}, false, fmt.Errorf("container %.12s: %w", id, err)
	}
	defer res.Body.Close()
	// One pooled buffer per request in flight, rather than a json.Decoder
	// growing its own for each of hundreds of containers.
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(io.LimitReader(res.Body, maxStatsBody+1)); err != nil {
		return memory.Stats{}, false, fmt.Errorf("container %.12s: read stats: %w", id, err)
	}
	if buf.Len() > maxStatsBody {
		return memory.Stats{}, false, fmt.Errorf("container %.12s: stats answer larger than %d bytes", id, maxStatsBody)
	}
	if len(bytes.TrimSpace(buf.Bytes())) == 0 {
		// An empty body: the container was removed while the daemon read
		// its stats. A race to tolerate, not a failing source.
		return memory.Stats{}, false, nil
	}
	var resp statsAnswer
	if err := json.Unmarshal(buf.Bytes(), &resp); err != nil {
		return memory.Stats{}, false, fmt.Errorf("container %.12s: decode stats: %w", id, err)
	}
	// A container that is no longer running gets an empty sample.
	if resp.Read.IsZero() {
		return memory.Stats{}, false, nil
	}
	m := resp.MemoryStats
	st = memory.Stats{WorkingSet: workingSet(&resp), Usage: m.Usage}
	// Docker reports the host's memory as the limit of a container without
	// one (it clamps any limit above the host's memory to it; moby's
	// TestAPIStatsContainerGetMemoryLimit asserts limit == MemTotal for an
	// unlimited container). Comparing with MemTotal costs one info request
	// per daemon instead of an inspect per container, and a limit at or
	// above the host's memory can never be reached anyway.
	if m.Limit < memTotal {
		st.Limit = m.Limit
	}
	return st, true, nil
}

// maxStatsBody bounds one container's stats answer, about 2 kB from a real
// engine, so a broken daemon cannot exhaust memory.
const maxStatsBody = 1 << 20

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// statsAnswer is the part of container.StatsResponse Source reads, with the
// same JSON names. Decoding only it skips CPU, block I/O, network and pids
// figures and the thirty-odd other keys of memory_stats.stats, which would
// otherwise cost a map and a string per key for every container.
type statsAnswer struct {
	Read        time.Time `json:"read"`
	MemoryStats struct {
		Usage uint64 `json:"usage"`
		Limit uint64 `json:"limit"`
		Stats struct {
			// Pointers, because which key is present says which cgroup
			// version the figures come from.
			InactiveFile      *uint64 `json:"inactive_file"`
			TotalInactiveFile *uint64 `json:"total_inactive_file"`
		} `json:"stats"`
	} `json:"memory_stats"`
}

// workingSet is usage minus inactive file cache, as cAdvisor and docker stats
// compute it, so both memory sources publish the same figure.
func workingSet(r *statsAnswer) uint64 {
	m := &r.MemoryStats
	// cgroup v1's memory.stat has both inactive_file (this cgroup only) and
	// total_inactive_file (with its children); cgroup v2's has only
	// inactive_file, which already includes the children.
	var inactive uint64
	switch {
	case m.Stats.TotalInactiveFile != nil:
		inactive = *m.Stats.TotalInactiveFile
	case m.Stats.InactiveFile != nil:
		inactive = *m.Stats.InactiveFile
	}
	if inactive > m.Usage {
		return 0
	}
	return m.Usage - inactive
}

// hostMemory returns the host's total memory, asking the daemon only until it
// first answers: it does not change while the daemon runs.
func (s *Source) hostMemory(ctx context.Context) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.memTotal > 0 {
		return s.memTotal, nil
	}
	info, err := s.client.Info(ctx, client.InfoOptions{})
	if err != nil {
		return 0, fmt.Errorf("docker stats: host memory: %w", err)
	}
	if info.Info.MemTotal <= 0 {
		return 0, fmt.Errorf("docker stats: host memory: daemon reports MemTotal %d", info.Info.MemTotal)
	}
	s.memTotal = uint64(info.Info.MemTotal)
	return s.memTotal, nil
}
