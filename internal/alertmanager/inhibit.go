package alertmanager

import (
	"fmt"
	"slices"

	"github.com/sre-tools/promgen/conventions"
	"github.com/sre-tools/promgen/spec"
)

// CheckInhibitions reports inhibitions that can never match: an equal label
// that the source or a target alert does not carry. What an alert carries
// is read off its own proven scenarios (the labels its promtool tests
// expect when it fires) plus the labels promgen adds, so this checks the
// Alertmanager configuration against the rule files.
func CheckInhibitions(s spec.Spec) []error {
	var errs []error
	for i, in := range s.Routing.Inhibitions {
		names := append([]string{in.Source}, in.Targets...)
		each(s, func(svc *spec.Service, a spec.Alert) {
			if !slices.Contains(names, a.Name) {
				return
			}
			for _, t := range a.Tests {
				for _, e := range t.Expect {
					for _, f := range e.Firing {
						have := carried(svc, a, f)
						for _, l := range in.Equal {
							if _, ok := have[l]; !ok {
								errs = append(errs, fmt.Errorf("routing.inhibitions[%d] (%s mutes %v): equal label %q is not on alert %q%s when it fires in test %q, so the inhibition never matches it",
									i, in.Source, in.Targets, l, a.Name, of(svc), t.Name))
								return
							}
						}
					}
				}
			}
		})
	}
	return errs
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

func each(s spec.Spec, fn func(svc *spec.Service, a spec.Alert)) {
	for i := range s.Services {
		for _, a := range s.Services[i].Alerts {
			fn(&s.Services[i], a)
		}
		for _, a := range s.Services[i].KubernetesAlerts(s) {
			fn(&s.Services[i], a)
		}
	}
	for _, a := range s.Pipeline {
		fn(nil, a)
	}
}

func of(svc *spec.Service) string {
	if svc == nil {
		return " (pipeline)"
	}
	return fmt.Sprintf(" of service %q", svc.Name)
}
