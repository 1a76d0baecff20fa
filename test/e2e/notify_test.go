//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/rules"
)

// notification is one webhook notification Alertmanager sent: to which of
// the e2e profile's receivers (the URL path, "page" or "chat"), when, and
// which alerts it carried.
type notification struct {
	receiver string
	at       time.Time
	alerts   []amAlert // Status.State holds the webhook's "firing" or "resolved"
}

// webhooks records every notification Alertmanager sends to the e2e
// profile's receivers, on loopback at rules.E2EWebhookAddr.
type webhooks struct {
	mu  sync.Mutex
	all []notification
}

func startWebhooks(t *testing.T) *webhooks {
	t.Helper()
	w := &webhooks{}
	l, err := net.Listen("tcp", rules.E2EWebhookAddr)
	if err != nil {
		t.Fatalf("webhook receiver on %s: %v", rules.E2EWebhookAddr, err)
	}
	srv := &http.Server{Handler: w, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return w
}

// ServeHTTP decodes Alertmanager's webhook payload (version 4).
func (w *webhooks) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	var payload struct {
		Alerts []struct {
			Status      string            `json:"status"`
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
			StartsAt    time.Time         `json:"startsAt"`
		} `json:"alerts"`
	}
	if err := json.NewDecoder(r.Body).Decode(&payload); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	n := notification{receiver: strings.Trim(r.URL.Path, "/"), at: time.Now()}
	for _, a := range payload.Alerts {
		al := amAlert{Labels: a.Labels, Annotations: a.Annotations, StartsAt: a.StartsAt}
		al.Status.State = a.Status
		n.alerts = append(n.alerts, al)
	}
	w.mu.Lock()
	w.all = append(w.all, n)
	w.mu.Unlock()
}

// since returns the notifications sent at or after t.
func (w *webhooks) since(t time.Time) []notification {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []notification
	for _, n := range w.all {
		if !n.at.Before(t) {
			out = append(out, n)
		}
	}
	return out
}

// notifyWant is what a fault must notify: the one page of the incident, and
// the symptoms that page mutes while it fires.
type notifyWant struct {
	// page must reach the page receiver exactly once, firing.
	page want
	// muted are alert names no notification may carry as firing, to any
	// receiver, after the page was sent.
	muted []string
}

// checkNotifications checks the notifications sent since the fault.
func checkNotifications(t *testing.T, hooks *webhooks, faultAt time.Time, nw notifyWant) (time.Time, error) {
	t.Helper()
	notes := hooks.since(faultAt)
	var pages []notification
	for _, n := range notes {
		if n.receiver != "page" {
			continue
		}
		for _, a := range n.alerts {
			if a.Status.State == "firing" && nw.page.matches(a) {
				pages = append(pages, n)
				break
			}
		}
	}
	var all []string
	for _, n := range notes {
		for _, a := range n.alerts {
			if _, ok := a.Labels[catalog.LabelSLO]; ok {
				continue // burn-rate alerts: see alertmanagerAlerts
			}
			all = append(all, fmt.Sprintf("%s +%.1fs %s %s", n.receiver, n.at.Sub(faultAt).Seconds(), a.Status.State, a))
		}
	}
	if len(pages) != 1 {
		return time.Time{}, fmt.Errorf("%d pages carried %s, want exactly one; notifications since the fault:\n  %s", len(pages), nw.page.alert, strings.Join(all, "\n  "))
	}
	var errs []error
	for _, n := range notes {
		if n.at.Before(pages[0].at) {
			continue
		}
		for _, a := range n.alerts {
			for _, m := range nw.muted {
				if a.Labels["alertname"] == m && a.Status.State == "firing" {
					errs = append(errs, fmt.Errorf("%s reached %s %.1fs after the page, while it should be muted", a, n.receiver, n.at.Sub(pages[0].at).Seconds()))
				}
			}
		}
	}
	if len(errs) > 0 {
		errs = append(errs, fmt.Errorf("notifications since the fault:\n  %s", strings.Join(all, "\n  ")))
	}
	return pages[0].at, errors.Join(errs...)
}
