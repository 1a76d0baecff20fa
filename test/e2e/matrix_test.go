//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
)

const (
	// healthyFor is how long the healthy stack must stay quiet: in the e2e
	// profile, ten times faster than production, two minutes are twenty.
	healthyFor = 2 * time.Minute
	// settle is how long a case keeps watching for unwanted alerts after the
	// wanted ones arrived; longer than every for below HighMemoryUsage's.
	settle = 20 * time.Second
	// faultTimeout bounds the wait from a fault to its last wanted alert.
	faultTimeout = 2 * time.Minute
	// quietTimeout bounds the wait for every alert to resolve after recovery;
	// the OOM and crash-loop alerts look back over a 90s window.
	quietTimeout = 3 * time.Minute
)

// faultCase is one row of the fault matrix: a failure the runbook lists, the
// alerts that must reach Alertmanager, and, implicitly, that no other does.
type faultCase struct {
	name string
	// prepare sets the stage, before the fault's clock starts.
	prepare func(t *testing.T, s *stack)
	cause   func(t *testing.T, s *stack)
	wants   func(container string) []want
	// keep leaves the fault in place for the next case, which builds on it.
	keep bool
	// notify, when set, is the incident's one page and what it mutes.
	notify func(container string) notifyWant
	// check, when set, runs once the alerts arrived.
	check func(t *testing.T, s *stack)
}

// timing is one measured alert, for docs/e2e.md.
type timing struct {
	name, alert string
	fromFault   time.Duration
	fromDown    time.Duration // from the gateway's last exit; 0 if it did not exit
	budget      time.Duration // the alert's for plus two scrape intervals
}

func TestFaultMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("the fault matrix needs Docker, docker compose, Prometheus and Alertmanager; skipped under -short")
	}
	s := startStack(t)
	var timings []timing
	t.Cleanup(func() { logTimings(t, timings) })

	t.Run("a healthy stack stays quiet for two minutes", func(t *testing.T) { s.healthy(t) })
	if t.Failed() {
		t.FailNow()
	}

	job := rules.GatewayService
	exporter := spec.DefaultExporterJob
	page := func(reason, code string) want {
		return want{
			alert:       "ServiceDown",
			labels:      map[string]string{"job": job, "instance": gatewayAddr, catalog.LabelComposeService: job, "severity": "critical", catalog.LabelReason: reason, catalog.LabelExitCode: code},
			annotations: map[string]string{"summary": fmt.Sprintf("%s is down (%s, exit code %s)", job, reason, code), "description": fmt.Sprintf("exit code %s (%s)", code, reason)},
		}
	}
	crashLoop := func(container, exitCode, reason string) want {
		return want{
			alert:  "ContainerCrashLooping",
			labels: map[string]string{catalog.LabelName: container, catalog.LabelComposeService: job, "severity": "warning"},
			annotations: map[string]string{"summary": container + " is crash looping",
				"description": fmt.Sprintf("(restart count 3); last exit code %s (%s)", exitCode, reason)},
		}
	}

	cases := []faultCase{
		{
			// The runbook's recovery check reads "error rate <1%": here every
			// prediction fails under a load loop on loopback (20/s, at most
			// 90s), and the availability objective's fast burn pages. No
			// runbook alert fires: the gateway runs and answers scrapes. It
			// runs first: every later recovery recreates the gateway, a
			// short outage in the windows (the burn alerts stop as soon as
			// the gateway answers again, docs/slo.md, but the windows keep
			// the outage).
			name: "every prediction failing under load pages the availability objective's fast burn",
			cause: func(t *testing.T, s *stack) {
				// The stack's first scrapes, before the gateway listened
				// (or was discovered), count as downtime: start once that
				// burn has cleared, which it does once the gateway answers.
				s.awaitPromQuiet(t, `ALERTS{alertname="AvailabilityFastBurn",alertstate="firing"}`, 4*time.Minute)
				s.fault(t, "errors:1", false)
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				go func() {
					defer close(done)
					sent, failed := loadPredict(ctx, 20, 90*time.Second)
					t.Logf("load loop: %d predictions sent, %d answered 5xx", sent, failed)
				}()
				t.Cleanup(func() { cancel(); <-done })
			},
			wants: func(string) []want { return nil },
			notify: func(string) notifyWant {
				return notifyWant{page: want{alert: "AvailabilityFastBurn", labels: map[string]string{"slo": "availability", "severity": "critical", "service": job}}}
			},
		},
		{
			name: "gateway-exporter down while the gateway is down still pages, without the diagnosis, and raises the exporter meta-alert",
			cause: func(t *testing.T, s *stack) {
				s.composeRun(t, "stop", exporter)
				s.composeRun(t, "kill", "--signal=SIGKILL", job)
			},
			wants: func(string) []want {
				return []want{
					{
						alert:       "ServiceDown",
						labels:      map[string]string{"job": job, "instance": gatewayAddr, catalog.LabelComposeService: job, "severity": "critical"},
						without:     []string{catalog.LabelReason, catalog.LabelExitCode},
						annotations: map[string]string{"summary": job + " is down", "description": "Last termination: none recorded by gateway-exporter"},
					},
					{alert: "GatewayExporterDown", labels: map[string]string{"job": exporter, "severity": "warning"}},
				}
			},
		},
		{
			name:  "docker stop (SIGTERM) pages ServiceDown as terminated, exit code 143",
			cause: func(t *testing.T, s *stack) { s.composeRun(t, "stop", job) },
			wants: func(string) []want { return []want{page(catalog.ReasonTerminated, "143")} },
		},
		{
			name:  "SIGKILL pages ServiceDown as killed, exit code 137",
			cause: func(t *testing.T, s *stack) { s.composeRun(t, "kill", "--signal=SIGKILL", job) },
			wants: func(string) []want { return []want{page(catalog.ReasonKilled, "137")} },
		},
		{
			// A configuration error dies at once on every start: Docker's
			// restart backoff (100ms, 200ms, 400ms) packs the three restarts
			// into about two seconds. It runs after cases without restarts,
			// so that the restart count starts from 0 before and after the
			// recreate.
			name:  "exit 1 at once on every start crash-loops too",
			cause: func(t *testing.T, s *stack) { s.fault(t, "exit:1", true) },
			wants: func(c string) []want {
				return []want{crashLoop(c, "1", catalog.ReasonError), page(catalog.ReasonError, "1")}
			},
		},
		{
			name:  "a segfault on every start crash-loops and pages ServiceDown as segfault, exit code 139",
			cause: func(t *testing.T, s *stack) { s.fault(t, "signal:SEGV@2s", true) },
			wants: func(c string) []want {
				return []want{page(catalog.ReasonSegfault, "139"), crashLoop(c, "139", catalog.ReasonSegfault)}
			},
		},
		{
			name:  "exit 1 under the generated restart policy crash-loops with the restart count in the annotations",
			cause: func(t *testing.T, s *stack) { s.fault(t, "exit:1@2s", true) },
			wants: func(c string) []want {
				return []want{crashLoop(c, "1", catalog.ReasonError), page(catalog.ReasonError, "1")}
			},
		},
		{
			name:  "a leak past the memory limit is OOM-killed and pages ServiceDown as oom_killed, exit code 137",
			cause: func(t *testing.T, s *stack) { s.fault(t, "leak:32", true) },
			wants: func(c string) []want {
				return []want{
					page(catalog.ReasonOOMKilled, "137"),
					{
						alert:       "ContainerOOMKilled",
						labels:      map[string]string{catalog.LabelName: c, catalog.LabelReason: catalog.ReasonOOMKilled, catalog.LabelExitCode: "137", "severity": "critical"},
						annotations: map[string]string{"description": "memory limit (" + s.memoryLimit + ")"},
					},
					crashLoop(c, "137", catalog.ReasonOOMKilled),
				}
			},
			// One incident, one page: once ServiceDown pages, the
			// container's symptoms are muted.
			notify: func(string) notifyWant {
				return notifyWant{page: page(catalog.ReasonOOMKilled, "137"),
					muted: []string{"ContainerOOMKilled", "ContainerCrashLooping", "ContainerUnhealthy", "HighMemoryUsage", "CriticalMemoryUsage"}}
			},
		},
		{
			name:  "memory above 85% of the limit raises HighMemoryUsage only",
			cause: func(t *testing.T, s *stack) { s.fault(t, "alloc:0.9", false) },
			wants: func(c string) []want {
				return []want{{alert: "HighMemoryUsage", labels: map[string]string{catalog.LabelName: c, "severity": "warning"},
					annotations: map[string]string{"description": "above 85% of its memory limit (" + s.memoryLimit + ")"}}}
			},
			keep: true,
		},
		{
			// Just above 95%: each healthcheck execs a process in the same
			// memory cgroup, and with a small limit the rest is about what
			// it needs; more invites a real OOM kill.
			name:  "memory above 95% of the limit adds CriticalMemoryUsage",
			cause: func(t *testing.T, s *stack) { s.fault(t, "alloc:0.955", false) },
			wants: func(c string) []want {
				return []want{
					{alert: "HighMemoryUsage", labels: map[string]string{catalog.LabelName: c, "severity": "warning"}},
					{alert: "CriticalMemoryUsage", labels: map[string]string{catalog.LabelName: c, "severity": "critical"},
						annotations: map[string]string{"summary": "OOM kill imminent", "description": "above 95% of its memory limit (" + s.memoryLimit + ")"}},
				}
			},
			// One critical notification; the warning is muted meanwhile.
			notify: func(c string) notifyWant {
				return notifyWant{page: want{alert: "CriticalMemoryUsage", labels: map[string]string{catalog.LabelName: c, "severity": "critical"}},
					muted: []string{"HighMemoryUsage"}}
			},
		},
		{
			name:  "a failing healthcheck raises ContainerUnhealthy and no page",
			cause: func(t *testing.T, s *stack) { s.fault(t, "unhealthy", false) },
			wants: func(c string) []want {
				return []want{{alert: "ContainerUnhealthy", labels: map[string]string{catalog.LabelName: c, "severity": "warning"}}}
			},
		},
		{
			// The scenario on the real stack: replica 1 is killed
			// and stays down; replica 2 is then stopped (exit 143) and runs
			// again, so the service's most recent termination is replica
			// 2's. Replica 1's page carries its own.
			name:    "with two replicas, a kill pages for the killed one with its own termination while the other keeps serving",
			prepare: func(t *testing.T, s *stack) { s.startReplica(t) },
			cause: func(t *testing.T, s *stack) {
				s.composeRun(t, "kill", "--signal=SIGKILL", job)
				s.replicaRun(t, "restart", "--timeout=5", job)
			},
			wants: func(c string) []want {
				w := page(catalog.ReasonKilled, "137")
				w.labels[catalog.LabelName] = c
				return []want{w}
			},
			notify: func(c string) notifyWant {
				w := page(catalog.ReasonKilled, "137")
				w.labels[catalog.LabelName] = c
				return notifyWant{page: w, never: []want{{alert: "ServiceDown", labels: map[string]string{catalog.LabelExitCode: "143"}}}}
			},
			check: func(t *testing.T, s *stack) { s.replicaServes(t); s.replicaTerminatedLast(t) },
		},
	}

	for _, fc := range cases {
		ok := t.Run(fc.name, func(t *testing.T) {
			if fc.prepare != nil {
				fc.prepare(t, s)
			}
			container, before := s.gateway(t)
			t.Logf("gateway %s: %s", container, before)
			faultAt := time.Now()
			fc.cause(t, s)
			wants := fc.wants(container)
			arrived := awaitAlerts(t, wants, faultTimeout, settle)
			_, after := s.gateway(t)
			t.Logf("gateway after the fault: %s", after)
			if fc.check != nil {
				fc.check(t, s)
			}
			for i, w := range wants {
				if arrived[i].startsAt.Before(faultAt) {
					t.Logf("%s was already firing, since %s", w.alert, arrived[i].startsAt.Format(time.TimeOnly))
					continue
				}
				tm := timing{name: fc.name, alert: w.alert, fromFault: arrived[i].seen.Sub(faultAt), budget: s.forOf[w.alert] + 2*scrapeInterval}
				msg := fmt.Sprintf("%s reached Alertmanager %.1fs after the fault", w.alert, tm.fromFault.Seconds())
				// An alert that came before the last exit (a crash loop's)
				// is timed from the fault only.
				if after.Status == "exited" && after.FinishedAt.After(faultAt) && arrived[i].seen.After(after.FinishedAt) {
					tm.fromDown = arrived[i].seen.Sub(after.FinishedAt)
					msg += fmt.Sprintf(", %.1fs after the gateway's last exit", tm.fromDown.Seconds())
				}
				t.Logf("%s (for + 2 scrapes: %s)", msg, tm.budget)
				timings = append(timings, tm)
			}
			if fc.notify != nil {
				nw := fc.notify(container)
				pagedAt, err := checkNotifications(t, s.hooks, faultAt, nw)
				if err != nil {
					t.Error(err)
				} else {
					tm := timing{name: fc.name, alert: "page: " + nw.page.alert, fromFault: pagedAt.Sub(faultAt)}
					t.Logf("the page (%s) was notified %.1fs after the fault", nw.page.alert, tm.fromFault.Seconds())
					timings = append(timings, tm)
				}
			}
		})
		if fc.keep && ok {
			continue
		}
		// Recovery is a case of its own: every alert resolves once the
		// gateway is back. It also runs after a failed case, so one failure
		// does not hide the verdicts of the cases after it.
		if !t.Run("recovery after: "+fc.name, func(t *testing.T) { s.recoverAll(t, &timings, fc.name) }) {
			t.Fatal("the stack did not recover; the remaining cases need a healthy stack")
		}
	}
	// After every fault, each panel of the generated dashboard has data.
	t.Run("every query of the generated dashboard returns data from Prometheus", func(t *testing.T) { s.dashboardQueries(t) })
}

// awaitPromQuiet waits until query returns nothing.
func (s *stack) awaitPromQuiet(t *testing.T, query string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var res struct {
			Result []json.RawMessage `json:"result"`
		}
		err := prometheusAPI(context.Background(), "query", url.Values{"query": {query}}, &res)
		if err == nil && len(res.Result) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still returns %d series after %s (%v)", query, len(res.Result), timeout, err)
		}
		time.Sleep(time.Second)
	}
}

// dashboardQueries runs every query of the e2e profile's dashboard against
// the real Prometheus; each must return at least one series.
func (s *stack) dashboardQueries(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(s.root, "generated", rules.E2E.Name, "grafana", rules.GatewayService+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			n++
			var res struct {
				Result []json.RawMessage `json:"result"`
			}
			if err := prometheusAPI(context.Background(), "query", url.Values{"query": {tg.Expr}}, &res); err != nil {
				t.Errorf("panel %q: %s: %v", p.Title, tg.Expr, err)
			} else if len(res.Result) == 0 {
				t.Errorf("panel %q: %s returns no data", p.Title, tg.Expr)
			}
		}
	}
	if n < 8 {
		t.Fatalf("only %d queries in the dashboard", n)
	}
	t.Logf("%d dashboard queries returned data", n)
}

// healthy checks that the stack is really watched (targets up, every rule
// loaded and evaluating without error, exporter data present), then that no
// alert is pending or firing for healthyFor.
func (s *stack) healthy(t *testing.T) {
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := s.watched(ctx)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stack is not watched: %v", err)
		}
		time.Sleep(time.Second)
	}
	// Until the first scrapes land, absent(up{job="gateway-exporter"}) holds
	// and GatewayExporterDown is pending; it must clear well before its for.
	deadline = time.Now().Add(s.forOf["GatewayExporterDown"])
	for {
		pending, err := prometheusAlerts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alerts still pending once the stack is watched: %v", pending)
		}
		time.Sleep(500 * time.Millisecond)
	}
	seenPending := map[string]bool{}
	end := time.Now().Add(healthyFor)
	for time.Now().Before(end) {
		if err := s.watched(ctx); err != nil {
			t.Fatalf("while healthy: %v", err)
		}
		alerts, err := prometheusAlerts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range alerts {
			if a["state"] == "firing" {
				t.Fatalf("alert firing on a healthy stack: %v", a)
			}
			// Pending is not firing: note it, for it says what flickered.
			if key := fmt.Sprint(a["labels"]); !seenPending[key] {
				seenPending[key] = true
				t.Logf("pending for a moment (not firing): %v", a["labels"])
			}
		}
		am, err := alertmanagerAlerts()
		if err != nil {
			t.Fatal(err)
		}
		if len(am) > 0 {
			t.Fatalf("alerts in Alertmanager on a healthy stack: %v", am)
		}
		time.Sleep(time.Second)
	}
}

// watched returns why the stack is not fully watched, or nil.
func (s *stack) watched(ctx context.Context) error {
	var targets struct {
		ActiveTargets []struct {
			Labels map[string]string `json:"labels"`
			Health string            `json:"health"`
		} `json:"activeTargets"`
	}
	if err := prometheusAPI(ctx, "targets", nil, &targets); err != nil {
		return err
	}
	up := map[string]string{}
	for _, tg := range targets.ActiveTargets {
		up[tg.Labels["job"]] = tg.Health
	}
	for _, job := range []string{rules.GatewayService, spec.DefaultExporterJob} {
		if up[job] != "up" {
			return fmt.Errorf("target %s is not up (targets: %v)", job, up)
		}
	}
	var res struct {
		Groups []struct {
			Rules []struct {
				Type      string `json:"type"`
				Name      string `json:"name"`
				Health    string `json:"health"`
				LastError string `json:"lastError"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := prometheusAPI(ctx, "rules", url.Values{"type": {"alert"}}, &res); err != nil {
		return err
	}
	loaded := map[string]bool{}
	for _, g := range res.Groups {
		for _, r := range g.Rules {
			// A rule not yet evaluated has health "unknown"; one whose
			// evaluation failed (a many-to-many join, say) has "err".
			if r.Health == "err" {
				return fmt.Errorf("alert %s does not evaluate: %s", r.Name, r.LastError)
			}
			loaded[r.Name] = true
		}
	}
	for name := range s.forOf {
		if !loaded[name] {
			return fmt.Errorf("alert %s of the e2e rule file is not loaded", name)
		}
	}
	q := fmt.Sprintf(`%s{%s=%q, %s=%q} == 1`, catalog.ContainerState, catalog.LabelComposeService, rules.GatewayService, catalog.LabelState, "running")
	var vec struct {
		Result []json.RawMessage `json:"result"`
	}
	if err := prometheusAPI(ctx, "query", url.Values{"query": {q}}, &vec); err != nil {
		return err
	}
	if len(vec.Result) != 1 {
		return fmt.Errorf("gateway-exporter does not report the gateway running: %s has %d series", q, len(vec.Result))
	}
	return nil
}

// prometheusAlerts lists the alerts Prometheus holds, pending or firing.
// prometheusAlerts lists Prometheus' pending and firing alerts, but for
// the objectives' burn-rate alerts (see alertmanagerAlerts): the stack's
// first scrapes, before the gateway listens, count as downtime and burn.
func prometheusAlerts(ctx context.Context) ([]map[string]any, error) {
	var res struct {
		Alerts []map[string]any `json:"alerts"`
	}
	err := prometheusAPI(ctx, "alerts", nil, &res)
	out := res.Alerts[:0]
	for _, a := range res.Alerts {
		if l, _ := a["labels"].(map[string]any); l[catalog.LabelSLO] == nil {
			out = append(out, a)
		}
	}
	return out, err
}

// prometheusAPI GETs /api/v1/<endpoint> and decodes its data into out.
func prometheusAPI(ctx context.Context, endpoint string, query url.Values, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	u := "http://" + prometheusAddr + "/api/v1/" + endpoint
	if query != nil {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("prometheus %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return fmt.Errorf("prometheus %s: %s: %w", endpoint, resp.Status, err)
	}
	if body.Status != "success" {
		return fmt.Errorf("prometheus %s: %s", endpoint, body.Error)
	}
	return json.Unmarshal(body.Data, out)
}

// fault arms one of the stand-in gateway's faults (see cmd/standin-gateway).
func (s *stack) fault(t *testing.T, do string, sticky bool) {
	t.Helper()
	url := fmt.Sprintf("http://%s/admin/fault?do=%s&sticky=%v", gatewayAddr, do, sticky)
	resp, err := http.Post(url, "", nil)
	if err != nil {
		t.Fatalf("arm fault %s: %v", do, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("arm fault %s: %s", do, resp.Status)
	}
}

// recoverAll brings the stack back as the runbook's strategy 2 does
// (recreate the container; a sticky fault lives in the old one), restarts
// gateway-exporter if it was stopped, and waits until every alert resolved.
func (s *stack) recoverAll(t *testing.T, timings *[]timing, name string) {
	t.Helper()
	start := time.Now()
	s.composeRun(t, "up", "--detach", "--wait", "--wait-timeout=60", "--no-deps", "--force-recreate", rules.GatewayService)
	s.composeRun(t, "up", "--detach", "--wait", "--wait-timeout=60", "--no-deps", spec.DefaultExporterJob)
	pageResolved := awaitQuiet(t, quietTimeout, "ServiceDown")
	t.Logf("recovered: ServiceDown gone from Alertmanager %.1fs after the recreate, every alert %.1fs after",
		pageResolved.Sub(start).Seconds(), time.Since(start).Seconds())
	*timings = append(*timings, timing{name: name, alert: "(all resolved)", fromFault: time.Since(start)})
}

func logTimings(t *testing.T, timings []timing) {
	if len(timings) == 0 {
		return
	}
	var b strings.Builder
	b.WriteString("| case | alert (page: the notification) | fault → Alertmanager (page: → receiver) | last exit → Alertmanager | for + 2 scrapes |\n|---|---|---|---|---|\n")
	for _, tm := range timings {
		down, budget := "", ""
		if tm.fromDown > 0 {
			down = fmt.Sprintf("%.1fs", tm.fromDown.Seconds())
		}
		if tm.budget > 0 {
			budget = tm.budget.String()
		}
		fmt.Fprintf(&b, "| %s | %s | %.1fs | %s | %s |\n", tm.name, tm.alert, tm.fromFault.Seconds(), down, budget)
	}
	t.Logf("timings (for docs/e2e.md):\n%s", b.String())
}

// startReplica starts the gateway's second replica, removed again when the
// case ends, and waits until Prometheus scrapes it: docker_sd_configs finds
// it within the e2e profile's refresh interval.
func (s *stack) startReplica(t *testing.T) {
	t.Helper()
	t.Cleanup(func() {
		if out, err := s.replicaOutput("down", "--volumes", "--timeout=5"); err != nil {
			t.Errorf("compose down (%s): %v\n%s", replicaProject, err, out)
		}
	})
	s.replicaRun(t, "up", "--detach", "--wait", "--wait-timeout=60", "--no-deps", rules.GatewayService)
	q := fmt.Sprintf(`up{job=%q, instance=%q} == 1`, rules.GatewayService, replicaAddr)
	deadline := time.Now().Add(time.Minute)
	for {
		var res struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
			} `json:"result"`
		}
		err := prometheusAPI(context.Background(), "query", url.Values{"query": {q}}, &res)
		if err == nil && len(res.Result) == 1 {
			t.Logf("replica 2 scraped as %v", res.Result[0].Metric)
			if res.Result[0].Metric[catalog.LabelComposeProject] != replicaProject {
				t.Fatalf("replica 2's target carries %v, want compose_project %s", res.Result[0].Metric, replicaProject)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus does not scrape replica 2 a minute after its start: %s: %d series (%v)", q, len(res.Result), err)
		}
		time.Sleep(time.Second)
	}
}

// replicaServes checks that replica 2 answers on loopback and Prometheus
// scrapes it.
func (s *stack) replicaServes(t *testing.T) {
	t.Helper()
	resp, err := http.Get("http://" + replicaAddr + "/health")
	if err != nil {
		t.Fatalf("replica 2 does not serve: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("replica 2's /health: %s", resp.Status)
	}
	var res struct {
		Result []json.RawMessage `json:"result"`
	}
	q := fmt.Sprintf(`up{job=%q, instance=%q} == 1`, rules.GatewayService, replicaAddr)
	if err := prometheusAPI(context.Background(), "query", url.Values{"query": {q}}, &res); err != nil || len(res.Result) != 1 {
		t.Errorf("replica 2 is not scraped: %s: %d series (%v)", q, len(res.Result), err)
	}
}

// replicaTerminatedLast checks that the case set its stage: gateway-exporter
// saw replica 2 terminate (143) after replica 1 (137), so a join that took
// the service's most recent termination would have paged with replica 2's.
func (s *stack) replicaTerminatedLast(t *testing.T) {
	t.Helper()
	type term struct {
		code string
		at   float64
	}
	got := map[string]term{}
	for _, metric := range []string{catalog.ContainerLastTerminationInfo, catalog.ContainerLastTerminationTimestamp} {
		var res struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		}
		q := fmt.Sprintf(`%s{%s=%q}`, metric, catalog.LabelComposeService, rules.GatewayService)
		if err := prometheusAPI(context.Background(), "query", url.Values{"query": {q}}, &res); err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Result {
			tm := got[r.Metric[catalog.LabelName]]
			if c, ok := r.Metric[catalog.LabelExitCode]; ok {
				tm.code = c
			} else if v, ok := r.Value[1].(string); ok {
				fmt.Sscan(v, &tm.at)
			}
			got[r.Metric[catalog.LabelName]] = tm
		}
	}
	first, _ := s.gateway(t)
	second := replicaProject + "-" + rules.GatewayService + "-1"
	a, b := got[first], got[second]
	if a.code != "137" || b.code != "143" || b.at <= a.at {
		t.Fatalf("want replica 1 (%s) killed (137) before replica 2 (%s) stopped (143); gateway-exporter says %+v and %+v", first, second, a, b)
	}
	t.Logf("gateway-exporter: replica 1 exited 137 at %.0f, replica 2 exited 143 at %.0f, the more recent", a.at, b.at)
}
