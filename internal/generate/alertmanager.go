package generate

import (
	"errors"
	"path"

	"github.com/sre-tools/promgen/internal/alertmanager"
)

// renderAlertmanager writes a target's Alertmanager configuration and its
// routing cases, when the spec routes its alerts: each read back from its
// bytes as the values it was written from, the configuration checked by
// Alertmanager's own loader, and its inhibitions against the alerts'
// labels.
func renderAlertmanager(t Target) (Files, error) {
	if !t.Spec.Routing.Configured() {
		return nil, nil
	}
	cfgPath := path.Join(t.Dir, "alertmanager", "alertmanager.yml")
	cfg, err := marshalRead(cfgPath, alertmanager.Config(t.Spec))
	if err != nil {
		return nil, err
	}
	if err := alertmanager.Validate(cfgPath, cfg); err != nil {
		return nil, err
	}
	if errs := alertmanager.CheckInhibitions(t.Spec); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	cases, err := marshalRead(path.Join(t.Dir, "alertmanager", "routes.yml"), alertmanager.Cases(t.Spec))
	if err != nil {
		return nil, err
	}
	return Files{cfgPath: cfg, path.Join(t.Dir, "alertmanager", "routes.yml"): cases}, nil
}
