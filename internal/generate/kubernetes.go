package generate

import (
	"errors"
	"fmt"
	"path"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/sre-tools/promgen/internal/kubernetes"
	"github.com/sre-tools/promgen/internal/rulecheck"
	"github.com/sre-tools/promgen/spec"
)

// renderKubernetes writes a target's Kubernetes files, when the spec asks
// for them, under kubernetes/: per service a PrometheusRule from the
// Operator's types (prometheusrules/), the same group as a plain rule file
// (rules/) with its promtool tests (tests/), so promtool proves what the
// Operator loads, and a strategic-merge patch of its Deployment
// (deployments/); and a kustomize Component that applies them all. Each
// manifest is checked by Kubernetes' and the Operator's own code.
func renderKubernetes(t Target, rc *rulecheck.Checker, pr *spec.Printer) (Files, error) {
	k := t.Spec.Kubernetes
	if k == nil {
		return nil, nil
	}
	dir := path.Join(t.Dir, "kubernetes")
	files := Files{}
	var errs []error
	var comp component
	// The Kubernetes groups hold only the Kubernetes alerts and records
	// (the Docker target's records read series only Docker hosts have),
	// and no dashboard links (the dashboards show the Docker target's
	// series).
	ks := t.Spec
	ks.GrafanaURL = ""
	for i := range t.Spec.Services {
		svc := t.Spec.Services[i]
		if svc.Kubernetes.Omit {
			continue
		}
		svc.Records = svc.Kubernetes.Records
		w := k.Workload(svc)
		g := group{name: svc.Name, interval: svc.EvaluationInterval, svc: &svc, alerts: svc.Kubernetes.Alerts}
		rg := ruleGroups(ks, g, pr)

		rulePath := path.Join(dir, "rules", svc.Name+".rules.yml")
		rules, err := marshal(rg)
		if err == nil {
			err = checkRules(rc, rulePath, rg, rules)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		testPath := path.Join(dir, "tests", svc.Name+".test.yml")
		tests, err := marshalTests(testPath, unitTests(ks, g, "../rules/"+svc.Name+".rules.yml"))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		files[rulePath] = rules
		files[testPath] = tests

		prPath := path.Join(dir, "prometheusrules", svc.Name+".yaml")
		obj := kubernetes.PrometheusRule(svc.Name, w.Namespace, k.RuleLabels, rg)
		pr, err := kubernetes.Marshal(obj)
		if err != nil {
			err = fmt.Errorf("%s: %w", prPath, err)
		} else {
			err = kubernetes.ValidatePrometheusRule(prPath, pr)
		}
		if err == nil {
			err = readBack(prPath, obj, pr, strictlyK8s[monitoringv1.PrometheusRule])
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		files[prPath] = append([]byte(Header), pr...)

		patchPath := path.Join(dir, "deployments", svc.Name+".yaml")
		d, err := kubernetes.DeploymentPatch(w, svc.Container)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		patch, err := kubernetes.MarshalPatch(d)
		if err == nil {
			err = kubernetes.ValidatePatch(patchPath, patch, d)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", patchPath, err))
			continue
		}
		files[patchPath] = append([]byte(Header), patch...)
		comp.Resources = append(comp.Resources, path.Join("prometheusrules", svc.Name+".yaml"))
		comp.Patches = append(comp.Patches, componentPatch{Path: path.Join("deployments", svc.Name+".yaml")})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	comp.APIVersion, comp.Kind = "kustomize.config.k8s.io/v1alpha1", "Component"
	compPath := path.Join(dir, "kustomization.yaml")
	b, err := kubernetes.Marshal(comp)
	if err == nil {
		err = readBack(compPath, comp, b, strictlyK8s[component])
	}
	if err != nil {
		return nil, err
	}
	files[compPath] = append([]byte(Header), b...)
	return files, nil
}

// strictlyK8s decodes a manifest as kubectl and the API server read it:
// YAML into JSON, strictly, into the Kubernetes or Operator type.
func strictlyK8s[T any](content []byte) (T, error) {
	var v T
	if err := sigsyaml.UnmarshalStrict(content, &v); err != nil {
		return v, fmt.Errorf("does not read back: %w", err)
	}
	return v, nil
}

// component is the part of a kustomize Component the Kubernetes target
// writes: a team's kustomization lists the folder under components, and
// kustomize adds the PrometheusRules and patches its Deployments.
type component struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Resources  []string         `json:"resources,omitempty"`
	Patches    []componentPatch `json:"patches,omitempty"`
}

type componentPatch struct {
	Path string `json:"path"`
}
