//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/conventions"
	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
)

// The runbook's Communication section, delivered by Alertmanager's real
// Slack and PagerDuty notifiers with the generated templates, to the
// test's stand-ins of those APIs (webhooks).

const (
	// deliveryLoad is the delivery case's load, in predictions a second.
	deliveryLoad = 20
	// lostTolerance is how far the resolution message's requests lost may
	// be from what the load loop lost: the message's figure is the rate
	// served before the outage (the loop's, and the healthcheck's one a
	// second) times the alert's downtime, whose ends lag the kill and the
	// recovery by a scrape and an evaluation each.
	lostTolerance = 0.2
)

// rootCause is how the messages name an OOM kill's root cause.
const rootCause = "OOM kill (exit code 137)"

// startDelivery sets the delivery case's stage: the load loop runs until
// the service's recorded served rate holds nothing but its traffic, and
// the gateway's container is not restarted by Docker when it dies (as an
// exhausted on-failure:N policy leaves it), so its OOM kill is one
// outage that lasts until the gateway is recreated.
func (s *stack) startDelivery(t *testing.T) *load {
	t.Helper()
	l := startLoad(deliveryLoad, 5*time.Minute)
	t.Cleanup(func() { l.stop() })
	time.Sleep(rules.E2E.D(5*time.Minute) + 2*scrapeInterval)
	t.Logf("served rate before the fault: %.1f/s", s.promValue(t, servedRate()))
	name, _ := s.gateway(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.docker.ContainerUpdate(ctx, name, client.ContainerUpdateOptions{
		RestartPolicy: &container.RestartPolicy{Name: container.RestartPolicyDisabled}}); err != nil {
		t.Fatalf("switch off %s's restart policy: %v", name, err)
	}
	return l
}

func servedRate() string {
	return fmt.Sprintf("sum(%s{%s=%q})", catalog.RecordRequestsRateServed, conventions.LabelService, rules.GatewayService)
}

// delivered checks what Slack and PagerDuty received for the outage: the
// incident post naming the root cause, an update on the P0 cadence with a
// longer downtime, then, once the gateway is recreated, the resolution
// message with its duration and the requests lost, within lostTolerance of
// what the load loop lost; PagerDuty one incident, triggered then resolved.
func (s *stack) delivered(t *testing.T, l *load, faultAt time.Time) {
	t.Helper()
	routing := rules.GatewayRouting(rules.E2E)
	repeat, groupInterval := routing.RepeatBySeverity[spec.Critical], routing.GroupInterval
	headline := rules.GatewayService + " is down: " + rootCause

	// The incident post, and an update: Alertmanager repeats the group's
	// notification once its repeat interval passed, at a group interval's
	// flush. The objectives' fast burn may come first in the same group
	// (it has no for), before ServiceDown mutes it.
	var posts, major []slackPost
	for deadline := time.Now().Add(repeat + 3*groupInterval + 30*time.Second); ; time.Sleep(500 * time.Millisecond) {
		posts, major = nil, nil
		for _, p := range s.hooks.slackSince(faultAt) {
			if strings.HasPrefix(p.title(), "🚨 MAJOR INCIDENT: ") {
				major = append(major, p)
			}
			if strings.Contains(p.title(), "MAJOR INCIDENT: "+headline) {
				posts = append(posts, p)
			}
		}
		if len(posts) >= 2 || time.Now().After(deadline) {
			break
		}
	}
	if len(posts) == 0 {
		t.Fatalf("no Slack post's title reads %q; posts since the fault:\n%s", "MAJOR INCIDENT: "+headline, slackTitles(s.hooks.slackSince(faultAt)))
	}
	first := posts[0]
	t.Logf("Slack incident post %.1fs after the fault:\n%s\n%s", first.at.Sub(faultAt).Seconds(), first.title(), first.text())
	if first.Channel != rules.SlackChannel {
		t.Errorf("posted in %q, want %q", first.Channel, rules.SlackChannel)
	}
	for _, want := range []string{"Root Cause: " + rootCause, "Severity: P0 - All Hands (critical)", "Requests lost: "} {
		if !strings.Contains(first.text(), want) {
			t.Errorf("the incident post lacks %q", want)
		}
	}
	if len(posts) < 2 {
		t.Fatalf("no update of the incident post within %s; posts since the fault:\n%s", repeat+3*groupInterval+30*time.Second, slackTitles(s.hooks.slackSince(faultAt)))
	}
	update := posts[1]
	// The repeat interval counts from the incident's last post.
	prev := first
	for _, p := range major {
		if p.at.Before(update.at) {
			prev = p
		}
	}
	gap := update.at.Sub(prev.at)
	t.Logf("Slack update %.1fs after the incident's previous post (repeat interval %s):\n%s", gap.Seconds(), repeat, update.text())
	if gap < repeat-time.Second || gap > repeat+2*time.Second {
		t.Errorf("the update came %.1fs after the incident's previous post, want the P0 cadence, %s", gap.Seconds(), repeat)
	}
	if a, b := downFor(t, first.text()), downFor(t, update.text()); b <= a {
		t.Errorf("the update says the service has been down for %s, the incident post %s: want the elapsed time to grow", b, a)
	}

	var trigger *pdEvent
	for _, e := range s.hooks.pagerDutySince(faultAt) {
		if e.EventAction == "trigger" && e.Payload.Summary == headline {
			trigger = &e
			break
		}
	}
	if trigger == nil {
		t.Fatalf("want PagerDuty triggered with %q, got %+v", headline, s.hooks.pagerDutySince(faultAt))
	}
	if trigger.Payload.Severity != "critical" || trigger.Payload.CustomDetails["root_cause"] != rootCause {
		t.Errorf("PagerDuty's trigger has severity %q and root_cause %q, want critical and %q", trigger.Payload.Severity, trigger.Payload.CustomDetails["root_cause"], rootCause)
	}

	// Recovery, the runbook's strategy 2: the load loop keeps counting
	// until the recreated gateway answers.
	recovered := time.Now()
	s.composeRun(t, "up", "--detach", "--wait", "--wait-timeout=60", "--no-deps", "--force-recreate", rules.GatewayService)
	if resp, err := http.Get("http://" + gatewayAddr + "/health"); err != nil {
		t.Fatalf("the recreated gateway does not answer: %v", err)
	} else {
		resp.Body.Close()
	}
	time.Sleep(2 * time.Second)
	sent, failed := l.stop()
	t.Logf("load loop: %d predictions sent, %d failed (refused, reset or 5xx)", sent, failed)
	if min := int64(deliveryLoad * repeat.Seconds()); failed < min {
		t.Fatalf("the load loop lost %d requests, fewer than %d: the outage did not last past the update", failed, min)
	}

	var resolved slackPost
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(500 * time.Millisecond) {
		for _, p := range s.hooks.slackSince(recovered) {
			if strings.HasPrefix(p.title(), "✅ RESOLVED") && strings.Contains(p.title(), headline) {
				resolved = p
			}
		}
		if resolved.Attachments != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no resolution message within 2 minutes of the recovery; posts since:\n%s", slackTitles(s.hooks.slackSince(recovered)))
		}
	}
	t.Logf("Slack resolution message %.1fs after the recreate:\n%s\n%s", resolved.at.Sub(recovered).Seconds(), resolved.title(), resolved.text())
	for _, want := range []string{"Incident Duration: ", "Root Cause: " + rootCause, "Downtime: ", "Status: MONITORING"} {
		if !strings.Contains(resolved.text(), want) {
			t.Errorf("the resolution message lacks %q", want)
		}
	}
	lost := requestsLost(t, resolved.text())
	off := math.Abs(lost-float64(failed)) / float64(failed)
	t.Logf("requests lost: the resolution message says %.0f, the load loop lost %d (%.1f%% apart)", lost, failed, 100*off)
	if off > lostTolerance {
		t.Errorf("the resolution message's requests lost (%.0f) is %.0f%% from what the load loop lost (%d), want within %.0f%%", lost, 100*off, failed, 100*lostTolerance)
	}

	// PagerDuty: one incident for the outage, triggered (and updated) under
	// one dedup key, then resolved under it.
	var (
		last   pdEvent
		events []pdEvent
	)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		events = s.hooks.pagerDutySince(faultAt)
		last = events[len(events)-1]
		if last.EventAction == "resolve" || time.Now().After(deadline) {
			break
		}
	}
	keys := map[string]bool{}
	for _, e := range events {
		keys[e.DedupKey] = true
	}
	if len(keys) != 1 || !keys[trigger.DedupKey] || last.EventAction != "resolve" {
		t.Errorf("want PagerDuty's events of the outage under one dedup key, triggered then resolved; got %d keys, last %q (%d events)", len(keys), last.EventAction, len(events))
	}
	t.Logf("PagerDuty: %d events under dedup key %s, the last a %s", len(events), trigger.DedupKey, last.EventAction)
}

// slackTitles lists posts for a failure message.
func slackTitles(posts []slackPost) string {
	var out []string
	for _, p := range posts {
		out = append(out, p.at.Format(time.TimeOnly)+" "+p.title())
	}
	return "  " + strings.Join(out, "\n  ")
}

var (
	downForLine      = regexp.MustCompile(`(?m)^Down for: (.+)$`)
	requestsLostLine = regexp.MustCompile(`(?m)^Requests lost: ([0-9.]+)([kMG]?) \(estimate\)$`)
)

// downFor reads the elapsed time of a firing post, as Prometheus'
// humanizeDuration writes it (e.g. "1m 5s", "38.5s").
func downFor(t *testing.T, text string) time.Duration {
	t.Helper()
	m := downForLine.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no \"Down for:\" line in:\n%s", text)
	}
	d, err := time.ParseDuration(strings.ReplaceAll(m[1], " ", ""))
	if err != nil {
		t.Fatalf("Down for: %q: %v", m[1], err)
	}
	return d
}

// requestsLost reads the resolution message's requests lost, as
// Prometheus' humanize writes it (e.g. "987.5", "1.234k").
func requestsLost(t *testing.T, text string) float64 {
	t.Helper()
	m := requestsLostLine.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no \"Requests lost: N (estimate)\" line in:\n%s", text)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v * map[string]float64{"": 1, "k": 1e3, "M": 1e6, "G": 1e9}[m[2]]
}

// heartbeats checks the dead man's switch: the Watchdog reaches its
// receiver at the heartbeat's interval, and nothing else does; once
// Prometheus stops, Alertmanager lets the Watchdog expire (four resend
// delays after Prometheus last sent it) and the heartbeats stop, with no
// resolved post that a dead man's switch would take for one more. It stops
// Prometheus: it runs last.
func (s *stack) heartbeats(t *testing.T) {
	every := rules.GatewayRouting(rules.E2E).Heartbeat.Every()
	start := time.Now()
	time.Sleep(5 * every)
	beats := s.hooks.beatsSince(start)
	if len(beats) < 4 {
		t.Fatalf("%d heartbeats in %s, want one every %s", len(beats), 5*every, every)
	}
	for i, b := range beats {
		if !b.watchdog {
			t.Errorf("heartbeat %d carried no firing Watchdog", i)
		}
		if i > 0 {
			if gap := b.at.Sub(beats[i-1].at); gap > every+2*time.Second {
				t.Errorf("heartbeats %.1fs apart, want every %s", gap.Seconds(), every)
			}
		}
	}
	t.Logf("%d heartbeats in %s", len(beats), 5*every)

	stopped := time.Now()
	s.stopPrometheus()
	t.Logf("Prometheus stopped in %.1fs", time.Since(stopped).Seconds())
	// Prometheus last sent the Watchdog at most a resend delay before it
	// stopped, valid for four; then Alertmanager's next flush.
	bound := 5*resendDelay + every + 5*time.Second
	time.Sleep(bound + 3*every)
	after := s.hooks.beatsSince(stopped)
	for i, b := range after {
		t.Logf("heartbeat %.1fs after Prometheus stopped: Watchdog firing %v, ends at %s", b.at.Sub(stopped).Seconds(), b.watchdog, b.endsAt.Format(time.TimeOnly))
		if !b.watchdog {
			t.Errorf("a post to the heartbeat %.1fs after Prometheus stopped carried no firing Watchdog (a resolved one?)", b.at.Sub(stopped).Seconds())
		}
		if b.at.Sub(stopped) > bound {
			t.Errorf("heartbeat %d came %.1fs after Prometheus stopped, want none after %s", i, b.at.Sub(stopped).Seconds(), bound)
		}
	}
	if len(after) > 0 {
		t.Logf("%d heartbeats after Prometheus stopped, the last %.1fs after; none in the %s since", len(after), after[len(after)-1].at.Sub(stopped).Seconds(), time.Since(after[len(after)-1].at).Round(time.Second))
	}
}
