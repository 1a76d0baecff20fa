package alertmanager

import (
	"fmt"
	"slices"

	"github.com/sre-tools/promgen/conventions"
	"github.com/sre-tools/promgen/spec"
)

// CheckInhibitions reports inhibitions that never mute an alert they name:
// a firing of a target alert that no firing of the source alert can match,
// because one of the equal labels is carried by one side and not the
// other. What an alert carries is read off its own proven scenarios (the
// labels its promtool tests expect when it fires) plus the labels promgen
// adds, so this checks the Alertmanager configuration against the rule
// files. Alertmanager compares an absent label as empty, so a label that
// neither side carries is equal: one inhibition can key on the Docker
// target's container identity (name, host) and the Kubernetes target's
// (name, namespace). Each platform is checked on its own, and a platform
// without the source alert has nothing to check.
func CheckInhibitions(s spec.Spec) []error {
	type firing struct {
		svc  *spec.Service
		name string
		test string
		have map[string]string
	}
	var errs []error
	for i, in := range s.Routing.Inhibitions {
		var sources, targets [2][]firing // by platform: Docker, Kubernetes
		each(s, func(svc *spec.Service, a spec.Alert, kube bool) {
			isSource, isTarget := a.Name == in.Source, slices.Contains(in.Targets, a.Name)
			if !isSource && !isTarget {
				return
			}
			k := 0
			if kube {
				k = 1
			}
			for _, t := range a.Tests {
				for _, e := range t.Expect {
					for _, f := range e.Firing {
						fi := firing{svc, a.Name, t.Name, carried(svc, a, f)}
						if isSource {
							sources[k] = append(sources[k], fi)
						}
						if isTarget {
							targets[k] = append(targets[k], fi)
						}
					}
				}
			}
		})
		compatible := func(a, b map[string]string) bool {
			for _, l := range in.Equal {
				_, inA := a[l]
				_, inB := b[l]
				if inA != inB {
					return false
				}
			}
			return true
		}
		for k := range targets {
			if len(sources[k]) == 0 {
				continue
			}
		next:
			for _, t := range targets[k] {
				for _, src := range sources[k] {
					if compatible(src.have, t.have) {
						continue next
					}
				}
				missing := ""
				for _, l := range in.Equal {
					if _, ok := t.have[l]; ok != hasAny(sources[k], l, func(f firing) map[string]string { return f.have }) {
						missing = l
						break
					}
				}
				errs = append(errs, fmt.Errorf("routing.inhibitions[%d] (%s mutes %v): equal label %q is carried by one side only when alert %q%s fires in test %q, so the inhibition never mutes it",
					i, in.Source, in.Targets, missing, t.name, of(t.svc), t.test))
				break
			}
		}
	}
	return errs
}

// hasAny reports whether any of fs carries label l.
func hasAny[F any](fs []F, l string, labels func(F) map[string]string) bool {
	for _, f := range fs {
		if _, ok := labels(f)[l]; ok {
			return true
		}
	}
	return false
}

// carried are the labels alert a carries when it fires as f.
func carried(svc *spec.Service, a spec.Alert, f spec.Firing) map[string]string {
	out := map[string]string{conventions.LabelAlertname: a.Name, conventions.LabelSeverity: string(a.Severity)}
	if svc != nil {
		out[conventions.LabelService] = svc.Name
	}
	for k, v := range a.Labels {
		out[k] = v
	}
	for k, v := range f.Labels {
		out[k] = v
	}
	return out
}

// each calls fn with every alert of s, saying whether it is of the
// Kubernetes target. The pipeline alerts watch the Docker target's
// exporter.
func each(s spec.Spec, fn func(svc *spec.Service, a spec.Alert, kube bool)) {
	for i := range s.Services {
		for _, a := range s.Services[i].Alerts {
			fn(&s.Services[i], a, false)
		}
		for _, a := range s.Services[i].KubernetesAlerts(s) {
			fn(&s.Services[i], a, true)
		}
	}
	for _, a := range s.Pipeline {
		fn(nil, a, false)
	}
}

func of(svc *spec.Service) string {
	if svc == nil {
		return " (pipeline)"
	}
	return fmt.Sprintf(" of service %q", svc.Name)
}
