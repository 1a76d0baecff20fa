package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sre-tools/promgen/internal/exporter/cache"
	"github.com/sre-tools/promgen/internal/testenv"
)

// session scripts one events request of a fakeEngine.
type session struct {
	hang    bool             // the engine never answers the events request
	listErr error            // the listing that follows fails
	events  []events.Message // sent on the stream, in order
	lasts   time.Duration    // how far the fake clock moves before the stream breaks
	err     error            // breaks the stream after the events; nil leaves it open
	// then, when set, replaces the engine's containers once the session
	// has synced, before its events are sent.
	then map[string]container.InspectResponse
}

// fakeEngine answers the Engine calls from scripted sessions and a fixed
// set of containers, on a fake clock, and records every call.
type fakeEngine struct {
	containers map[string]container.InspectResponse
	sessions   []session
	done       chan struct{} // closed when the sessions run out
	stop       chan struct{} // closed by the test once done is

	// goneAfter makes a container vanish once inspected that many times.
	goneAfter map[string]int
	// beforeEvent runs before each event is sent; tests scrape there.
	beforeEvent func()
	// stall, when set, holds every inspect after the first sync until the
	// test closes it: a handler stuck on a slow engine. stalled is closed
	// when the first inspect is held.
	stall, stalled chan struct{}

	mu       sync.Mutex
	inspects map[string]int
	clock    time.Time
	calls    []string // "events since=...", "list", "inspect <id>"
	waits    []time.Duration
	listErr  error
	gate     chan struct{} // closed when the current session has synced
	syncs    int
}

// synced is the source's onSync: it lets the current session's events go.
func (f *fakeEngine) synced() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.syncs++
	close(f.gate)
}

// t0 is near the real time: the cache expires removed containers by it.
var t0 = time.Now().UTC().Truncate(time.Second)

func (f *fakeEngine) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.clock
}

func (f *fakeEngine) wait(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waits = append(f.waits, d)
	f.clock = f.clock.Add(d)
	ch := make(chan time.Time, 1)
	ch <- f.clock
	return ch
}

func (f *fakeEngine) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeEngine) Events(ctx context.Context, opts client.EventsListOptions) client.EventsResult {
	f.record("events since=" + opts.Since)
	msgs, errs := make(chan events.Message), make(chan error, 1)
	res := client.EventsResult{Messages: msgs, Err: errs}
	f.mu.Lock()
	if len(f.sessions) == 0 {
		f.mu.Unlock()
		close(f.done)
		<-f.stop
		errs <- context.Canceled
		return res
	}
	s := f.sessions[0]
	f.sessions, f.listErr = f.sessions[1:], s.listErr
	gate := make(chan struct{})
	f.gate = gate
	f.mu.Unlock()
	if s.hang {
		<-ctx.Done()
		errs <- ctx.Err()
		return res
	}
	go func() {
		// The source reads the stream from its opening on: the events
		// wait for the sync, so that the containers change and the clock
		// moves after it and before the first event is handled.
		select {
		case <-gate:
		case <-ctx.Done():
			errs <- ctx.Err()
			return
		}
		if s.then != nil {
			f.mu.Lock()
			f.containers = s.then
			f.mu.Unlock()
		}
		for i, m := range s.events {
			if f.beforeEvent != nil {
				f.beforeEvent()
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				errs <- ctx.Err()
				return
			}
			if i == 0 && f.stall != nil {
				// The rest come once the first one's inspect is held.
				select {
				case <-f.stalled:
				case <-ctx.Done():
					errs <- ctx.Err()
					return
				}
			}
		}
		if s.err == nil {
			<-ctx.Done()
			errs <- ctx.Err()
			return
		}
		f.mu.Lock()
		f.clock = f.clock.Add(s.lasts)
		f.mu.Unlock()
		errs <- s.err
	}()
	return res
}

func (f *fakeEngine) ContainerList(ctx context.Context, _ client.ContainerListOptions) (client.ContainerListResult, error) {
	if err := ctx.Err(); err != nil {
		return client.ContainerListResult{}, err
	}
	f.record("list")
	f.mu.Lock()
	err := f.listErr
	f.mu.Unlock()
	if err != nil {
		return client.ContainerListResult{}, err
	}
	var r client.ContainerListResult
	f.mu.Lock()
	defer f.mu.Unlock()
	for id := range f.containers {
		r.Items = append(r.Items, container.Summary{ID: id})
	}
	// A container listed but gone by its inspect.
	r.Items = append(r.Items, container.Summary{ID: "vanished"})
	slices.SortFunc(r.Items, func(a, b container.Summary) int { return strings.Compare(a.ID, b.ID) })
	return r, nil
}

func (f *fakeEngine) ContainerInspect(ctx context.Context, id string, _ client.ContainerInspectOptions) (client.ContainerInspectResult, error) {
	if err := ctx.Err(); err != nil {
		return client.ContainerInspectResult{}, err
	}
	f.record("inspect " + id)
	f.mu.Lock()
	if f.stall != nil && f.syncs > 0 {
		stall := f.stall
		select {
		case <-f.stalled:
		default:
			close(f.stalled)
		}
		f.mu.Unlock()
		select {
		case <-stall:
		case <-ctx.Done():
			return client.ContainerInspectResult{}, ctx.Err()
		}
		f.mu.Lock()
	}
	c, ok := f.containers[id]
	if n, limited := f.goneAfter[id]; limited && f.inspects[id] >= n {
		ok = false
	}
	f.inspects[id]++
	f.mu.Unlock()
	if !ok {
		return client.ContainerInspectResult{}, fmt.Errorf("no such container %s: %w", id, cerrdefs.ErrNotFound)
	}
	return client.ContainerInspectResult{Container: c}, nil
}

func running(id, name string) container.InspectResponse {
	return container.InspectResponse{ID: id, Name: "/" + name,
		Config: &container.Config{Image: "gw:1", Labels: map[string]string{cache.LabelComposeProject: "stack", cache.LabelComposeService: name}},
		State:  &container.State{Status: container.StateRunning, StartedAt: t0.Format(time.RFC3339Nano)}}
}

func event(id, action string, at time.Time, attrs ...string) events.Message {
	a := map[string]string{}
	for i := 0; i+1 < len(attrs); i += 2 {
		a[attrs[i]] = attrs[i+1]
	}
	return events.Message{Type: events.ContainerEventType, Action: events.Action(action), Actor: events.Actor{ID: id, Attributes: a}, TimeNano: at.UnixNano()}
}

// TestSource drives the source's sessions, since= and backoff against a
// fake engine; the real-engine tests in docker_test.go cover what Docker
// itself sends.
func TestSource(t *testing.T) {
	broken := errors.New("connection reset")
	refused := errors.New("connection refused")
	for _, tc := range []struct {
		name       string
		containers map[string]container.InspectResponse
		sessions   []session
		calls      []string        // the calls expected, in order; nil: not checked
		since      []string        // the since= of each events request
		waits      []time.Duration // each backoff, in order
		series     []string        // lines the scrape must hold
		goneAfter  map[string]int
	}{{
		name:       "the stream opens before the listing, a container gone by its inspect is skipped, a destroy is not followed by an inspect, and an action the source does not follow (exec) is ignored",
		containers: map[string]container.InspectResponse{"a": running("a", "web")},
		sessions: []session{{events: []events.Message{
			event("a", "exec_start: /bin/true", t0.Add(time.Second)),
			event("a", "die", t0.Add(2*time.Second), "exitCode", "1"),
			event("gone", "destroy", t0.Add(3*time.Second)),
		}, err: io.EOF}},
		calls:  []string{"events since=", "list", "inspect a", "inspect vanished", "inspect a", "events since=" + t0.Add(3*time.Second).Format(time.RFC3339Nano)},
		series: []string{`docker_container_exits_total{compose_oneoff="false",compose_project="stack",compose_service="web",name="web",reason="error"} 1`},
	}, {
		name:       "a stream that breaks is reopened since the last event applied",
		containers: map[string]container.InspectResponse{"a": running("a", "web")},
		sessions: []session{
			{events: []events.Message{event("a", "start", t0.Add(1500*time.Millisecond))}, err: broken},
			{err: broken},
		},
		since: []string{"", t0.Add(1500 * time.Millisecond).Format(time.RFC3339Nano), t0.Add(1500 * time.Millisecond).Format(time.RFC3339Nano)},
	}, {
		name:       "with no event applied, a resync replays from the opening of the last stream that synced, not of one that failed",
		containers: map[string]container.InspectResponse{"a": running("a", "web")},
		sessions:   []session{{err: broken}, {listErr: refused}, {err: broken}},
		// The clock starts at t0 and moves by each backoff: 500ms, then 1s.
		since: []string{"", t0.Format(time.RFC3339Nano), t0.Format(time.RFC3339Nano), t0.Add(1500 * time.Millisecond).Format(time.RFC3339Nano)},
	}, {
		name:     "the backoff doubles with each failure up to the maximum",
		sessions: []session{{listErr: refused}, {listErr: refused}, {listErr: refused}, {listErr: refused}, {listErr: refused}},
		waits:    []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second},
		series:   []string{`gateway_exporter_source_errors_total{source="docker"} 5`, `gateway_exporter_source_up{source="docker"} 0`},
	}, {
		name: "the backoff starts again after a session that stayed synced longer than its wait, not after one that broke at once",
		sessions: []session{
			{listErr: refused}, {listErr: refused},
			{lasts: time.Minute, err: broken},
			{err: broken}, {err: broken},
		},
		waits: []time.Duration{500 * time.Millisecond, time.Second, 500 * time.Millisecond, time.Second, 2 * time.Second},
	}, {
		name:     "an engine that never answers the events request is given up after the request timeout and tried again",
		sessions: []session{{hang: true}, {hang: true}},
		calls:    []string{"events since=", "events since=", "events since="},
		waits:    []time.Duration{500 * time.Millisecond, time.Second},
		series:   []string{`gateway_exporter_source_errors_total{source="docker"} 2`},
	}, {
		name:       "a container docker compose recreates (created under a temporary name, the old one removed, the new one renamed) takes over at once, never beside the old one",
		containers: map[string]container.InspectResponse{"old": running("old", "web")},
		sessions: []session{{
			// The new container's inspect already shows the name.
			then: map[string]container.InspectResponse{"new": running("new", "web")},
			events: []events.Message{
				event("new", "create", t0.Add(1*time.Second), "name", "old_web", cache.LabelComposeProject, "stack", cache.LabelComposeService, "web"),
				event("old", "kill", t0.Add(2*time.Second), "name", "web"),
				event("old", "die", t0.Add(3*time.Second), "name", "web", "exitCode", "143"),
				event("old", "destroy", t0.Add(4*time.Second), "name", "web"),
				event("new", "rename", t0.Add(5*time.Second), "name", "web"),
				event("new", "start", t0.Add(6*time.Second), "name", "web"),
			},
			err: io.EOF,
		}},
		series: []string{
			`docker_container_exits_total{compose_oneoff="false",compose_project="stack",compose_service="web",name="web",reason="terminated"} 1`,
			`docker_container_info{compose_oneoff="false",compose_project="stack",compose_service="web",id="new",image="gw:1",name="web"} 1`,
			`gateway_exporter_identity_collisions_total{} 0`,
		},
	}, {
		name:       "two containers inspected under one name during a listing are inspected again, and the one gone is left out",
		containers: map[string]container.InspectResponse{"old": running("old", "web"), "new": running("new", "web")},
		goneAfter:  map[string]int{"old": 1},
		sessions:   []session{{err: io.EOF}},
		calls:      []string{"events since=", "list", "inspect new", "inspect old", "inspect vanished", "inspect new", "inspect old", "events since=" + t0.Format(time.RFC3339Nano)},
		series: []string{
			`docker_container_info{compose_oneoff="false",compose_project="stack",compose_service="web",id="new",image="gw:1",name="web"} 1`,
			`gateway_exporter_identity_collisions_total{} 0`,
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeEngine{containers: tc.containers, sessions: tc.sessions, done: make(chan struct{}), stop: make(chan struct{}), clock: t0,
				goneAfter: tc.goneAfter, inspects: map[string]int{}}
			c := cache.New(cache.Options{Retention: time.Hour})
			var scrapeErrs []error
			f.beforeEvent = func() {
				if _, err := testenv.ParseScrape(serve(c).Body); err != nil {
					scrapeErrs = append(scrapeErrs, err)
				}
			}
			f.drive(t, c, Options{RequestTimeout: 50 * time.Millisecond}, nil)

			f.mu.Lock()
			defer f.mu.Unlock()
			if tc.calls != nil && !slices.Equal(f.calls, tc.calls) {
				t.Errorf("calls:\n%q\nwant:\n%q", f.calls, tc.calls)
			}
			var since []string
			for _, call := range f.calls {
				if s, ok := strings.CutPrefix(call, "events since="); ok {
					since = append(since, s)
				}
			}
			if tc.since != nil && !slices.Equal(since, tc.since) {
				t.Errorf("since= of each events request: %q, want %q", since, tc.since)
			}
			if tc.waits != nil && !slices.Equal(f.waits, tc.waits) {
				t.Errorf("backoffs %v, want %v", f.waits, tc.waits)
			}
			if len(scrapeErrs) > 0 {
				t.Errorf("scrapes between events: %v", scrapeErrs)
			}
			got := scrape(t, c)
			for _, want := range tc.series {
				if !slices.Contains(got, want) {
					t.Errorf("missing %s in:\n%s", want, strings.Join(got, "\n"))
				}
			}
		})
	}
}

// drive runs a source on f into c until f's sessions are used up, with
// the backoff of TestSource, and runs during (if set) while it runs.
func (f *fakeEngine) drive(t *testing.T, c *cache.Cache, o Options, during func()) {
	t.Helper()
	o.MinBackoff, o.MaxBackoff = 500*time.Millisecond, 4*time.Second
	s := New(f, c, slog.New(slog.DiscardHandler), o)
	s.now, s.wait, s.onSync = f.now, f.wait, f.synced
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { s.Run(ctx); close(ran) }()
	if during != nil {
		during()
	}
	select {
	case <-f.done:
	case <-time.After(30 * time.Second):
		f.mu.Lock()
		t.Errorf("the source did not use up its sessions; calls: %q", f.calls)
		f.mu.Unlock()
	}
	cancel()
	close(f.stop)
	<-ran
}

// TestQueueOverflow stalls the handler on an inspect while the engine
// replays more events than the queue holds: the event that finds the queue
// full is dropped and counted, the events queued before it are applied, and
// the source resyncs, replaying from the last one applied although that is
// older than the opening of the stream, and lists the container whose
// event was never read.
func TestQueueOverflow(t *testing.T) {
	const queue, renames = 4, 20
	// A replay: events from before the stream was opened, at t0.
	at := func(i int) time.Time { return t0.Add(-time.Minute + time.Duration(i)*time.Second) }
	var flood []events.Message
	for i := 1; i <= renames; i++ {
		flood = append(flood, event("a", "rename", at(i), "name", fmt.Sprintf("web-%d", i)))
	}
	flood = append(flood, event("b", "create", at(renames+1), "name", "worker"))
	f := &fakeEngine{
		containers: map[string]container.InspectResponse{"a": running("a", "web")},
		sessions: []session{
			{then: map[string]container.InspectResponse{"a": running("a", fmt.Sprint("web-", renames)), "b": running("b", "worker")}, events: flood},
			{err: io.EOF},
		},
		done: make(chan struct{}), stop: make(chan struct{}), clock: t0, inspects: map[string]int{},
		stall: make(chan struct{}), stalled: make(chan struct{}),
	}
	c := cache.New(cache.Options{Retention: time.Hour})
	dropped := func() bool {
		return slices.Contains(testenv.Parse(t, serve(c).Body), `gateway_exporter_events_dropped_total{} 1`)
	}
	f.drive(t, c, Options{EventQueue: queue, RequestTimeout: time.Minute}, func() {
		// The first rename's inspect is held; the next ones fill the
		// queue, and one more finds it full.
		for i := 0; !dropped(); i++ {
			if i == 3000 {
				t.Errorf("no event dropped with the handler stalled")
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		close(f.stall)
	})

	f.mu.Lock()
	defer f.mu.Unlock()
	var since []string
	for _, call := range f.calls {
		if s, ok := strings.CutPrefix(call, "events since="); ok {
			since = append(since, s)
		}
	}
	// One rename handled, queue more queued; the second session opened
	// at t0 plus the first backoff.
	want := []string{"", at(1 + queue).Format(time.RFC3339Nano), t0.Add(500 * time.Millisecond).Format(time.RFC3339Nano)}
	if !slices.Equal(since, want) {
		t.Errorf("since= of each events request: %q, want %q", since, want)
	}
	if n := f.inspects["a"]; n != 2+queue+1 {
		// The two listings, each rename applied, nothing after the drop.
		t.Errorf("a inspected %d times, want %d", n, 2+queue+1)
	}
	got := scrape(t, c)
	for _, want := range []string{
		`docker_container_info{compose_oneoff="false",compose_project="stack",compose_service="web-20",id="a",image="gw:1",name="web-20"} 1`,
		`docker_container_info{compose_oneoff="false",compose_project="stack",compose_service="worker",id="b",image="gw:1",name="worker"} 1`,
		`gateway_exporter_events_dropped_total{} 1`,
		// The stream that ended counts; the full queue does not.
		`gateway_exporter_source_errors_total{source="docker"} 1`,
		`gateway_exporter_events_total{action="rename"} 5`,
	} {
		if !slices.Contains(got, want) {
			t.Errorf("missing %s in:\n%s", want, strings.Join(got, "\n"))
		}
	}
}

// scrape scrapes c twice, each checked for a series given twice, and
// returns the second: a collision the first one's rendering counts shows in
// the second, whose exporter metrics are gathered first.
func scrape(t *testing.T, c *cache.Cache) []string {
	t.Helper()
	testenv.Parse(t, serve(c).Body)
	return testenv.Parse(t, serve(c).Body)
}

func serve(c *cache.Cache) *httptest.ResponseRecorder {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	w := httptest.NewRecorder()
	c.Handler(reg, slog.New(slog.DiscardHandler)).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return w
}
