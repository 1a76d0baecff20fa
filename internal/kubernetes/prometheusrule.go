// Package kubernetes writes the Kubernetes target's manifests from
// upstream types: a PrometheusRule per service from the Prometheus
// Operator's Go types, and a strategic-merge patch of its Deployment from
// k8s.io/api's. Each is checked in-process by Kubernetes' own code: the
// PrometheusRule against the Operator's CRD schema with apiextensions'
// validator and pruning, its rules as the Operator's admission webhook
// checks them, and the patch decoded strictly back into k8s.io/api types.
package kubernetes

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// OperatorCRDVersion is the Prometheus Operator release whose
// PrometheusRule CRD (crd/monitoring.coreos.com_prometheusrules.yaml, copied
// from its module's example/prometheus-operator-crd/) the manifests are
// validated against: the newest release of the operator's main module the
// Go module proxy serves. The Go types are from its pkg/apis/monitoring
// module (see go.mod).
const OperatorCRDVersion = "v0.94.0"

//go:embed crd/monitoring.coreos.com_prometheusrules.yaml
var prometheusRuleCRD []byte

// PrometheusRule wraps a service's rule groups in the Operator's
// PrometheusRule, named after the service.
func PrometheusRule(name, namespace string, labels map[string]string, groups rulefmt.RuleGroups) monitoringv1.PrometheusRule {
	pr := monitoringv1.PrometheusRule{
		TypeMeta:   metav1.TypeMeta{APIVersion: monitoringv1.SchemeGroupVersion.String(), Kind: monitoringv1.PrometheusRuleKind},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: labels},
	}
	for _, g := range groups.Groups {
		rg := monitoringv1.RuleGroup{Name: g.Name, Labels: g.Labels}
		if g.Interval != 0 {
			d := monitoringv1.Duration(g.Interval.String())
			rg.Interval = &d
		}
		for _, r := range g.Rules {
			rule := monitoringv1.Rule{Record: r.Record, Alert: r.Alert, Expr: intstr.FromString(r.Expr), Labels: r.Labels, Annotations: r.Annotations}
			if r.For != 0 {
				d := monitoringv1.Duration(r.For.String())
				rule.For = &d
			}
			if r.KeepFiringFor != 0 {
				d := monitoringv1.NonEmptyDuration(r.KeepFiringFor.String())
				rule.KeepFiringFor = &d
			}
			rg.Rules = append(rg.Rules, rule)
		}
		pr.Spec.Groups = append(pr.Spec.Groups, rg)
	}
	return pr
}

// Marshal writes a Kubernetes object as YAML the way kubectl reads it:
// through its JSON form, keys sorted, so the output is deterministic.
func Marshal(obj any) ([]byte, error) {
	return yaml.Marshal(obj)
}

// ValidatePrometheusRule checks a rendered PrometheusRule manifest as the
// cluster would: it decodes strictly into the Operator's type, passes the
// CRD's OpenAPI schema (apiextensions' validator, as the API server runs
// it) with no field the schema would prune, and its rules pass the checks
// of the Operator's admission webhook. Problems are prefixed with path.
func ValidatePrometheusRule(path string, content []byte) error {
	var errs []string
	var pr monitoringv1.PrometheusRule
	if err := yaml.UnmarshalStrict(content, &pr); err != nil {
		return fmt.Errorf("%s: does not decode strictly into the Operator's PrometheusRule: %w", path, err)
	}
	if pr.APIVersion != monitoringv1.SchemeGroupVersion.String() || pr.Kind != monitoringv1.PrometheusRuleKind {
		errs = append(errs, fmt.Sprintf("apiVersion/kind %s/%s is not %s/%s", pr.APIVersion, pr.Kind, monitoringv1.SchemeGroupVersion, monitoringv1.PrometheusRuleKind))
	}
	errs = append(errs, schemaProblems(content)...)
	for _, err := range ValidateRules(pr.Spec) {
		errs = append(errs, "rules: "+err.Error())
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s: the PrometheusRule is invalid: %s", path, strings.Join(errs, "; "))
}

// RuleFile is the rule file the Operator hands rulefmt for a
// PrometheusRule's spec: its groups without Thanos'
// partial_response_strategy, marshalled to YAML.
func RuleFile(s monitoringv1.PrometheusRuleSpec) ([]byte, error) {
	for i := range s.Groups {
		s.Groups[i].PartialResponseStrategy = ""
	}
	return yaml.Marshal(s)
}

// ValidateRules checks a PrometheusRule's groups the way the Operator's
// admission webhook does (operator.ValidateRule in its pkg/operator): the
// spec marshalled to YAML and parsed with Prometheus' rulefmt. That
// package cannot be imported here (it needs the operator's pkg/client
// module, which the Go module proxy does not serve), so its steps are
// restated; the parsing is Prometheus' own.
func ValidateRules(s monitoringv1.PrometheusRuleSpec) []error {
	content, err := RuleFile(s)
	if err != nil {
		return []error{fmt.Errorf("marshal: %w", err)}
	}
	_, errs := rulefmt.Parse(content, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	return errs
}

// crdSchema is the PrometheusRule CRD's v1 schema, as the API server holds
// it: a validator and the structural schema pruning reads.
var crdSchema = sync.OnceValues(func() (*schemaCheck, error) {
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(prometheusRuleCRD, &crd); err != nil {
		return nil, fmt.Errorf("the embedded PrometheusRule CRD: %w", err)
	}
	for _, v := range crd.Spec.Versions {
		if v.Name != monitoringv1.Version || v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
			continue
		}
		var internal apiextensions.JSONSchemaProps
		if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, &internal, nil); err != nil {
			return nil, err
		}
		validator, _, err := apiservervalidation.NewSchemaValidator(&internal)
		if err != nil {
			return nil, err
		}
		structural, err := structuralschema.NewStructural(&internal)
		if err != nil {
			return nil, err
		}
		return &schemaCheck{validator: validator, structural: structural}, nil
	}
	return nil, fmt.Errorf("the embedded PrometheusRule CRD has no %s schema", monitoringv1.Version)
})

type schemaCheck struct {
	validator  apiservervalidation.SchemaValidator
	structural *structuralschema.Structural
}

// schemaProblems validates a manifest against the CRD's schema and lists
// the fields the API server would prune (unknown to the schema) as
// problems, as kubectl's strict field validation does.
func schemaProblems(content []byte) []string {
	sc, err := crdSchema()
	if err != nil {
		return []string{err.Error()}
	}
	js, err := yaml.YAMLToJSON(content)
	if err != nil {
		return []string{err.Error()}
	}
	var obj map[string]any
	if err := json.Unmarshal(js, &obj); err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, e := range apiservervalidation.ValidateCustomResource(nil, obj, sc.validator) {
		out = append(out, "CRD schema: "+e.Error())
	}
	unknown := pruning.PruneWithOptions(obj, sc.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	sort.Strings(unknown)
	for _, f := range unknown {
		// metadata is checked by the API server's own ObjectMeta validation.
		if !strings.HasPrefix(f, "metadata.") {
			out = append(out, fmt.Sprintf("CRD schema: unknown field %q", f))
		}
	}
	return out
}
