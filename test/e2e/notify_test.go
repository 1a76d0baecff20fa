//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/conventions"
	"github.com/sre-tools/promgen/rules"
)

// notification is one webhook notification Alertmanager sent: to which of
// the e2e profile's receivers (the URL path, "page" or "chat"), when, and
// which alerts it carried.
type notification struct {
	receiver string
	// groupKey is Alertmanager's key of the notified group: PagerDuty
	// deduplicates on it, so notifications of one group are one incident.
	groupKey string
	at       time.Time
	alerts   []amAlert // Status.State holds the webhook's "firing" or "resolved"
}

// webhooks records every notification Alertmanager sends to the e2e
// profile's receivers, on loopback at rules.E2EWebhookAddr: the webhooks
// the matrix counts (page, chat), the posts of Alertmanager's real Slack
// and PagerDuty notifiers to stand-ins of those APIs, and the heartbeats.
type webhooks struct {
	mu    sync.Mutex
	all   []notification
	slack []slackPost
	pd    []pdEvent
	beats []heartbeat
}

// slackPost is what Slack's incoming webhook API received, decoded as
// Slack reads it: Alertmanager's Slack notifier sends one attachment.
type slackPost struct {
	at          time.Time
	Channel     string `json:"channel"`
	Attachments []struct {
		Title string `json:"title"`
		Text  string `json:"text"`
	} `json:"attachments"`
}

// title and text are the post's one attachment's.
func (p slackPost) title() string { return p.Attachments[0].Title }
func (p slackPost) text() string  { return p.Attachments[0].Text }

// pdEvent is what PagerDuty's Events API v2 received.
type pdEvent struct {
	at          time.Time
	RoutingKey  string `json:"routing_key"`
	EventAction string `json:"event_action"`
	DedupKey    string `json:"dedup_key"`
	Payload     struct {
		Summary       string            `json:"summary"`
		Severity      string            `json:"severity"`
		CustomDetails map[string]string `json:"custom_details"`
	} `json:"payload"`
}

// heartbeat is one post of the Watchdog to the dead man's switch.
type heartbeat struct {
	at       time.Time
	watchdog bool      // it carried a firing Watchdog
	endsAt   time.Time // the Watchdog's, as Alertmanager holds it
}

func startWebhooks(t *testing.T) *webhooks {
	t.Helper()
	w := &webhooks{}
	l, err := net.Listen("tcp", rules.E2EWebhookAddr)
	if err != nil {
		t.Fatalf("webhook receiver on %s: %v", rules.E2EWebhookAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", w)
	mux.HandleFunc("POST "+rules.E2ESlackPath, w.slackAPI)
	mux.HandleFunc("POST "+rules.E2EPagerDutyPath, w.pagerDutyAPI)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return w
}

// slackAPI stands in for a Slack incoming webhook: it answers "ok", as
// Slack does, to a post with one attachment.
func (w *webhooks) slackAPI(rw http.ResponseWriter, r *http.Request) {
	p := slackPost{at: time.Now()}
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil || len(p.Attachments) != 1 {
		http.Error(rw, fmt.Sprintf("want one attachment: %v", err), http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	w.slack = append(w.slack, p)
	w.mu.Unlock()
	io.WriteString(rw, "ok")
}

// pagerDutyAPI stands in for PagerDuty's Events API v2: it accepts an
// event with the e2e profile's routing key, as PagerDuty answers (202).
func (w *webhooks) pagerDutyAPI(rw http.ResponseWriter, r *http.Request) {
	e := pdEvent{at: time.Now()}
	if err := json.NewDecoder(r.Body).Decode(&e); err != nil || e.RoutingKey != rules.E2EPagerDutyKey {
		http.Error(rw, fmt.Sprintf(`{"status":"invalid event","message":"%v"}`, err), http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	w.pd = append(w.pd, e)
	w.mu.Unlock()
	rw.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(rw, `{"status":"success","message":"Event processed","dedup_key":%q}`, e.DedupKey)
}

// ServeHTTP decodes Alertmanager's webhook payload (version 4).
func (w *webhooks) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	var payload struct {
		GroupKey string `json:"groupKey"`
		Alerts   []struct {
			Status      string            `json:"status"`
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
			StartsAt    time.Time         `json:"startsAt"`
			EndsAt      time.Time         `json:"endsAt"`
		} `json:"alerts"`
	}
	if err := json.NewDecoder(r.Body).Decode(&payload); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	n := notification{receiver: strings.Trim(r.URL.Path, "/"), groupKey: payload.GroupKey, at: time.Now()}
	for _, a := range payload.Alerts {
		al := amAlert{Labels: a.Labels, Annotations: a.Annotations, StartsAt: a.StartsAt}
		al.Status.State = a.Status
		n.alerts = append(n.alerts, al)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if r.URL.Path == rules.E2EHeartbeatPath {
		b := heartbeat{at: n.at}
		for _, a := range payload.Alerts {
			if a.Labels[model.AlertNameLabel] == conventions.AlertWatchdog && a.Status == "firing" {
				b.watchdog, b.endsAt = true, a.EndsAt
			}
		}
		w.beats = append(w.beats, b)
		return
	}
	w.all = append(w.all, n)
}

// slackSince, pagerDutySince and beatsSince return what the stand-ins
// received at or after t.
func (w *webhooks) slackSince(t time.Time) []slackPost {
	w.mu.Lock()
	defer w.mu.Unlock()
	return after(w.slack, t, func(p slackPost) time.Time { return p.at })
}

func (w *webhooks) pagerDutySince(t time.Time) []pdEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	return after(w.pd, t, func(e pdEvent) time.Time { return e.at })
}

func (w *webhooks) beatsSince(t time.Time) []heartbeat {
	w.mu.Lock()
	defer w.mu.Unlock()
	return after(w.beats, t, func(b heartbeat) time.Time { return b.at })
}

func after[T any](all []T, t time.Time, at func(T) time.Time) []T {
	var out []T
	for _, x := range all {
		if !at(x).Before(t) {
			out = append(out, x)
		}
	}
	return out
}

// since returns the notifications sent at or after t.
func (w *webhooks) since(t time.Time) []notification {
	w.mu.Lock()
	defer w.mu.Unlock()
	return after(w.all, t, func(n notification) time.Time { return n.at })
}

// notifyTimeout bounds the wait for a case's page after its alerts arrived.
const notifyTimeout = time.Minute

// notifyWant is what a fault must notify: the one notification of the
// incident, and the symptoms it mutes while it fires.
type notifyWant struct {
	// page must reach receiver, firing, in exactly one incident: every
	// notification to receiver since the fault shares one group key
	// (PagerDuty's dedup key), whichever alert came first.
	page want
	// receiver is "page" when empty; "chat" for a warning.
	receiver string
	// muted are alert names no notification may carry as firing, to any
	// receiver, after the page was sent.
	muted []string
	// never are alerts no notification may carry, firing, at any time
	// since the fault.
	never []want
	// noPage: no notification to the page receiver carries a firing
	// alert since the fault (the objectives' burn-rate alerts aside, see
	// alertmanagerAlerts): nobody is woken.
	noPage bool
	// silent: no notification to any receiver carries a firing alert
	// since the fault (burn-rate alerts aside); page is not used.
	silent bool
}

// sent lists notifications for a failure message, burn-rate alerts aside.
func sent(notes []notification, faultAt time.Time) string {
	var all []string
	for _, n := range notes {
		for _, a := range n.alerts {
			if _, ok := a.Labels[catalog.LabelSLO]; ok {
				continue // burn-rate alerts: see alertmanagerAlerts
			}
			all = append(all, fmt.Sprintf("%s +%.1fs %s %s", n.receiver, n.at.Sub(faultAt).Seconds(), a.Status.State, a))
		}
	}
	return strings.Join(all, "\n  ")
}

// firingIn returns the alerts of n that fire, burn-rate alerts aside.
func firingIn(n notification) []amAlert {
	var out []amAlert
	for _, a := range n.alerts {
		if _, ok := a.Labels[catalog.LabelSLO]; !ok && a.Status.State == "firing" && !foreign(a.Labels) {
			out = append(out, a)
		}
	}
	return out
}

// checkNotifications checks the notifications sent since the fault, once
// the page came or notifyTimeout passed. It returns when the page was sent
// (zero for a silent want).
func checkNotifications(t *testing.T, hooks *webhooks, faultAt time.Time, nw notifyWant) (time.Time, error) {
	t.Helper()
	if nw.silent {
		notes := hooks.since(faultAt)
		var errs []error
		for _, n := range notes {
			for _, a := range firingIn(n) {
				errs = append(errs, fmt.Errorf("%s reached %s %.1fs after the fault, but nothing may", a, n.receiver, n.at.Sub(faultAt).Seconds()))
			}
		}
		if len(errs) > 0 {
			errs = append(errs, fmt.Errorf("notifications since the fault:\n  %s", sent(notes, faultAt)))
		}
		return time.Time{}, errors.Join(errs...)
	}
	receiver := nw.receiver
	if receiver == "" {
		receiver = "page"
	}
	var notes, pages []notification
	for deadline := time.Now().Add(notifyTimeout); ; time.Sleep(500 * time.Millisecond) {
		notes, pages = hooks.since(faultAt), nil
		for _, n := range notes {
			if n.receiver != receiver {
				continue
			}
			for _, a := range n.alerts {
				if a.Status.State == "firing" && nw.page.matches(a) {
					pages = append(pages, n)
					break
				}
			}
		}
		if len(pages) > 0 || time.Now().After(deadline) {
			break
		}
	}
	// One incident, one page: every notification to the receiver since
	// the fault, whichever alert it carried first, is of one group.
	// Notifications that carry no firing alert, or only burn-rate alerts
	// (unless the wanted one), are left out: the first close an earlier
	// incident (its resolved alerts can be sent a group interval after the
	// fault), the second come to chat by a route of their own (critical),
	// so a group key of their own.
	incidents := map[string]bool{}
	for _, n := range notes {
		if n.receiver != receiver {
			continue
		}
		relevant := len(firingIn(n)) > 0
		for _, a := range n.alerts {
			relevant = relevant || (a.Status.State == "firing" && nw.page.matches(a))
		}
		if relevant {
			incidents[n.groupKey] = true
		}
	}
	if len(pages) == 0 || len(incidents) != 1 {
		return time.Time{}, fmt.Errorf("%d notifications to %s carried %s, and %s got %d incidents, want exactly one; notifications since the fault:\n  %s", len(pages), receiver, nw.page.alert, receiver, len(incidents), sent(notes, faultAt))
	}
	var errs []error
	for _, n := range notes {
		for _, a := range firingIn(n) {
			for _, w := range nw.never {
				if w.matches(a) {
					errs = append(errs, fmt.Errorf("%s reached %s %.1fs after the fault, but must never", a, n.receiver, n.at.Sub(faultAt).Seconds()))
				}
			}
			if nw.noPage && n.receiver == "page" {
				errs = append(errs, fmt.Errorf("%s paged %.1fs after the fault, but nothing may page", a, n.at.Sub(faultAt).Seconds()))
			}
		}
		if n.at.Before(pages[0].at) {
			continue
		}
		for _, a := range firingIn(n) {
			for _, m := range nw.muted {
				if a.Labels["alertname"] == m {
					errs = append(errs, fmt.Errorf("%s reached %s %.1fs after the page, while it should be muted", a, n.receiver, n.at.Sub(pages[0].at).Seconds()))
				}
			}
		}
	}
	if len(errs) > 0 {
		errs = append(errs, fmt.Errorf("notifications since the fault:\n  %s", sent(notes, faultAt)))
	}
	return pages[0].at, errors.Join(errs...)
}

// load is a bounded load loop: POST /predict to the gateway on loopback,
// perSecond, until stopped or its limit passes. It counts what it sent and
// what failed: a 5xx answer, or none (refused, reset, timed out).
type load struct {
	sent, failed atomic.Int64
	cancel       context.CancelFunc
	done         chan struct{}
}

func startLoad(perSecond int, limit time.Duration) *load {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	l := &load{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		client := &http.Client{Timeout: 2 * time.Second}
		tick := time.NewTicker(time.Second / time.Duration(perSecond))
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+gatewayAddr+"/predict", strings.NewReader(`{"data": [[1,2,3,4]]}`))
			if err != nil {
				return
			}
			resp, err := client.Do(req)
			if ctx.Err() != nil {
				return // stopped mid-request: neither answered nor lost
			}
			l.sent.Add(1)
			if err != nil {
				l.failed.Add(1)
				continue
			}
			if resp.StatusCode >= 500 {
				l.failed.Add(1)
			}
			resp.Body.Close()
		}
	}()
	return l
}

// stop ends the loop and returns what it sent and what failed.
func (l *load) stop() (sent, failed int64) {
	l.cancel()
	<-l.done
	return l.sent.Load(), l.failed.Load()
}
