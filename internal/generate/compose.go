package generate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/sre-tools/promgen/spec"
)

// composeFragment is a compose override file: only the services it changes.
type composeFragment struct {
	Services map[string]types.ServiceConfig `yaml:"services"`
}

// composeService turns a service's container policy into compose-go's own
// service type, so the fragment is what docker compose itself would write.
func composeService(svc spec.Service) types.ServiceConfig {
	c := svc.Container
	out := types.ServiceConfig{Restart: c.Restart}
	var deploy types.DeployConfig
	if rp := c.RestartPolicy; rp != (spec.RestartPolicy{}) {
		deploy.RestartPolicy = &types.RestartPolicy{
			Condition:   rp.Condition,
			Delay:       duration(rp.Delay),
			MaxAttempts: &rp.MaxAttempts,
			Window:      duration(rp.Window),
		}
	}
	if m := c.Memory; m.Limit > 0 {
		deploy.Resources.Limits = &types.Resource{MemoryBytes: types.UnitBytes(m.Limit)}
	}
	if m := c.Memory; m.Reservation > 0 {
		deploy.Resources.Reservations = &types.Resource{MemoryBytes: types.UnitBytes(m.Reservation)}
	}
	if deploy.RestartPolicy != nil || deploy.Resources.Limits != nil || deploy.Resources.Reservations != nil {
		out.Deploy = &deploy
	}
	if hc := c.Healthcheck; len(hc.Test) > 0 {
		retries := hc.Retries
		out.HealthCheck = &types.HealthCheckConfig{
			Test:        types.HealthCheckTest(hc.Test),
			Interval:    duration(hc.Interval),
			Timeout:     duration(hc.Timeout),
			Retries:     &retries,
			StartPeriod: duration(hc.StartPeriod),
		}
	}
	return out
}

func duration(d time.Duration) *types.Duration {
	if d == 0 {
		return nil
	}
	cd := types.Duration(d)
	return &cd
}

// validateCompose loads the fragment over the base compose file with
// compose-go, the loader docker compose uses, and checks the merged project
// carries the policy: a fragment for a service the base file lacks, or one
// compose would read differently, is an error.
func validateCompose(ctx context.Context, basePath, fragPath string, frag []byte, svc spec.Service) error {
	base, err := os.ReadFile(basePath)
	if err != nil {
		return fmt.Errorf("compose base file: %w", err)
	}
	dir, err := filepath.Abs(filepath.Dir(basePath))
	if err != nil {
		return err
	}
	load := func(files ...types.ConfigFile) (*types.Project, error) {
		return loader.LoadWithContext(ctx, types.ConfigDetails{WorkingDir: dir, ConfigFiles: files, Environment: types.Mapping{}},
			func(o *loader.Options) {
				o.SetProjectName("promgen", true)
				o.SkipResolveEnvironment = true
				o.ResolvePaths = false
			})
	}
	baseFile := types.ConfigFile{Filename: basePath, Content: base}
	baseProject, err := load(baseFile)
	if err != nil {
		return fmt.Errorf("%s: compose-go: %w", basePath, err)
	}
	if _, ok := baseProject.Services[svc.Name]; !ok {
		return fmt.Errorf("%s: service %q is not defined in %s, so the fragment would define it alone", fragPath, svc.Name, basePath)
	}
	project, err := load(baseFile, types.ConfigFile{Filename: fragPath, Content: frag})
	if err != nil {
		return fmt.Errorf("%s over %s: compose-go: %w", fragPath, basePath, err)
	}
	got := project.Services[svc.Name]
	want := composeService(svc)
	if got.Restart != want.Restart {
		return fmt.Errorf("%s: service %q: merged restart is %q, want %q", fragPath, svc.Name, got.Restart, want.Restart)
	}
	if want.Deploy != nil && want.Deploy.Resources.Limits != nil {
		if got.Deploy == nil || got.Deploy.Resources.Limits == nil || got.Deploy.Resources.Limits.MemoryBytes != want.Deploy.Resources.Limits.MemoryBytes {
			return fmt.Errorf("%s: service %q: merged memory limit differs from the spec's %d bytes", fragPath, svc.Name, want.Deploy.Resources.Limits.MemoryBytes)
		}
	}
	if want.HealthCheck != nil && (got.HealthCheck == nil || fmt.Sprint(got.HealthCheck.Test) != fmt.Sprint(want.HealthCheck.Test)) {
		return fmt.Errorf("%s: service %q: merged healthcheck differs from the spec's %v", fragPath, svc.Name, want.HealthCheck.Test)
	}
	return nil
}
