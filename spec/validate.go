package spec

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/conventions"
	"github.com/sre-tools/promgen/internal/analysis"
	"github.com/sre-tools/promgen/internal/parallel"
)

// FieldError is one problem of a spec, located by service, alert, test and
// field, so a user can find it in their Go source.
type FieldError struct {
	Service string
	// Pipeline is set for a spec-wide alert of Spec.Pipeline.
	Pipeline bool
	Alert    string
	Test     string
	Field    string
	Problem  string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Service != "" {
		fmt.Fprintf(&b, "service %q: ", e.Service)
	}
	switch {
	case e.Alert != "" && e.Pipeline:
		fmt.Fprintf(&b, "pipeline alert %q: ", e.Alert)
	case e.Alert != "":
		fmt.Fprintf(&b, "alert %q: ", e.Alert)
	case e.Pipeline:
		b.WriteString("pipeline: ")
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
	composeNameRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	composeProjectRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	restartRE        = regexp.MustCompile(`^(no|always|unless-stopped|on-failure(:[0-9]+)?)$`)
)

// Validate reports every problem of the spec at once, joined with
// errors.Join; each is a *FieldError.
func (s Spec) Validate() error { return s.ValidateWith(&Printer{}) }

// ValidateWith is Validate, printing and parsing the expressions with p.
func (s Spec) ValidateWith(p *Printer) error {
	v := validator{spec: s, print: p}
	if len(s.Services) == 0 {
		v.add(FieldError{Field: "services", Problem: "no services"})
	}
	if s.RunbookURL != "" && !absolute(s.RunbookURL) {
		v.add(FieldError{Field: "runbook_url", Problem: fmt.Sprintf("%q is not an absolute URL", s.RunbookURL)})
	}
	rest := s
	rest.Services, rest.Pipeline = nil, nil
	textFields(reflect.ValueOf(rest), "", func(field, problem string) { v.add(FieldError{Field: field, Problem: problem}) })
	// Each service's checks read only the spec, so they run on every
	// core, each with a validator of its own; their problems are gathered
	// in the services' order.
	each := make([][]error, len(s.Services))
	parallel.Each(len(s.Services), func(i int) {
		w := validator{spec: s, print: p}
		w.service(&s.Services[i])
		each[i] = w.errs
	})
	services := map[string]bool{}
	for i, svc := range s.Services {
		if services[svc.Name] {
			v.add(FieldError{Service: svc.Name, Field: "name", Problem: "duplicate service"})
		}
		services[svc.Name] = true
		v.errs = append(v.errs, each[i]...)
	}
	v.alerts(nil, s.Pipeline)
	v.kubernetes()
	v.routing()
	v.scrape()
	return errors.Join(v.errs...)
}

type validator struct {
	spec  Spec
	print *Printer
	errs  []error
}

func (v *validator) add(e FieldError) { v.errs = append(v.errs, &e) }

// alerts checks the alerts of one group: a service's (svc set) or the
// spec-wide pipeline's (svc nil). A name is unique within its group only.
func (v *validator) alerts(svc *Service, alerts []Alert) {
	seen := map[string]bool{}
	for _, a := range alerts {
		if seen[a.Name] && a.Name != "" {
			v.add(v.at(svc, a, "", "name", "duplicate alert: an alert name may appear once per %s", group(svc)))
		}
		seen[a.Name] = true
		v.alert(svc, a)
	}
}

func group(svc *Service) string {
	if svc == nil {
		return "spec (pipeline alerts)"
	}
	return "service"
}

// at locates a problem of alert a (of service svc, nil for a pipeline
// alert) and, when test is set, of one of its tests.
func (v *validator) at(svc *Service, a Alert, test, field, format string, args ...any) FieldError {
	e := FieldError{Pipeline: svc == nil, Alert: a.Name, Test: test, Field: field, Problem: fmt.Sprintf(format, args...)}
	if svc != nil {
		e.Service = svc.Name
	}
	return e
}

func absolute(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.IsAbs() && u.Host != ""
}

func (v *validator) service(s *Service) {
	at := func(field, format string, args ...any) {
		v.add(FieldError{Service: s.Name, Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	switch {
	case !composeNameRE.MatchString(s.Name):
		at("name", "%q is not a compose service name (lower-case letters, digits, '-', '_', '.')", s.Name)
	case s.Name == PipelineGroup:
		at("name", "%q is reserved for the spec's pipeline alerts", s.Name)
	}
	if s.ComposeProject != "" && !composeProjectRE.MatchString(s.ComposeProject) {
		at("compose_project", "%q is not a compose project name (lower-case letters, digits, '-', '_')", s.ComposeProject)
	}
	if s.RunbookURL != "" && !absolute(s.RunbookURL) {
		at("runbook_url", "%q is not an absolute URL", s.RunbookURL)
	}
	if s.EvaluationInterval < 0 {
		at("evaluation_interval", "must not be negative")
	}
	c := s.Container
	if c.Restart != "" && !restartRE.MatchString(c.Restart) {
		at("container.restart", "%q is not a restart policy Docker applies: want no, always, unless-stopped or on-failure[:N] (N restarts in the container's life, never renewed until it is recreated)", c.Restart)
	}
	m := c.Memory
	if m.Limit < 0 || m.Reservation < 0 {
		at("container.memory", "limit and reservation must not be negative")
	}
	if m.Limit == 0 {
		// Lint refuses it too, at the generated rule's line; here it is
		// named where it is fixed.
		for _, a := range s.Alerts {
			if a.Expr != nil && analysis.ReadsMemoryRatio(a.Expr) {
				at("container.memory.limit", "alert %q reads the memory ratio, which needs a limit: set one (the exporter publishes no ratio without it)", a.Name)
			}
		}
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
	rest := *s
	rest.Alerts = nil
	textFields(reflect.ValueOf(rest), "", func(field, problem string) { at(field, "%s", problem) })
	v.alerts(s, s.Alerts)
	v.slos(s)
	v.records(s)
	v.metrics(s)
}

// metrics checks the metrics a service declares: valid names, a type
// Prometheus' exposition formats know, each declared once.
func (v *validator) metrics(s *Service) {
	seen := map[string]bool{}
	for i, m := range s.Metrics {
		at := func(field, format string, args ...any) {
			v.add(FieldError{Service: s.Name, Field: fmt.Sprintf("metrics[%d]%s", i, field), Problem: fmt.Sprintf(format, args...)})
		}
		switch {
		case !model.IsValidLegacyMetricName(m.Name):
			at(".name", "%q is not a metric name", m.Name)
		case seen[m.Name]:
			at(".name", "%q is declared twice", m.Name)
		}
		seen[m.Name] = true
		if !slices.Contains(metricTypes, m.Type) {
			at(".type", "%q is not a metric type: want %s", m.Type, strings.Join(metricTypes, ", "))
		}
	}
}

var metricTypes = []string{"counter", "gauge", "histogram", "summary"}

// records checks a service's recording rules: a valid name and an
// expression that parses back to the same tree.
func (v *validator) records(s *Service) {
	for i, r := range s.Records {
		at := func(field, format string, args ...any) {
			v.add(FieldError{Service: s.Name, Field: fmt.Sprintf("records[%d]%s", i, field), Problem: fmt.Sprintf(format, args...)})
		}
		if !model.IsValidLegacyMetricName(r.Name) {
			at(".name", "%q is not a metric name", r.Name)
		}
		if r.Interval < 0 {
			at(".interval", "record %q: %s is negative", r.Name, r.Interval)
		}
		if r.Expr == nil {
			at(".expr", "missing")
		} else if text, e, err := v.print.parse(r.Expr); err != nil {
			at(".expr", "record %q does not parse: %v", r.Name, err)
		} else if shape(e) != shape(r.Expr) {
			at(".expr", "record %q prints as %q, which Prometheus reads as a different tree", r.Name, text)
		}
		for j, t := range r.Tests {
			if t.Name == "" || len(t.Queries) == 0 {
				at(fmt.Sprintf(".tests[%d]", j), "record %q: a test needs a name and at least one query", r.Name)
			}
			for k, q := range t.Queries {
				if _, err := parser.NewParser(parser.Options{}).ParseExpr(q.Expr); err != nil {
					at(fmt.Sprintf(".tests[%d].queries[%d].expr", j, k), "record %q: %v", r.Name, err)
				}
			}
		}
	}
}

func (v *validator) alert(s *Service, a Alert) {
	at := func(field, format string, args ...any) {
		v.add(v.at(s, a, "", field, format, args...))
	}
	textFields(reflect.ValueOf(a), "", func(field, problem string) { at(field, "%s", problem) })
	if !conventions.AlertName.MatchString(a.Name) {
		at("name", "%q is not CamelCase (%s)", a.Name, conventions.AlertNamePattern)
	}
	if a.Expr == nil {
		at("expr", "missing")
	} else if text, e, err := v.print.parse(a.Expr); err != nil {
		at("expr", "does not parse: %v", err)
	} else if t := e.Type(); t != parser.ValueTypeVector {
		at("expr", "must evaluate to an instant vector, not %s", t)
	} else if shape(e) != shape(a.Expr) {
		// The AST printer omits parentheses the tree implies; build operands
		// with Paren or the spec builders so the text means the tree.
		at("expr", "prints as %q, which Prometheus reads as a different tree; add parentheses with Paren", text)
	}
	if a.For < 0 {
		at("for", "must not be negative")
	}
	if a.KeepFiringFor < 0 {
		at("keep_firing_for", "must not be negative")
	}
	if !a.Severity.Valid() {
		at("severity", "%q is not one of %s", a.Severity, strings.Join(conventions.SeverityNames(), ", "))
	}
	for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
		val := a.Labels[k]
		switch {
		case slices.Contains(conventions.ReservedLabels, k):
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
	for _, k := range slices.Sorted(maps.Keys(a.Annotations)) {
		switch {
		case setByPromgen(k):
			at("annotations."+k, "is set by promgen")
		case !model.LabelName(k).IsValid():
			at("annotations."+k, "is not a valid annotation name")
		case strings.TrimSpace(a.Annotations[k]) == "":
			at("annotations."+k, "missing")
		}
	}
	if rb := v.spec.Runbook(s, a); rb == "" {
		at("runbook_url", "missing: set it on the alert, its service or the spec")
	} else if a.RunbookURL != "" && !absolute(rb) {
		// An inherited URL is reported once, where it is written.
		at("runbook_url", "%q is not an absolute URL", rb)
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
	// The Watchdog always fires: it has no quiet scenario to prove.
	if !fires || !quiet && a.Name != conventions.AlertWatchdog {
		at("tests", "need at least one expectation that the alert fires and one that it does not")
	}
}

func (v *validator) test(s *Service, a Alert, t Test) {
	at := func(field, format string, args ...any) {
		v.add(v.at(s, a, t.Name, field, format, args...))
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
		// promtool compares every annotation: a firing must render each.
		for j, f := range e.Firing {
			for _, k := range slices.Sorted(maps.Keys(a.Annotations)) {
				if _, ok := f.Annotations[k]; !ok && !setByPromgen(k) {
					at(fmt.Sprintf("expect[%d].firing[%d].annotations.%s", i, j, k), "missing: the alert renders it")
				}
			}
			for _, k := range slices.Sorted(maps.Keys(f.Annotations)) {
				if _, ok := a.Annotations[k]; !ok {
					at(fmt.Sprintf("expect[%d].firing[%d].annotations.%s", i, j, k), "the alert has no such annotation")
				}
			}
		}
	}
}

// setByPromgen tells the annotations promgen writes on every alert.
func setByPromgen(annotation string) bool {
	return slices.Contains(conventions.RequiredAnnotations, annotation) || annotation == conventions.AnnotationDashboardURL
}

// shape describes a tree's structure, node by node in walk order with depth
// and operator, to tell whether printing and re-parsing kept it. A nil node
// closes its parent's children. It writes what fmt's "%d:%T" would, without
// fmt: every alert and record of a spec is described twice.
func shape(e parser.Expr) string {
	var b strings.Builder
	parser.Inspect(e, func(n parser.Node, path []parser.Node) error {
		b.WriteString(strconv.Itoa(len(path)))
		b.WriteByte(':')
		if n == nil {
			b.WriteString("<nil>")
		} else {
			b.WriteString(reflect.TypeOf(n).String())
		}
		switch n := n.(type) {
		case *parser.BinaryExpr:
			b.WriteByte(':')
			b.WriteString(n.Op.String())
		case *parser.AggregateExpr:
			b.WriteByte(':')
			b.WriteString(n.Op.String())
		}
		b.WriteByte(' ')
		return nil
	})
	return b.String()
}
