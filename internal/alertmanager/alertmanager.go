// Package alertmanager turns a spec's Routing into an Alertmanager
// configuration and the routing cases that prove it: which receivers each
// alert of the spec reaches.
//
// The file is written from a typed mirror of the part of Alertmanager's
// format promgen uses, not from Alertmanager's Go types: those (v0.35, the
// config package that builds with this module) marshal fields the pinned
// Alertmanager v0.28.1 rejects, and write zero values over defaults such as
// send_resolved. Validate loads the result with Alertmanager's own config
// package, and the tests load it into the real v0.28.1 binary and amtool.
package alertmanager

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"

	"github.com/sre-tools/promgen/conventions"
	"github.com/sre-tools/promgen/spec"
)

// File is an Alertmanager configuration file.
type File struct {
	// Templates are the notification template files, relative to this one.
	Templates    []string      `yaml:"templates,omitempty"`
	Route        Route         `yaml:"route"`
	InhibitRules []InhibitRule `yaml:"inhibit_rules,omitempty"`
	Receivers    []Receiver    `yaml:"receivers"`
}

// Route is a node of the routing tree.
type Route struct {
	Receiver       string          `yaml:"receiver"`
	GroupBy        []string        `yaml:"group_by,omitempty"`
	Matchers       []string        `yaml:"matchers,omitempty"`
	Continue       bool            `yaml:"continue,omitempty"`
	GroupWait      *model.Duration `yaml:"group_wait,omitempty"`
	GroupInterval  *model.Duration `yaml:"group_interval,omitempty"`
	RepeatInterval *model.Duration `yaml:"repeat_interval,omitempty"`
	Routes         []Route         `yaml:"routes,omitempty"`
}

// InhibitRule mutes target alerts while a source alert fires.
type InhibitRule struct {
	SourceMatchers []string `yaml:"source_matchers"`
	TargetMatchers []string `yaml:"target_matchers"`
	Equal          []string `yaml:"equal,omitempty"`
}

// Receiver is a named destination.
type Receiver struct {
	Name             string      `yaml:"name"`
	PagerdutyConfigs []Pagerduty `yaml:"pagerduty_configs,omitempty"`
	SlackConfigs     []Slack     `yaml:"slack_configs,omitempty"`
	WebhookConfigs   []Webhook   `yaml:"webhook_configs,omitempty"`
}

// Pagerduty is a pagerduty_configs entry, its fields templates of the
// notification template file. Details are strings: v0.28.1 takes no other.
type Pagerduty struct {
	RoutingKeyFile string `yaml:"routing_key_file,omitempty"`
	RoutingKey     string `yaml:"routing_key,omitempty"`
	// URL is the Events API; empty is PagerDuty's own. Tests point it at a
	// stand-in.
	URL         string            `yaml:"url,omitempty"`
	Description string            `yaml:"description,omitempty"`
	Severity    string            `yaml:"severity,omitempty"`
	Details     map[string]string `yaml:"details,omitempty"`
	Links       []PagerdutyLink   `yaml:"links,omitempty"`
}

// PagerdutyLink is a link of a PagerDuty incident.
type PagerdutyLink struct {
	Href string `yaml:"href"`
	Text string `yaml:"text"`
}

// Slack is a slack_configs entry; resolved notifications are sent too.
type Slack struct {
	APIURLFile   string `yaml:"api_url_file,omitempty"`
	APIURL       string `yaml:"api_url,omitempty"`
	Channel      string `yaml:"channel"`
	SendResolved bool   `yaml:"send_resolved"`
	Title        string `yaml:"title,omitempty"`
	Text         string `yaml:"text,omitempty"`
}

// Webhook is a webhook_configs entry. SendResolved nil keeps
// Alertmanager's default, true.
type Webhook struct {
	URL          string `yaml:"url,omitempty"`
	URLFile      string `yaml:"url_file,omitempty"`
	SendResolved *bool  `yaml:"send_resolved,omitempty"`
}

// Config is the Alertmanager configuration of a spec with Routing: a root
// route to the default receiver, grouped as the spec says, with one child
// route per severity and receiver (all but the last of a severity continue,
// so each of them is notified, at the severity's repeat interval), the
// spec's inhibitions, and the notification templates (TemplateFile) the
// Slack and PagerDuty receivers are written with.
func Config(s spec.Spec) File {
	r := s.Routing
	groupInterval := r.GroupInterval
	if groupInterval == 0 {
		groupInterval = amDefaultGroupInterval
	}
	root := Route{
		Receiver:       r.Default,
		GroupBy:        r.Grouping(),
		GroupWait:      duration(r.GroupWait),
		GroupInterval:  duration(r.GroupInterval),
		RepeatInterval: duration(repeatEvery(r.RepeatInterval, groupInterval)),
	}
	// The Watchdog reaches the heartbeat alone: its route comes first and
	// does not continue.
	if h := r.Heartbeat; h != nil {
		root.Routes = append(root.Routes, Route{
			Receiver:       spec.HeartbeatReceiver,
			Matchers:       []string{matcher(labels.MatchEqual, conventions.LabelAlertname, conventions.AlertWatchdog)},
			GroupInterval:  duration(h.Every()),
			RepeatInterval: duration(repeatEvery(h.Every(), h.Every())),
		})
	}
	for _, sev := range conventions.Severities {
		names := r.BySeverity[sev]
		for i, name := range names {
			root.Routes = append(root.Routes, Route{
				Receiver:       name,
				Matchers:       []string{matcher(labels.MatchEqual, conventions.LabelSeverity, string(sev))},
				Continue:       i < len(names)-1,
				RepeatInterval: duration(repeatEvery(r.RepeatBySeverity[sev], groupInterval)),
			})
		}
	}
	f := File{Templates: []string{TemplateFile}, Route: root}
	for _, in := range r.Inhibitions {
		f.InhibitRules = append(f.InhibitRules, InhibitRule{
			SourceMatchers: []string{matcher(labels.MatchEqual, conventions.LabelAlertname, in.Source)},
			TargetMatchers: []string{alertnames(in.Targets)},
			Equal:          in.Equal,
		})
	}
	for _, rc := range r.Receivers {
		out := Receiver{Name: rc.Name}
		if p := rc.PagerDuty; p != nil {
			out.PagerdutyConfigs = []Pagerduty{{RoutingKeyFile: p.RoutingKeyFile, RoutingKey: p.RoutingKey, URL: p.URL,
				Description: pdDesc, Severity: pdSeverity, Details: pdDetails, Links: pdLinks}}
		}
		if sl := rc.Slack; sl != nil {
			out.SlackConfigs = []Slack{{APIURLFile: sl.APIURLFile, APIURL: sl.APIURL, Channel: sl.Channel, SendResolved: true,
				Title: slackTitle, Text: slackText}}
		}
		if w := rc.Webhook; w != nil {
			out.WebhookConfigs = []Webhook{{URL: w.URL, URLFile: w.URLFile}}
		}
		f.Receivers = append(f.Receivers, out)
	}
	if h := r.Heartbeat; h != nil {
		// A dead man's switch counts every post as a heartbeat: the
		// Watchdog's resolution, sent once Prometheus stops, would be one
		// more.
		f.Receivers = append(f.Receivers, Receiver{Name: spec.HeartbeatReceiver,
			WebhookConfigs: []Webhook{{URL: h.Webhook.URL, URLFile: h.Webhook.URLFile, SendResolved: new(bool)}}})
	}
	return f
}

// matcher prints a matcher as Alertmanager does.
func matcher(t labels.MatchType, name, value string) string {
	m, err := labels.NewMatcher(t, name, value)
	if err != nil {
		panic(fmt.Sprintf("alertmanager: matcher %s %q: %v", name, value, err))
	}
	return m.String()
}

// alertnames matches any of the alert names exactly.
func alertnames(names []string) string {
	if len(names) == 1 {
		return matcher(labels.MatchEqual, conventions.LabelAlertname, names[0])
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = regexp.QuoteMeta(n)
	}
	return matcher(labels.MatchRegexp, conventions.LabelAlertname, strings.Join(quoted, "|"))
}

// amDefaultGroupInterval is Alertmanager's group_interval when none is set.
const amDefaultGroupInterval = 5 * time.Minute

// repeatEvery is the repeat_interval that repeats a notification every
// cadence. Alertmanager repeats at a group-interval flush once more than
// repeat_interval passed since the last send, logged a moment after its
// own flush: a cadence that is a multiple of the group interval, written
// as it is, waits for the flush after, a group interval late (a 5m update
// every 10m, a 1m heartbeat every 2m) unless the timer happened to lag
// more than the send took. Half a group interval less lands it on its
// flush.
func repeatEvery(cadence, groupInterval time.Duration) time.Duration {
	if cadence == 0 || cadence%groupInterval != 0 {
		return cadence
	}
	return cadence - groupInterval/2
}

func duration(d time.Duration) *model.Duration {
	if d == 0 {
		return nil
	}
	md := model.Duration(d)
	return &md
}

// Validate loads a rendered configuration with Alertmanager's own config
// package, as Alertmanager would.
func Validate(path string, content []byte) error {
	if _, err := amconfig.Load(string(content)); err != nil {
		return fmt.Errorf("%s: Alertmanager rejects the generated configuration: %w", path, err)
	}
	return nil
}

// Case is one routing case: an alert's routing labels and the receivers it
// must reach, in order. amtool config routes test checks each.
type Case struct {
	Labels    map[string]string `yaml:"labels"`
	Receivers []string          `yaml:"receivers"`
}

// Cases are the routing cases of every alert of the spec, computed from the
// spec (not from the generated routes), one per service and alert.
func Cases(s spec.Spec) []Case {
	r := s.Routing
	want := func(a spec.Alert) []string {
		if a.Name == conventions.AlertWatchdog && r.Heartbeat != nil {
			return []string{spec.HeartbeatReceiver}
		}
		if names := r.BySeverity[a.Severity]; len(names) > 0 {
			return slices.Clone(names)
		}
		return []string{r.Default}
	}
	var out []Case
	for _, svc := range s.Services {
		for _, a := range svc.Alerts {
			out = append(out, Case{Labels: caseLabels(a, conventions.LabelService, svc.Name), Receivers: want(a)})
		}
	}
	for _, a := range s.Pipeline {
		out = append(out, Case{Labels: caseLabels(a), Receivers: want(a)})
	}
	return out
}

func caseLabels(a spec.Alert, extra ...string) map[string]string {
	l := map[string]string{conventions.LabelAlertname: a.Name, conventions.LabelSeverity: string(a.Severity)}
	for k, v := range a.Labels {
		l[k] = v
	}
	for i := 0; i+1 < len(extra); i += 2 {
		l[extra[i]] = extra[i+1]
	}
	return l
}
