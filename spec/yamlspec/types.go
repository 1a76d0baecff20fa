package yamlspec

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/invopop/jsonschema"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"go.yaml.in/yaml/v3"

	"github.com/sre-tools/promgen/internal/rulecheck"
	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
)

// nodeError is a problem of one node, as a TypeError so that the decoder
// collects it with the others instead of stopping; decode reads the line
// and column back.
func nodeError(n *yaml.Node, format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d, column %d: ", n.Line, n.Column) + fmt.Sprintf(format, args...)}}
}

// scalar decodes a node that must be a plain string.
func scalar(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", nodeError(n, "%s must be a string", what)
	}
	return n.Value, nil
}

// Duration is a time.Duration written as Prometheus writes one: 30s, 5m,
// 1h30m, 30d.
type Duration time.Duration

// UnmarshalYAML parses the duration with Prometheus' own parser.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	s, err := scalar(n, "a duration")
	if err != nil {
		return err
	}
	v, err := model.ParseDuration(s)
	if err != nil {
		return nodeError(n, "%q is not a duration (30s, 5m, 1h30m, 30d): %v", s, err)
	}
	*d = Duration(v)
	return nil
}

// JSONSchema describes a duration for editors.
func (Duration) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "string", Pattern: durationPattern, Description: "a Prometheus duration: 30s, 5m, 1h30m, 30d"}
}

// durationPattern is the shape model.ParseDuration accepts.
const durationPattern = `^((([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?|0)$`

// Bytes is a size: a number of bytes, or a number of KiB, MiB or GiB
// (256MiB, 4GiB).
type Bytes spec.Bytes

var bytesRE = regexp.MustCompile(`^([0-9]+)(KiB|MiB|GiB)?$`)

// UnmarshalYAML parses a size.
func (b *Bytes) UnmarshalYAML(n *yaml.Node) error {
	s, err := scalar(n, "a size")
	if err != nil {
		return err
	}
	m := bytesRE.FindStringSubmatch(s)
	if m == nil {
		return nodeError(n, "%q is not a size: a number of bytes, KiB, MiB or GiB, e.g. 4GiB", s)
	}
	v, err := strconv.ParseInt(m[1], 10, 64)
	unit := map[string]spec.Bytes{"": 1, "KiB": spec.KiB, "MiB": spec.MiB, "GiB": spec.GiB}[m[2]]
	if err != nil || v > int64(1<<62)/int64(unit) {
		return nodeError(n, "%q is too large a size", s)
	}
	*b = Bytes(spec.Bytes(v) * unit)
	return nil
}

// JSONSchema describes a size for editors.
func (Bytes) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Description: "a size: bytes, or KiB, MiB, GiB, e.g. 4GiB", OneOf: []*jsonschema.Schema{
		{Type: "integer", Minimum: "0"},
		{Type: "string", Pattern: bytesRE.String()},
	}}
}

// Matchers are PromQL label matchers, written as a selector's braces:
// {status=~"5.."}.
type Matchers []*labels.Matcher

// UnmarshalYAML parses the matchers with the PromQL parser.
func (m *Matchers) UnmarshalYAML(n *yaml.Node) error {
	s, err := scalar(n, "label matchers")
	if err != nil {
		return err
	}
	if !strings.HasPrefix(strings.TrimSpace(s), "{") {
		return nodeError(n, "%q: write the matchers in braces, e.g. {status=~\"5..\"}", s)
	}
	ms, err := rulecheck.Parser.ParseMetricSelector(s)
	if err != nil {
		return nodeError(n, "%q: %v", s, err)
	}
	*m = ms
	return nil
}

// JSONSchema describes matchers for editors.
func (Matchers) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "string", Pattern: `^\s*\{.*\}\s*$`, Description: `PromQL label matchers in braces, e.g. {status=~"5.."}`}
}

// name is an alert name of a registry, where it was written.
type name struct {
	Name         string
	Line, Column int
}

func (a *name) decode(n *yaml.Node, what string, known []string) error {
	s, err := scalar(n, what)
	if err != nil {
		return err
	}
	if !slices.Contains(known, s) {
		return nodeError(n, "%s %q is not one of the runbook's: %s", what, s, strings.Join(known, ", "))
	}
	*a = name{Name: s, Line: n.Line, Column: n.Column}
	return nil
}

func enum(description string, known []string) *jsonschema.Schema {
	s := &jsonschema.Schema{Type: "string", Description: description}
	for _, k := range known {
		s.Enum = append(s.Enum, k)
	}
	return s
}

// Alert names one of the runbook's per-service alerts (rules.Alerts).
type Alert struct{ name }

// UnmarshalYAML looks the name up in rules.Alerts.
func (a *Alert) UnmarshalYAML(n *yaml.Node) error {
	return a.decode(n, "alert", rules.Names(rules.Alerts))
}

// JSONSchema lists the names for editors.
func (Alert) JSONSchema() *jsonschema.Schema {
	return enum("one of the runbook's per-service alerts", rules.Names(rules.Alerts))
}

// PipelineAlert names one of the runbook's pipeline alerts (rules.PipelineAlerts).
type PipelineAlert struct{ name }

// UnmarshalYAML looks the name up in rules.PipelineAlerts.
func (a *PipelineAlert) UnmarshalYAML(n *yaml.Node) error {
	return a.decode(n, "pipeline alert", rules.Names(rules.PipelineAlerts))
}

// JSONSchema lists the names for editors.
func (PipelineAlert) JSONSchema() *jsonschema.Schema {
	return enum("one of the runbook's pipeline alerts", rules.Names(rules.PipelineAlerts))
}

// KubernetesAlert names one of the runbook's alerts on Kubernetes
// (rules.KubernetesAlerts).
type KubernetesAlert struct{ name }

// UnmarshalYAML looks the name up in rules.KubernetesAlerts.
func (a *KubernetesAlert) UnmarshalYAML(n *yaml.Node) error {
	return a.decode(n, "Kubernetes alert", rules.KubernetesAlerts)
}

// JSONSchema lists the names for editors.
func (KubernetesAlert) JSONSchema() *jsonschema.Schema {
	return enum("one of the runbook's alerts on Kubernetes", rules.KubernetesAlerts)
}
