//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/conventions"
)

// amAlert is one alert as Alertmanager's API v2 lists it.
type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

func (a amAlert) String() string {
	keys := make([]string, 0, len(a.Labels))
	for k := range a.Labels {
		if k != model.AlertNameLabel {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(a.Labels[model.AlertNameLabel] + "{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%q", k, a.Labels[k])
	}
	b.WriteString("}")
	return b.String()
}

// alertmanagerAlerts lists every alert Alertmanager holds that has not
// resolved: firing alerts Prometheus sent, whatever their silencing.
func alertmanagerAlerts() ([]amAlert, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+alertmanagerAddr+"/api/v2/alerts", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("alertmanager alerts: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("alertmanager alerts: %s", resp.Status)
	}
	var all []amAlert
	if err := json.NewDecoder(resp.Body).Decode(&all); err != nil {
		return nil, fmt.Errorf("alertmanager alerts: %w", err)
	}
	// The matrix proves the runbook's alerts. The burn-rate alerts of the
	// service level objectives (an slo label) follow every outage too, by
	// design (downtime counts as failed requests), and stay for their slow
	// windows; promtool proves them (docs/slo.md), so the matrix leaves
	// them out of "no other alert". So is the Watchdog, which always
	// fires: the matrix's last case proves its heartbeats.
	alerts := all[:0]
	for _, a := range all {
		if _, ok := a.Labels[catalog.LabelSLO]; !ok && !foreign(a.Labels) && a.Labels[model.AlertNameLabel] != conventions.AlertWatchdog {
			alerts = append(alerts, a)
		}
	}
	return alerts, nil
}

// foreignSeen remembers the foreign alerts already logged.
var foreignSeen sync.Map

// foreign reports whether an alert is about a container of another compose
// project than the test's two: another test on the same engine (make test's
// restart-policy test runs a gateway service of its own) is seen by the
// same gateway-exporter, and the service's container alerts select by
// compose service. The test did not cause it, so it is logged and left out.
func foreign(labels map[string]string) bool {
	p, ok := labels[catalog.LabelComposeProject]
	if !ok || p == project || p == replicaProject {
		return false
	}
	if _, dup := foreignSeen.LoadOrStore(fmt.Sprint(labels), true); !dup {
		log.Printf("left out: an alert about another compose project's container: %v", labels)
	}
	return true
}

// want describes an alert a case expects in Alertmanager.
type want struct {
	alert string
	// labels must all be present with these values.
	labels map[string]string
	// without names labels that must be absent.
	without []string
	// exact: the alert carries no label but alertname and labels, as a
	// service-scoped page keeps one identity for the whole outage.
	exact bool
	// annotations maps an annotation to a text it must contain.
	annotations map[string]string
}

func (w want) String() string {
	s := w.alert + fmt.Sprint(w.labels)
	if w.exact {
		s += " (exactly)"
	}
	if len(w.without) > 0 {
		s += " without " + strings.Join(w.without, ", ")
	}
	return s
}

// matches reports whether a is this alert with these labels. Annotations
// are checked apart, so that a wrong text is reported as such rather than
// as an alert that never came.
func (w want) matches(a amAlert) bool {
	if a.Labels[model.AlertNameLabel] != w.alert {
		return false
	}
	for k, v := range w.labels {
		if got, ok := a.Labels[k]; !ok || got != v {
			return false
		}
	}
	for _, k := range w.without {
		if _, ok := a.Labels[k]; ok {
			return false
		}
	}
	if w.exact {
		for k := range a.Labels {
			if _, ok := w.labels[k]; !ok && k != model.AlertNameLabel {
				return false
			}
		}
	}
	return true
}

func (w want) checkAnnotations(t *testing.T, a amAlert) {
	t.Helper()
	for k, sub := range w.annotations {
		if !strings.Contains(a.Annotations[k], sub) {
			t.Errorf("%s: annotation %s = %q, want it to contain %q", a, k, a.Annotations[k], sub)
		}
	}
}

// unwanted returns the alerts that match none of wants.
func unwanted(alerts []amAlert, wants []want) []amAlert {
	var out []amAlert
next:
	for _, a := range alerts {
		for _, w := range wants {
			if w.matches(a) {
				continue next
			}
		}
		out = append(out, a)
	}
	return out
}

// arrival is when a wanted alert was first seen in Alertmanager, and since
// when Prometheus says it fires.
type arrival struct {
	seen, startsAt time.Time
}

// awaitAlerts polls Alertmanager until every wanted alert has arrived, then
// keeps watching for settle. Any alert that is not wanted fails the test,
// whenever it arrives; the wait goes on so that the failure also tells which
// wanted alerts came.
func awaitAlerts(t *testing.T, wants []want, timeout, settle time.Duration) []arrival {
	t.Helper()
	arrived := make([]arrival, len(wants))
	deadline := time.Now().Add(timeout)
	var settleUntil time.Time
	reported := map[string]bool{}
	for {
		alerts, err := alertmanagerAlerts()
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		for _, a := range unwanted(alerts, wants) {
			if !reported[a.String()] {
				reported[a.String()] = true
				t.Errorf("unwanted alert in Alertmanager: %s (annotations %v)", a, a.Annotations)
			}
		}
		missing := 0
		for i, w := range wants {
			if !arrived[i].seen.IsZero() {
				continue
			}
			for _, a := range alerts {
				if w.matches(a) {
					arrived[i] = arrival{seen: now, startsAt: a.StartsAt}
					w.checkAnnotations(t, a)
					break
				}
			}
			if arrived[i].seen.IsZero() {
				missing++
			}
		}
		switch {
		case missing == 0 && settleUntil.IsZero():
			settleUntil = now.Add(settle)
		case missing == 0 && now.After(settleUntil):
			return arrived
		case missing > 0 && now.After(deadline):
			var still []string
			for i, w := range wants {
				if arrived[i].seen.IsZero() {
					still = append(still, w.String())
				}
			}
			t.Fatalf("after %s still waiting for %v; Alertmanager has %v", timeout, still, alerts)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// awaitQuiet waits until Alertmanager holds no alert at all, and returns when
// the named alert, if any was there, resolved.
func awaitQuiet(t *testing.T, timeout time.Duration, watch string) (watchResolved time.Time) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		alerts, err := alertmanagerAlerts()
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		if watchResolved.IsZero() {
			present := false
			for _, a := range alerts {
				present = present || a.Labels[model.AlertNameLabel] == watch
			}
			if !present {
				watchResolved = now
			}
		}
		if len(alerts) == 0 {
			return watchResolved
		}
		if now.After(deadline) {
			t.Fatalf("alerts still active %s after recovery: %v", timeout, alerts)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
