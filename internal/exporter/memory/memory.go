// Package memory defines what the exporter needs from a source of container
// memory figures (cAdvisor or Docker's stats API), so the refresher and the
// collector do not depend on either.
package memory

import "context"

// Stats is one container's memory at the time of a read.
type Stats struct {
	// WorkingSet is usage minus inactive file cache: what the OOM killer acts on.
	WorkingSet uint64
	// Usage is total usage including page cache.
	Usage uint64
	// Limit is the memory limit; 0 means the container has none.
	Limit uint64
}

// Source reads the memory of every running container in one call.
type Source interface {
	// Name is the value of the exporter's source label, e.g. "cadvisor".
	Name() string
	// Read returns stats keyed by full container ID. It must honour ctx's
	// deadline, so a hung backend never stalls the refresher.
	Read(ctx context.Context) (map[string]Stats, error)
}
