package spec

import (
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/prometheus/common/model"

	"github.com/sre-tools/promgen/conventions"
)

// Routing is how Alertmanager delivers a spec's alerts: to which receivers
// by severity, grouped how, and which alerts mute which while they fire.
// promgen writes it as an Alertmanager configuration; a spec without
// receivers gets none.
type Routing struct {
	// Receivers are the destinations, each with its secrets in files.
	Receivers []Receiver
	// BySeverity names the receivers of each severity, in order: all of
	// them are notified. E.g. critical: [pagerduty, slack], warning: [slack].
	BySeverity map[Severity][]string
	// Default receives what no severity route takes; Alertmanager's root
	// route needs one.
	Default string
	// GroupBy are the labels notifications are grouped by. Default: the
	// service label alone, so a service's outage is one incident whichever
	// of its alerts fires first (an OOM kill before the service is down,
	// then ServiceDown), and services never share one.
	GroupBy []string
	// GroupWait, GroupInterval and RepeatInterval of the root route. Zero
	// keeps Alertmanager's defaults (30s, 5m, 4h).
	GroupWait, GroupInterval, RepeatInterval time.Duration
	// RepeatBySeverity overrides RepeatInterval for the routes of a
	// severity: how often a notification is sent again while its alerts
	// fire, e.g. the runbook's status update every 5 minutes for a P0.
	RepeatBySeverity map[Severity]time.Duration
	// Inhibitions mute alerts while another fires.
	Inhibitions []Inhibition
	// Heartbeat is the dead man's switch: where the always-firing
	// Watchdog (conventions.AlertWatchdog) goes, and nothing else. A spec
	// whose alerts include a Watchdog must set it.
	Heartbeat *Heartbeat
	// Incident holds the team's words the notifications are written in.
	Incident Incident
	// ExternalURL is where people reach this Alertmanager (its
	// --web.external-url): the silence links of notifications point there.
	// Default DefaultAlertmanagerURL.
	ExternalURL string
}

// Heartbeat sends the Watchdog to a dead man's switch (a service such as
// healthchecks.io, or PagerDuty's or Opsgenie's heartbeats) that alerts
// when the heartbeats stop: when Prometheus, Alertmanager or the path
// between them is down, and no other alert could say so.
type Heartbeat struct {
	// Webhook is where the heartbeats are posted; its URL in URLFile.
	Webhook Webhook
	// Interval between heartbeats. Default DefaultHeartbeatInterval.
	Interval time.Duration
}

// HeartbeatReceiver names the generated receiver of the heartbeats; no
// receiver of the spec may take the name.
const HeartbeatReceiver = "heartbeat"

// DefaultHeartbeatInterval is how often a heartbeat is sent.
const DefaultHeartbeatInterval = time.Minute

// Every returns Interval or its default.
func (h Heartbeat) Every() time.Duration {
	if h.Interval > 0 {
		return h.Interval
	}
	return DefaultHeartbeatInterval
}

// DefaultAlertmanagerURL is the external URL of the stack's Alertmanager.
const DefaultAlertmanagerURL = "http://localhost:9093"

// AlertmanagerURL returns ExternalURL or its default.
func (r Routing) AlertmanagerURL() string {
	if r.ExternalURL != "" {
		return r.ExternalURL
	}
	return DefaultAlertmanagerURL
}

// Incident is how a team speaks of an incident in its notifications, as its
// runbook's Communication section does: where the incident is run, who
// leads it and what each severity is called. Every field is optional: a
// notification leaves out what is not set.
type Incident struct {
	// Channel is where the incident is discussed, e.g. "#incidents".
	Channel string
	// WarRoom is the link of the incident's call, e.g. a Zoom room.
	WarRoom string
	// Commander names who leads the incident, e.g. "@incident-commander".
	Commander string
	// SeverityNames are the team's names of the severities, e.g.
	// critical: "P0 - All Hands". A severity without one is named as is.
	SeverityNames map[Severity]string
}

// Receiver is one destination. Exactly one integration is set.
type Receiver struct {
	Name      string
	PagerDuty *PagerDuty
	Slack     *Slack
	Webhook   *Webhook
}

// PagerDuty pages through PagerDuty's Events API v2.
type PagerDuty struct {
	// RoutingKeyFile is the path, where Alertmanager runs, of the file that
	// holds the integration's routing key: the key is never in the repo.
	RoutingKeyFile string
	// RoutingKey is the key itself; only for a key that is no secret (a
	// local stand-in's). Otherwise RoutingKeyFile.
	RoutingKey string
	// URL is the Events API v2 endpoint; empty is PagerDuty's own. Set it
	// for a proxy or a local stand-in.
	URL string
}

// Slack posts to a Slack channel through an incoming webhook.
type Slack struct {
	// APIURLFile is the path of the file that holds the webhook URL.
	APIURLFile string
	// APIURL is the webhook URL itself; only for a URL that is no secret
	// (a local stand-in). Otherwise APIURLFile.
	APIURL string
	// Channel, e.g. "#incidents".
	Channel string
}

// Webhook posts Alertmanager's webhook payload to a URL.
type Webhook struct {
	// URL to post to; only for URLs that are no secret (e.g. a local
	// receiver). Otherwise URLFile.
	URL string
	// URLFile is the path of the file that holds the URL.
	URLFile string
}

// Inhibition mutes the Targets alerts while a Source alert fires with the
// same values of the Equal labels. An inhibition that involves a service's
// alert must be equal on the service label: nothing mutes across services.
type Inhibition struct {
	Source  string
	Targets []string
	Equal   []string
}

// Configured reports whether the spec routes its alerts at all.
func (r Routing) Configured() bool { return len(r.Receivers) > 0 }

// Grouping returns GroupBy or its default.
func (r Routing) Grouping() []string {
	if len(r.GroupBy) > 0 {
		return r.GroupBy
	}
	return []string{conventions.LabelService}
}

// routing checks the spec's routing against its alerts.
func (v *validator) routing() {
	r := v.spec.Routing
	at := func(field, format string, args ...any) {
		v.add(FieldError{Field: "routing." + field, Problem: fmt.Sprintf(format, args...)})
	}
	// Checked here, beside Alertmanager's, as both are the links people
	// follow from a notification.
	if u := v.spec.Prometheus.ExternalURL; u != "" && !absolute(u) {
		v.add(FieldError{Field: "prometheus.external_url", Problem: fmt.Sprintf("%q is not an absolute URL", u)})
	}
	if !r.Configured() {
		if len(r.BySeverity) > 0 || r.Default != "" || len(r.Inhibitions) > 0 {
			at("receivers", "none, but routes or inhibitions are set")
		}
		return
	}
	names := map[string]bool{}
	for i, rc := range r.Receivers {
		field := fmt.Sprintf("receivers[%d]", i)
		switch {
		case rc.Name == "":
			at(field+".name", "missing")
		case names[rc.Name]:
			at(field+".name", "duplicate receiver %q", rc.Name)
		}
		names[rc.Name] = true
		n := 0
		if p := rc.PagerDuty; p != nil {
			n++
			if (p.RoutingKeyFile == "") == (p.RoutingKey == "") {
				at(field+".pagerduty.routing_key_file", "receiver %q: set exactly one of routing_key_file and routing_key (a key that is no secret): a real key must come from a file, never from the spec", rc.Name)
			}
			if p.URL != "" && !absolute(p.URL) {
				at(field+".pagerduty.url", "receiver %q: %q is not an absolute URL", rc.Name, p.URL)
			}
		}
		if s := rc.Slack; s != nil {
			n++
			if (s.APIURLFile == "") == (s.APIURL == "") {
				at(field+".slack.api_url_file", "receiver %q: set exactly one of api_url_file and api_url (a URL that is no secret): a real webhook URL must come from a file, never from the spec", rc.Name)
			}
			if s.APIURL != "" && !absolute(s.APIURL) {
				at(field+".slack.api_url", "receiver %q: %q is not an absolute URL", rc.Name, s.APIURL)
			}
			if s.Channel == "" {
				at(field+".slack.channel", "receiver %q: missing", rc.Name)
			}
		}
		if w := rc.Webhook; w != nil {
			n++
			webhook(at, field+".webhook", rc.Name, *w)
		}
		if rc.Name == HeartbeatReceiver && r.Heartbeat != nil {
			at(field+".name", "%q is the heartbeat's receiver", rc.Name)
		}
		if n != 1 {
			at(field, "receiver %q: set exactly one of pagerduty, slack and webhook, not %d", rc.Name, n)
		}
	}
	known := func(field, name string) {
		if !names[name] {
			at(field, "%q is not a receiver of the spec", name)
		}
	}
	if r.Default == "" {
		at("default", "missing: Alertmanager's root route needs a receiver")
	} else {
		known("default", r.Default)
	}
	used := map[Severity][]string{}
	watchdog := false
	v.eachAlert(func(svc *Service, a Alert) {
		if a.Name == conventions.AlertWatchdog {
			watchdog = true
			return // routed to the heartbeat alone
		}
		used[a.Severity] = append(used[a.Severity], a.Name)
	})
	if h := r.Heartbeat; h != nil {
		webhook(at, "heartbeat.webhook", HeartbeatReceiver, h.Webhook)
		if h.Interval < 0 {
			at("heartbeat.interval", "must not be negative")
		}
	} else if watchdog {
		at("heartbeat", "missing: alert %q always fires and must reach a heartbeat receiver, never a person", conventions.AlertWatchdog)
	}
	for _, sev := range conventions.Severities {
		for i, name := range r.BySeverity[sev] {
			known(fmt.Sprintf("by_severity.%s[%d]", sev, i), name)
		}
		if len(r.BySeverity[sev]) == 0 && len(used[sev]) > 0 {
			at("by_severity."+string(sev), "no receiver, but alert %q has this severity", used[sev][0])
		}
	}
	for sev := range r.BySeverity {
		if !sev.Valid() {
			at("by_severity."+string(sev), "not a severity (%v)", conventions.SeverityNames())
		}
	}
	for _, l := range r.GroupBy {
		if !model.LabelName(l).IsValid() {
			at("group_by", "%q is not a label name", l)
		}
	}
	if r.GroupWait < 0 || r.GroupInterval < 0 || r.RepeatInterval < 0 {
		at("group_wait", "group_wait, group_interval and repeat_interval must not be negative")
	}
	for sev, d := range r.RepeatBySeverity {
		switch {
		case !sev.Valid():
			at("repeat_by_severity."+string(sev), "not a severity (%v)", conventions.SeverityNames())
		case d <= 0:
			at("repeat_by_severity."+string(sev), "must be > 0")
		case len(r.BySeverity[sev]) == 0:
			at("repeat_by_severity."+string(sev), "no route of this severity to repeat")
		}
	}
	for sev := range r.Incident.SeverityNames {
		if !sev.Valid() {
			at("incident.severity_names."+string(sev), "not a severity (%v)", conventions.SeverityNames())
		}
	}
	if w := r.Incident.WarRoom; w != "" && !absolute(w) {
		at("incident.war_room", "%q is not an absolute URL", w)
	}
	if u := r.ExternalURL; u != "" && !absolute(u) {
		at("external_url", "%q is not an absolute URL", u)
	}
	for i, in := range r.Inhibitions {
		v.inhibition(fmt.Sprintf("inhibitions[%d]", i), in)
	}
}

func (v *validator) inhibition(field string, in Inhibition) {
	at := func(sub, format string, args ...any) {
		v.add(FieldError{Field: "routing." + field + sub, Problem: fmt.Sprintf(format, args...)})
	}
	perService := false
	find := func(sub, name string) {
		found := false
		v.eachAlert(func(svc *Service, a Alert) {
			if a.Name == name {
				found = true
				perService = perService || svc != nil
			}
		})
		if !found {
			at(sub, "%q is not an alert of the spec", name)
		}
	}
	for i, name := range append([]string{in.Source}, in.Targets...) {
		if name == conventions.AlertWatchdog {
			at(fmt.Sprintf(".names[%d]", i), "%q always fires: it would mute, or be muted, forever", name)
		}
	}
	find(".source", in.Source)
	if len(in.Targets) == 0 {
		at(".targets", "none")
	}
	for i, t := range in.Targets {
		find(fmt.Sprintf(".targets[%d]", i), t)
		if t == in.Source {
			at(fmt.Sprintf(".targets[%d]", i), "%q would mute itself", t)
		}
	}
	for _, l := range in.Equal {
		if !model.LabelName(l).IsValid() {
			at(".equal", "%q is not a label name", l)
		}
	}
	if perService && !slices.Contains(in.Equal, conventions.LabelService) {
		at(".equal", "must contain %q: the inhibition involves a service's alert, and nothing may mute across services", conventions.LabelService)
	}
}

// webhook checks a webhook's URL: exactly one of url and url_file, and a
// plain url that is absolute and holds no credentials.
func webhook(at func(field, format string, args ...any), field, receiver string, w Webhook) {
	switch {
	case (w.URL == "") == (w.URLFile == ""):
		at(field, "receiver %q: set exactly one of url and url_file", receiver)
	case w.URL != "" && !absolute(w.URL):
		at(field+".url", "receiver %q: %q is not an absolute URL", receiver, w.URL)
	}
	if u, err := url.Parse(w.URL); w.URL != "" && err == nil && u.User != nil {
		at(field+".url", "receiver %q: holds credentials; put the URL in url_file", receiver)
	}
}

// eachAlert calls fn for every alert of the spec; svc is nil for a
// pipeline alert.
func (v *validator) eachAlert(fn func(svc *Service, a Alert)) {
	for i := range v.spec.Services {
		for _, a := range v.spec.Services[i].Alerts {
			fn(&v.spec.Services[i], a)
		}
		for _, a := range v.spec.Services[i].KubernetesAlerts(v.spec) {
			fn(&v.spec.Services[i], a)
		}
	}
	for _, a := range v.spec.Pipeline {
		fn(nil, a)
	}
}
