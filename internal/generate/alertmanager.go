package generate

import (
	"errors"
	"fmt"
	"path"

	"github.com/sre-tools/promgen/internal/alertmanager"
)

// renderAlertmanager writes a target's Alertmanager configuration, its
// notification templates and its routing cases, when the spec routes its
// alerts: each YAML file read back from its bytes as the values it was
// written from, the configuration checked by Alertmanager's own loader,
// every receiver's templates rendered by its own template package, and its
// inhibitions against the alerts' labels.
func renderAlertmanager(t Target) (Files, error) {
	if !t.Spec.Routing.Configured() {
		return nil, nil
	}
	cfgPath := path.Join(t.Dir, "alertmanager", "alertmanager.yml")
	file := alertmanager.Config(t.Spec)
	cfg, err := marshalRead(cfgPath, file)
	if err != nil {
		return nil, err
	}
	if err := alertmanager.Validate(cfgPath, cfg); err != nil {
		return nil, err
	}
	tmplPath := path.Join(t.Dir, "alertmanager", alertmanager.TemplateFile)
	tmpl := alertmanager.Templates(t.Spec)
	if err := alertmanager.CheckTemplates(t.Spec, file, tmpl); err != nil {
		return nil, fmt.Errorf("%s: %w", tmplPath, err)
	}
	if errs := alertmanager.CheckInhibitions(t.Spec); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	cases, err := marshalRead(path.Join(t.Dir, "alertmanager", "routes.yml"), alertmanager.Cases(t.Spec))
	if err != nil {
		return nil, err
	}
	return Files{cfgPath: cfg, tmplPath: tmpl, path.Join(t.Dir, "alertmanager", "routes.yml"): cases}, nil
}
