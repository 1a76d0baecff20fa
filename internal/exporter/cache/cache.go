// Package cache holds what gateway-exporter knows about containers: the
// Docker source and the memory refresher write to it, and scrapes read from
// it only, so a scrape never waits on Docker or cAdvisor and costs the same
// however slow they are (the kube-state-metrics model). Each container's
// series are rendered when the container changes, not when it is scraped.
package cache

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/internal/exporter/memory"
)

// Docker label keys that carry a container's compose identity.
const (
	LabelComposeProject = catalog.DockerLabelComposeProject
	LabelComposeService = catalog.DockerLabelComposeService
	LabelComposeOneoff  = catalog.DockerLabelComposeOneoff
)

// Container is one container as a source last observed it (for Docker, an
// inspect).
type Container struct {
	ID     string
	Name   string // without Docker's leading slash
	Image  string
	Labels map[string]string
	State  string // one of catalog.States
	Health string // one of catalog.HealthStatuses; empty without a healthcheck

	RestartCount int
	StartedAt    time.Time
	// MemoryLimit is the configured limit (HostConfig.Memory), 0 for none.
	// It is known for stopped containers too, when no stats answer, which
	// is when an OOM alert needs it.
	MemoryLimit int64

	// FinishedAt, ExitCode and OOMKilled describe the last exit as the source
	// reports it. Docker resets ExitCode and OOMKilled when the container
	// starts again, so they are only read while the container is not running.
	FinishedAt time.Time
	ExitCode   int
	OOMKilled  bool
}

// Event is one container event (die, oom, start, destroy, health_status, ...).
type Event struct {
	ID     string
	Action string // as Docker sends it, e.g. "health_status: unhealthy"
	Time   time.Time
	// Attributes are Docker's actor attributes: name, image, exitCode and the
	// container's labels.
	Attributes map[string]string
}

// Options configure a Cache.
type Options struct {
	// Retention is how long a removed container's last termination and exit
	// counters stay published.
	Retention time.Duration
	// Labels are container label keys published on docker_container_info,
	// each as label_<key with invalid characters replaced by _>.
	Labels []string
	// OOMGrace is how long a die with exit code 137 and no oom event before
	// it waits for a late oom event before it is counted as killed: Docker
	// usually sends oom before die, but the two come from different watchers
	// and can arrive the other way round. Zero counts it at once.
	OOMGrace time.Duration
	// Now returns the current time; tests set it to drive retention.
	Now func() time.Time
	// AfterFunc runs f once d has passed, as time.AfterFunc does (the
	// default); tests set it to end an OOM grace when they choose, rather
	// than sleep past it.
	AfterFunc func(d time.Duration, f func())
}

type eventKey struct {
	id, action string
	t          int64
}

// entry is one container, live or removed, with its rendered series.
type entry struct {
	id      string
	key     identity
	c       Container
	live    bool
	removed time.Time // when it was removed; zero while live

	exits []float64 // by index in catalog.Reasons
	last  *termination
	held  []*termination // dies with 137 waiting for a late oom event
	oomAt time.Time      // an oom event not yet matched by a die
	mem   *memory.Stats
	text  *rendered
}

// Cache is the exporter's state of every container. It is safe for
// concurrent use. Its Handler serves scrapes; as a prometheus.Collector it
// gives the exporter's own metrics.
type Cache struct {
	opts  Options
	descs descs

	mu        sync.RWMutex
	entries   map[string]*entry   // by container ID, live and removed
	removed   map[identity]string // removed container ID by identity
	adopted   map[string]heir     // by the ID of a removed container another one adopted
	seen      map[eventKey]struct{}
	seenCap   int       // size of seen that triggers the next trim
	cursor    time.Time // time of the latest event applied
	events    map[string]float64
	dropped   float64 // events a source had no room to queue
	sourceUp  map[string]bool
	sourceErr map[string]float64

	collisions atomic.Int64 // containers a scrape left out for a shared identity
}

// New returns an empty cache.
func New(opts Options) *Cache {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AfterFunc == nil {
		opts.AfterFunc = func(d time.Duration, f func()) { time.AfterFunc(d, f) }
	}
	return &Cache{
		opts:      opts,
		descs:     newDescs(opts.Labels),
		entries:   map[string]*entry{},
		removed:   map[identity]string{},
		adopted:   map[string]heir{},
		seen:      map[eventKey]struct{}{},
		events:    map[string]float64{},
		sourceUp:  map[string]bool{},
		sourceErr: map[string]float64{},
	}
}

// Cursor returns the time of the latest event applied, the since= of a
// resync; zero before the first event.
func (c *Cache) Cursor() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.cursor
}

// Sync replaces the set of live containers with a full listing taken at
// time at: listed containers are updated, unlisted live ones are marked
// removed at that time.
func (c *Cache) Sync(cs []Container, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	listed := make(map[string]bool, len(cs))
	for _, x := range cs {
		listed[x.ID] = true
		c.upsert(x)
	}
	for id, e := range c.entries {
		if e.live && !listed[id] {
			c.remove(e, at)
		}
	}
	c.expire()
}

// Upsert records one container as a source observed it.
func (c *Cache) Upsert(x Container) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.upsert(x)
	c.expire()
}

// Remove marks a container removed at time at, e.g. when an inspect says it
// no longer exists.
func (c *Cache) Remove(id string, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[id]; ok && e.live {
		c.remove(e, at)
	}
	c.expire()
}

// Apply records one container event and reports whether it was new: replays
// of an event already applied (same container, action and time, as a resync
// with since= sends them) change nothing.
func (c *Cache) Apply(ev Event) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := eventKey{ev.ID, ev.Action, ev.Time.UnixNano()}
	if _, dup := c.seen[k]; dup {
		return false
	}
	c.seen[k] = struct{}{}
	if ev.Time.After(c.cursor) {
		c.cursor = ev.Time
	}
	c.forget()
	action, status, _ := strings.Cut(ev.Action, ":")
	c.events[action]++

	e, ok := c.entries[ev.ID]
	if !ok {
		if h := c.heir(ev.ID); h != nil {
			// Only an exit carries over to the container that took
			// this one's place; its other events are history.
			switch action {
			case "die":
				c.die(h, ev)
			case "oom":
				c.lateOOM(h, ev.Time)
			}
			return true
		}
		if action == "destroy" || ev.ID == "" {
			return true
		}
		// An event about a container not listed yet, or one removed before
		// a resync could list it: its attributes carry its identity.
		e = c.upsert(Container{ID: ev.ID, Name: ev.Attributes["name"], Image: ev.Attributes["image"], Labels: ev.Attributes})
		if e == nil {
			return true
		}
	}
	switch action {
	case "oom":
		c.oom(e, ev.Time)
	case "start":
		if !e.oomAt.After(ev.Time) {
			e.oomAt = time.Time{}
		}
	case "die":
		c.die(e, ev)
	case "health_status":
		e.c.Health = strings.TrimSpace(status)
		c.render(e)
	case "rename":
		if name := ev.Attributes["name"]; name != "" && name != e.c.Name {
			c.rename(e, name)
		}
	case "destroy":
		if e.live {
			c.remove(e, ev.Time)
		} else if ev.Time.Before(e.removed) {
			e.removed = ev.Time
		}
	}
	// Other actions (start, exec_*, ...) change no series: the inspect that
	// follows them does.
	c.expire()
	return true
}

// SetMemory replaces the memory figures of every live container; containers
// missing from stats publish none.
func (c *Cache) SetMemory(stats map[string]memory.Stats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, e := range c.entries {
		if !e.live {
			continue
		}
		s, ok := stats[id]
		switch {
		case !ok && e.mem == nil:
			continue
		case !ok:
			e.mem = nil
		case e.mem != nil && *e.mem == s:
			continue
		default:
			e.mem = &s
		}
		c.render(e)
	}
	c.expire()
}

// SetSourceUp records whether the exporter's last contact with a source
// succeeded.
func (c *Cache) SetSourceUp(source string, up bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sourceUp[source] = up
	if _, ok := c.sourceErr[source]; !ok {
		c.sourceErr[source] = 0
	}
}

// SourceError counts one failed request to a source.
func (c *Cache) SourceError(source string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sourceErr[source]++
}

// EventDropped counts one event a source read but had no room to queue.
func (c *Cache) EventDropped() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropped++
}

// upsert updates or creates the entry of a live container, and returns it;
// nil for a container removed and adopted, which cannot come back. Callers
// hold mu.
func (c *Cache) upsert(x Container) *entry {
	if _, gone := c.adopted[x.ID]; gone {
		return nil
	}
	e, known := c.entries[x.ID]
	if !known {
		e = &entry{id: x.ID, live: true, exits: make([]float64, len(catalog.Reasons))}
		c.entries[x.ID] = e
	}
	if !e.live {
		// A removed container cannot come back; a late inspect is stale.
		return e
	}
	if x.State == "" {
		// Built from event attributes: keep what an inspect already said.
		x.State, x.Health, x.RestartCount, x.StartedAt, x.MemoryLimit = e.c.State, e.c.Health, e.c.RestartCount, e.c.StartedAt, e.c.MemoryLimit
	}
	e.c = x
	e.key = identityOf(x)
	c.adopt(e)
	// An exit that only an inspect shows: one from before the exporter
	// started, or one no event reported, as when the daemon restarted
	// (Docker keeps no events across a restart). It is counted only if the
	// container was known before, so that starting the exporter does not
	// count old exits.
	if x.State != "running" && x.State != "restarting" && x.State != "paused" && !x.FinishedAt.IsZero() {
		c.terminate(e, termination{code: x.ExitCode, reason: catalog.Reason(x.ExitCode, x.OOMKilled), time: x.FinishedAt}, known)
	}
	c.render(e)
	return e
}

// expire drops removed containers past their retention. Callers hold mu.
func (c *Cache) expire() {
	now := c.opts.Now()
	for k, id := range c.removed {
		if e := c.entries[id]; c.expired(e, now) {
			delete(c.removed, k)
			delete(c.entries, id)
		}
	}
	for id, h := range c.adopted {
		if !now.Before(h.until) {
			delete(c.adopted, id)
		}
	}
}

func (c *Cache) expired(e *entry, now time.Time) bool {
	return !e.live && !now.Before(e.removed.Add(c.opts.Retention))
}

// dedupeWindow is how far before the cursor remembered event keys are kept:
// a resync replays events from the cursor on, so older keys cannot recur.
const dedupeWindow = 5 * time.Minute

// forget trims the remembered event keys each time they have doubled, so
// that trimming costs O(1) per event however busy the engine. Callers hold
// mu.
func (c *Cache) forget() {
	if len(c.seen) < max(c.seenCap, 4096) {
		return
	}
	horizon := c.cursor.Add(-dedupeWindow).UnixNano()
	for k := range c.seen {
		if k.t < horizon {
			delete(c.seen, k)
		}
	}
	c.seenCap = 2 * len(c.seen)
}
