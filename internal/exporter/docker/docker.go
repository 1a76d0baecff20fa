// Package docker keeps the exporter's cache in step with a Docker engine:
// a full list and inspect, then the container events stream, and after any
// break a reconnect with backoff that lists again and replays the events
// missed since the last one applied. A handler that falls a whole queue
// behind the stream is such a break.
package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"

	"github.com/sre-tools/promgen/internal/exporter/cache"
)

// Name is the value of the source label for Docker.
const Name = "docker"

// Options tune a Source; the zero value gives the defaults.
type Options struct {
	// MinBackoff and MaxBackoff bound the wait between reconnect attempts
	// (defaults 500ms and 30s); the wait doubles after each failure.
	MinBackoff, MaxBackoff time.Duration
	// RequestTimeout bounds each list or inspect call (default 10s).
	RequestTimeout time.Duration
	// EventQueue is how many events read from the stream may wait for the
	// handler (default 1024). The stream is read apart from the handler,
	// which waits on inspects, because dockerd drops, unannounced, an
	// event a subscriber does not take within 100ms once 1024 wait for
	// it; when the queue is full the source drops the event, counts it,
	// and resyncs.
	EventQueue int
}

// followed are the container actions the source asks the engine for: the
// ones Cache.Apply reads and the ones after which an inspect shows a
// change (state, health, restart count, name, memory limit). The others,
// exec_* above all (three per healthcheck probe), stay on the engine, so
// that they neither cost a read nor take room in the queue. kill is left
// out: the die that follows it is what changes anything.
var followed = []events.Action{
	events.ActionCreate, events.ActionStart, events.ActionRestart, events.ActionStop,
	events.ActionDie, events.ActionOOM, events.ActionPause, events.ActionUnPause,
	events.ActionRename, events.ActionUpdate, events.ActionDestroy, events.ActionHealthStatus,
}

// errQueueFull ends a session whose handler fell a whole queue behind the
// event stream.
var errQueueFull = errors.New("event queue full")

// Engine is the part of the Docker Engine API the source uses.
// *client.Client implements it; unit tests put a fake in its place.
type Engine interface {
	// Events returns once the engine has answered the request, with the
	// stream of events it then sends.
	Events(ctx context.Context, opts client.EventsListOptions) client.EventsResult
	ContainerList(ctx context.Context, opts client.ContainerListOptions) (client.ContainerListResult, error)
	ContainerInspect(ctx context.Context, id string, opts client.ContainerInspectOptions) (client.ContainerInspectResult, error)
}

// Source feeds a Cache from a Docker engine.
type Source struct {
	engine Engine
	cache  *cache.Cache
	log    *slog.Logger
	opts   Options

	// opened is when the last stream that synced was opened: with no event
	// applied since, it is the earliest time a resync must replay from.
	// Zero after an overflow: the events dropped may be older (a replay),
	// and only the cursor bounds them.
	opened time.Time

	// now and wait are time.Now and time.After; unit tests replace them to
	// read the backoff without waiting it out. onSync runs when a session
	// has synced; unit tests change their fake engine there, as the stream
	// is read from its opening on.
	now    func() time.Time
	wait   func(time.Duration) <-chan time.Time
	onSync func()
}

// New returns a Source reading from engine into c. A *client.Client
// negotiates its API version on first use, so a Docker 20.10 daemon (API
// 1.41) works.
func New(engine Engine, c *cache.Cache, log *slog.Logger, opts Options) *Source {
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 500 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 10 * time.Second
	}
	if opts.EventQueue <= 0 {
		opts.EventQueue = 1024
	}
	return &Source{engine: engine, cache: c, log: log, opts: opts, now: time.Now, wait: time.After, onSync: func() {}}
}

// Run follows the engine until ctx ends. It starts whether or not the
// engine is reachable, and reports each failed attempt as an error of the
// docker source while retrying with backoff. The backoff starts again from
// MinBackoff after a session that stayed synced for longer than the wait
// it would otherwise have: a stream that breaks as soon as it is synced,
// such as one sending garbage, keeps backing off.
func (s *Source) Run(ctx context.Context) {
	s.cache.SetSourceUp(Name, false)
	backoff := s.opts.MinBackoff
	for {
		synced, err := s.session(ctx)
		if ctx.Err() != nil {
			return
		}
		s.cache.SetSourceUp(Name, false)
		msg := "docker source disconnected, retrying"
		if errors.Is(err, errQueueFull) {
			// No failed request: events_dropped_total counts it.
			msg = "docker source resyncing"
		} else {
			s.cache.SourceError(Name)
		}
		if !synced.IsZero() && s.now().Sub(synced) > backoff {
			backoff = s.opts.MinBackoff
		}
		s.log.Warn(msg, "err", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return
		case <-s.wait(backoff):
		}
		backoff = min(2*backoff, s.opts.MaxBackoff)
	}
}

// session opens the event stream, resyncs, then applies events until the
// stream breaks or the queue overflows, and returns when it synced (zero if
// it did not). The stream is opened before the listing so that nothing
// happening during the listing is lost; replays it causes are deduplicated
// by the cache. It is read into the queue from then on, the listing's time
// included.
func (s *Source) session(ctx context.Context) (synced time.Time, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	actions := make([]string, len(followed))
	for i, a := range followed {
		actions[i] = string(a)
	}
	opts := client.EventsListOptions{Filters: make(client.Filters).Add("type", string(events.ContainerEventType)).Add("event", actions...)}
	since := s.cache.Cursor()
	if s.opened.After(since) {
		since = s.opened
	}
	if !since.IsZero() {
		opts.Since = since.UTC().Format(time.RFC3339Nano)
	}
	opened := s.now()
	// Events waits for the engine's answer, which a daemon that accepts
	// connections but never answers would withhold for ever.
	timer := time.AfterFunc(s.opts.RequestTimeout, cancel)
	stream := s.engine.Events(ctx, opts)
	if !timer.Stop() {
		return time.Time{}, fmt.Errorf("docker events: no answer within %s", s.opts.RequestTimeout)
	}
	queue := make(chan events.Message, s.opts.EventQueue)
	var readErr error // written before queue is closed
	go func() {
		readErr = s.read(ctx, stream, queue)
		close(queue)
	}()

	if err := s.resync(ctx); err != nil {
		return time.Time{}, err
	}
	s.opened = opened
	synced = s.now()
	s.cache.SetSourceUp(Name, true)
	s.log.Info("docker source synced", "since", opts.Since)
	s.onSync()

	// The events queued before a break are applied: with a full queue
	// that is what moves the cursor on, so that a replay longer than the
	// queue still gets through, a queue at a time.
	for m := range queue {
		if ctx.Err() != nil {
			return synced, ctx.Err() // shutting down: no inspect would answer
		}
		s.handle(ctx, m)
	}
	if errors.Is(readErr, errQueueFull) {
		// The dropped events came after the last one applied, maybe
		// before the opening of this stream (a replay): replay from the
		// cursor.
		s.opened = time.Time{}
	}
	return synced, readErr
}

// read moves the stream's events to queue until the stream breaks or an
// event finds the queue full; it stops reading at that event, so that every
// event dropped comes after every event queued.
func (s *Source) read(ctx context.Context, stream client.EventsResult, queue chan<- events.Message) error {
	for {
		select {
		case m := <-stream.Messages:
			select {
			case queue <- m:
			default:
				s.cache.EventDropped()
				return fmt.Errorf("docker events: %w (%d waiting), dropped %s of %s", errQueueFull, cap(queue), m.Action, m.Actor.ID)
			}
		case err := <-stream.Err:
			if errors.Is(err, io.EOF) {
				err = errors.New("event stream ended")
			}
			return fmt.Errorf("docker events: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// resync lists every container and inspects each one.
func (s *Source) resync(ctx context.Context) error {
	at := s.now()
	lctx, cancel := context.WithTimeout(ctx, s.opts.RequestTimeout)
	list, err := s.engine.ContainerList(lctx, client.ContainerListOptions{All: true})
	cancel()
	if err != nil {
		return fmt.Errorf("docker list containers: %w", err)
	}
	cs := make([]cache.Container, 0, len(list.Items))
	byName := map[string][]int{}
	for _, it := range list.Items {
		c, err := s.inspect(ctx, it.ID)
		if cerrdefs.IsNotFound(err) {
			continue // removed between list and inspect
		}
		if err != nil {
			return err
		}
		byName[c.Name] = append(byName[c.Name], len(cs))
		cs = append(cs, c)
	}
	// Two containers inspected under one name: a rename happened during
	// the listing (compose's recreate gives the new container the old
	// one's name once that is removed). Inspect them again.
	gone := map[string]bool{}
	for _, idx := range byName {
		if len(idx) < 2 {
			continue
		}
		for _, i := range idx {
			c, err := s.inspect(ctx, cs[i].ID)
			switch {
			case cerrdefs.IsNotFound(err):
				gone[cs[i].ID] = true
			case err != nil:
				return err
			default:
				cs[i] = c
			}
		}
	}
	cs = slices.DeleteFunc(cs, func(c cache.Container) bool { return gone[c.ID] })
	s.cache.Sync(cs, at)
	return nil
}

// handle applies one event, then inspects the container for the state,
// restart count and health the event implies. An action the source does not
// follow is ignored, should an engine send one the filter left out.
func (s *Source) handle(ctx context.Context, m events.Message) {
	action := string(m.Action)
	name, _, _ := strings.Cut(action, ":") // "health_status: healthy"
	if m.Type != events.ContainerEventType || m.Actor.ID == "" || !slices.Contains(followed, events.Action(name)) {
		return
	}
	t := time.Unix(0, m.TimeNano)
	if m.TimeNano == 0 {
		t = time.Unix(m.Time, 0)
	}
	if !s.cache.Apply(cache.Event{ID: m.Actor.ID, Action: action, Time: t, Attributes: m.Actor.Attributes}) {
		return
	}
	if m.Action == events.ActionDestroy {
		return
	}
	c, err := s.inspect(ctx, m.Actor.ID)
	switch {
	case cerrdefs.IsNotFound(err):
		s.cache.Remove(m.Actor.ID, t)
	case err != nil:
		s.cache.SourceError(Name)
		s.log.Warn("docker inspect failed", "id", m.Actor.ID, "err", err)
	default:
		s.upsert(ctx, c)
	}
}

// upsert records an inspect of a container. Another container the cache
// still has under its name has been removed or renamed since, its events
// not read yet: docker compose's recreate creates the new container under a
// temporary name, removes the old one and renames the new one, so the new
// one's inspect can show the name before the old one's destroy is read.
// That one is inspected first, so that the cache never holds two containers
// with one identity and the new one takes over the old one's series at once.
func (s *Source) upsert(ctx context.Context, c cache.Container) {
	for _, id := range s.cache.Holders(c) {
		held, err := s.inspect(ctx, id)
		switch {
		case cerrdefs.IsNotFound(err):
			s.cache.Remove(id, s.now())
		case err != nil:
			s.cache.SourceError(Name)
			s.log.Warn("docker inspect failed", "id", id, "err", err)
		default:
			s.cache.Upsert(held)
		}
	}
	s.cache.Upsert(c)
}

func (s *Source) inspect(ctx context.Context, id string) (cache.Container, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.RequestTimeout)
	defer cancel()
	r, err := s.engine.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return cache.Container{}, fmt.Errorf("docker inspect %s: %w", id, err)
	}
	return fromInspect(r.Container), nil
}

func fromInspect(r container.InspectResponse) cache.Container {
	c := cache.Container{ID: r.ID, Name: strings.TrimPrefix(r.Name, "/"), RestartCount: r.RestartCount}
	if r.Config != nil {
		c.Image, c.Labels = r.Config.Image, r.Config.Labels
	}
	if r.HostConfig != nil {
		c.MemoryLimit = r.HostConfig.Memory
	}
	if st := r.State; st != nil {
		c.State, c.ExitCode, c.OOMKilled = string(st.Status), st.ExitCode, st.OOMKilled
		c.StartedAt, c.FinishedAt = parseTime(st.StartedAt), parseTime(st.FinishedAt)
		if st.Health != nil && st.Health.Status != container.NoHealthcheck {
			c.Health = string(st.Health.Status)
		}
	}
	return c
}

// parseTime reads Docker's timestamps; Docker writes the zero time as
// 0001-01-01T00:00:00Z, which parses to time.Time's zero.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
