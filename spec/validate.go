package spec

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
)

// FieldError is one problem of a spec, located by service, alert, test and
// field, so a user can find it in their Go source.
type FieldError struct {
	Service string
	Alert   string
	Test    string
	Field   string
	Problem string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Service != "" {
		fmt.Fprintf(&b, "service %q: ", e.Service)
	}
	if e.Alert != "" {
		fmt.Fprintf(&b, "alert %q: ", e.Alert)
	}
	if e.Test != "" {
		fmt.Fprintf(&b, "test %q: ", e.Test)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, "%s: ", e.Field)
	}
	b.WriteString(e.Problem)
	return b.String()
}

var (
	alertNameRE   = regexp.MustCompile(`^[A-Z][a-zA-Z0-9]*$`)
	composeNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	restartRE     = regexp.MustCompile(`^(no|always|unless-stopped|on-failure(:[0-9]+)?)$`)
	// Labels promgen sets itself; a spec may not override them.
	reservedLabels = map[string]bool{"alertname": true, "severity": true, "service": true}
)

// Validate reports every problem of the spec at once, joined with
// errors.Join; each is a *FieldError.
func (s Spec) Validate() error {
	var v validator
	if len(s.Services) == 0 {
		v.add(FieldError{Field: "services", Problem: "no services"})
	}
	services := map[string]bool{}
	alerts := map[string]string{}
	for _, svc := range s.Services {
		if services[svc.Name] {
			v.add(FieldError{Service: svc.Name, Field: "name", Problem: "duplicate service"})
		}
		services[svc.Name] = true
		v.service(svc)
		for _, a := range svc.Alerts {
			if prev, ok := alerts[a.Name]; ok && a.Name != "" {
				v.add(FieldError{Service: svc.Name, Alert: a.Name, Field: "name", Problem: fmt.Sprintf("duplicate alert (also in service %q)", prev)})
			}
			alerts[a.Name] = svc.Name
		}
	}
	return errors.Join(v.errs...)
}

type validator struct{ errs []error }

func (v *validator) add(e FieldError) { v.errs = append(v.errs, &e) }

func (v *validator) service(s Service) {
	at := func(field, format string, args ...any) {
		v.add(FieldError{Service: s.Name, Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	if !composeNameRE.MatchString(s.Name) {
		at("name", "%q is not a compose service name (lower-case letters, digits, '-', '_', '.')", s.Name)
	}
	if s.EvaluationInterval < 0 {
		at("evaluation_interval", "must not be negative")
	}
	c := s.Container
	if c.Restart != "" && !restartRE.MatchString(c.Restart) {
		at("container.restart", "%q is not one of no, always, unless-stopped, on-failure[:N]", c.Restart)
	}
	rp := c.RestartPolicy
	switch rp.Condition {
	case "", "none", "on-failure", "any":
	default:
		at("container.restart_policy.condition", "%q is not one of none, on-failure, any", rp.Condition)
	}
	if rp.Delay < 0 || rp.Window < 0 {
		at("container.restart_policy", "delay and window must not be negative")
	}
	m := c.Memory
	if m.Limit < 0 || m.Reservation < 0 {
		at("container.memory", "limit and reservation must not be negative")
	}
	if m.Limit > 0 && m.Reservation > m.Limit {
		at("container.memory.reservation", "%d bytes exceeds the limit of %d bytes", m.Reservation, m.Limit)
	}
	if hc := c.Healthcheck; len(hc.Test) > 0 {
		switch hc.Test[0] {
		case "CMD", "CMD-SHELL":
			if len(hc.Test) < 2 {
				at("container.healthcheck.test", "%s needs a command", hc.Test[0])
			}
		case "NONE":
		default:
			at("container.healthcheck.test", "must start with CMD, CMD-SHELL or NONE, not %q", hc.Test[0])
		}
		if hc.Interval <= 0 {
			at("container.healthcheck.interval", "must be > 0")
		}
		if hc.Timeout <= 0 || hc.Timeout > hc.Interval {
			at("container.healthcheck.timeout", "must be > 0 and at most the interval (%s)", hc.Interval)
		}
		if hc.Retries == 0 {
			at("container.healthcheck.retries", "must be at least 1")
		}
		if hc.StartPeriod < 0 {
			at("container.healthcheck.start_period", "must not be negative")
		}
	}
	if len(s.Alerts) == 0 {
		at("alerts", "no alerts")
	}
	for _, a := range s.Alerts {
		v.alert(s, a)
	}
}

func (v *validator) alert(s Service, a Alert) {
	at := func(field, format string, args ...any) {
		v.add(FieldError{Service: s.Name, Alert: a.Name, Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	if !alertNameRE.MatchString(a.Name) {
		at("name", "%q is not CamelCase", a.Name)
	}
	if a.Expr == nil {
		at("expr", "missing")
	} else if e, err := parser.NewParser(parser.Options{}).ParseExpr(a.Expr.String()); err != nil {
		at("expr", "does not parse: %v", err)
	} else if t := e.Type(); t != parser.ValueTypeVector {
		at("expr", "must evaluate to an instant vector, not %s", t)
	} else if shape(e) != shape(a.Expr) {
		// The AST printer omits parentheses the tree implies; build operands
		// with Paren or the spec builders so the text means the tree.
		at("expr", "prints as %q, which Prometheus reads as a different tree; add parentheses with Paren", a.Expr.String())
	}
	if a.For < 0 {
		at("for", "must not be negative")
	}
	switch a.Severity {
	case Critical, Warning, Info:
	default:
		at("severity", "%q is not one of critical, warning, info", a.Severity)
	}
	for k, val := range a.Labels {
		switch {
		case reservedLabels[k]:
			at("labels."+k, "is set by promgen")
		case !model.LabelName(k).IsValid():
			at("labels."+k, "is not a valid label name")
		case strings.Contains(val, "{{"):
			at("labels."+k, "holds a template; volatile label values reset the alert's for timer, use an annotation")
		}
	}
	if strings.TrimSpace(a.Summary) == "" {
		at("summary", "missing")
	}
	if strings.TrimSpace(a.Description) == "" {
		at("description", "missing")
	}
	if u, err := url.Parse(a.RunbookURL); a.RunbookURL == "" || err != nil || !u.IsAbs() {
		at("runbook_url", "%q is not an absolute URL", a.RunbookURL)
	}
	var fires, quiet bool
	for _, t := range a.Tests {
		for _, e := range t.Expect {
			if len(e.Firing) > 0 {
				fires = true
			} else {
				quiet = true
			}
		}
		v.test(s, a, t)
	}
	if !fires || !quiet {
		at("tests", "need at least one expectation that the alert fires and one that it does not")
	}
}

func (v *validator) test(s Service, a Alert, t Test) {
	at := func(field, format string, args ...any) {
		v.add(FieldError{Service: s.Name, Alert: a.Name, Test: t.Name, Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	if t.Name == "" {
		at("name", "missing")
	}
	step := t.SampleInterval()
	var longest time.Duration
	for i, ser := range t.Series {
		if ser.Metric == "" || !model.IsValidLegacyMetricName(ser.Metric) {
			at(fmt.Sprintf("series[%d].metric", i), "%q is not a metric name", ser.Metric)
		}
		var d time.Duration
		for j, seg := range ser.Values {
			if seg.For < step || seg.For%step != 0 {
				at(fmt.Sprintf("series[%d].values[%d].for", i, j), "%s must be a positive multiple of the interval %s", seg.For, step)
			}
			d += seg.For
		}
		longest = max(longest, d)
	}
	if len(t.Expect) == 0 {
		at("expect", "no expectations")
	}
	for i, e := range t.Expect {
		if e.At < 0 || e.At >= longest {
			at(fmt.Sprintf("expect[%d].at", i), "%s is outside the series (0 to %s)", e.At, longest)
		}
	}
}

// shape describes a tree's structure, node by node in walk order with depth
// and operator, to tell whether printing and re-parsing kept it.
func shape(e parser.Expr) string {
	var b strings.Builder
	parser.Inspect(e, func(n parser.Node, path []parser.Node) error {
		fmt.Fprintf(&b, "%d:%T", len(path), n)
		switch n := n.(type) {
		case *parser.BinaryExpr:
			fmt.Fprintf(&b, ":%s", n.Op)
		case *parser.AggregateExpr:
			fmt.Fprintf(&b, ":%s", n.Op)
		}
		b.WriteByte(' ')
		return nil
	})
	return b.String()
}
