// Package docker keeps the exporter's cache in step with a Docker engine:
// a full list and inspect, then the container events stream, and after any
// break a reconnect with backoff that lists again and replays the events
// missed since the last one applied.
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
}

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
	opened time.Time

	// now and wait are time.Now and time.After; unit tests replace them to
	// read the backoff without waiting it out.
	now  func() time.Time
	wait func(time.Duration) <-chan time.Time
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
	return &Source{engine: engine, cache: c, log: log, opts: opts, now: time.Now, wait: time.After}
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
		s.cache.SourceError(Name)
		if !synced.IsZero() && s.now().Sub(synced) > backoff {
			backoff = s.opts.MinBackoff
		}
		s.log.Warn("docker source disconnected, retrying", "err", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return
		case <-s.wait(backoff):
		}
		backoff = min(2*backoff, s.opts.MaxBackoff)
	}
}

// session opens the event stream, resyncs, then applies events until the
// stream breaks, and returns when it synced (zero if it did not). The
// stream is opened before the listing so that nothing happening during the
// listing is lost; replays it causes are deduplicated by the cache.
func (s *Source) session(ctx context.Context) (synced time.Time, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	opts := client.EventsListOptions{Filters: make(client.Filters).Add("type", string(events.ContainerEventType))}
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

	if err := s.resync(ctx); err != nil {
		return time.Time{}, err
	}
	s.opened = opened
	synced = s.now()
	s.cache.SetSourceUp(Name, true)
	s.log.Info("docker source synced", "since", opts.Since)

	for {
		select {
		case m := <-stream.Messages:
			s.handle(ctx, m)
		case err := <-stream.Err:
			if errors.Is(err, io.EOF) {
				err = errors.New("event stream ended")
			}
			return synced, fmt.Errorf("docker events: %w", err)
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
// restart count and health the event implies. Exec events (a healthcheck
// makes three per probe) change none of these and are not followed up.
func (s *Source) handle(ctx context.Context, m events.Message) {
	if m.Type != events.ContainerEventType || m.Actor.ID == "" {
		return
	}
	t := time.Unix(0, m.TimeNano)
	if m.TimeNano == 0 {
		t = time.Unix(m.Time, 0)
	}
	action := string(m.Action)
	if !s.cache.Apply(cache.Event{ID: m.Actor.ID, Action: action, Time: t, Attributes: m.Actor.Attributes}) {
		return
	}
	if action == string(events.ActionDestroy) || strings.HasPrefix(action, "exec_") {
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
