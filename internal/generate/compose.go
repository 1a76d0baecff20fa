package generate

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
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
	if c.Replicas > 0 {
		n := int(c.Replicas)
		deploy.Replicas = &n
	}
	if deploy.RestartPolicy != nil || deploy.Resources.Limits != nil || deploy.Resources.Reservations != nil || deploy.Replicas != nil {
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

// fragment is one service's compose override file.
type fragment struct {
	path    string
	service string
	config  types.ServiceConfig
}

func newFragment(dir string, svc spec.Service) fragment {
	return fragment{path: path.Join(dir, "compose", svc.Name+".compose.yml"), service: svc.Name, config: composeService(svc)}
}

// render is the fragment's file.
func (f fragment) render() ([]byte, error) {
	return marshal(composeFragment{Services: map[string]types.ServiceConfig{f.service: f.config}})
}

// validateCompose loads the fragments over the base compose file with
// compose-go, the loader docker compose uses, and checks the merged project
// carries each service's policy: a fragment for a service the base file
// lacks, or one compose would read differently, is an error.
//
// The fragments touch disjoint services, so loading the base with many of
// them at once is what `docker compose -f base -f frag...` does. They are
// loaded in one load per core, each over the whole base file: linear in
// the number of services, where a load per fragment made a build
// quadratic. Only when a load fails is the base loaded alone, to name a
// service it lacks (a fragment sets no image, so such a service fails its
// load), and then each fragment of the failed load alone, to name the one
// at fault.
func validateCompose(ctx context.Context, basePath string, frags []fragment) []error {
	base, err := os.ReadFile(basePath)
	if err != nil {
		return []error{fmt.Errorf("compose base file: %w", err)}
	}
	dir, err := filepath.Abs(filepath.Dir(basePath))
	if err != nil {
		return []error{err}
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
	if len(frags) == 0 {
		if _, err := load(baseFile); err != nil {
			return []error{fmt.Errorf("%s: compose-go: %w", basePath, err)}
		}
		return nil
	}
	chunks := slices.Collect(slices.Chunk(frags, max(1, (len(frags)+runtime.GOMAXPROCS(0)-1)/runtime.GOMAXPROCS(0))))
	projects := make([]*types.Project, len(chunks))
	loadErrs := make([]error, len(chunks))
	var wg sync.WaitGroup
	for i, chunk := range chunks {
		wg.Go(func() { projects[i], loadErrs[i] = loadFragments(load, baseFile, chunk) })
	}
	wg.Wait()
	var errs []error
	if slices.ContainsFunc(loadErrs, func(err error) bool { return err != nil }) {
		baseProject, err := load(baseFile)
		if err != nil {
			return []error{fmt.Errorf("%s: compose-go: %w", basePath, err)}
		}
		for _, f := range frags {
			if _, ok := baseProject.Services[f.service]; !ok {
				errs = append(errs, fmt.Errorf("%s: service %q is not defined in %s, so the fragment would define it alone", f.path, f.service, basePath))
			}
		}
		if len(errs) > 0 {
			return errs
		}
	}
	for i, chunk := range chunks {
		if loadErrs[i] != nil {
			errs = append(errs, faultyFragments(load, baseFile, chunk, loadErrs[i])...)
			continue
		}
		for _, f := range chunk {
			if err := sameService(projects[i].Services[f.service], f.config); err != nil {
				errs = append(errs, fmt.Errorf("%s: service %q: %w", f.path, f.service, err))
			}
		}
	}
	return errs
}

// loadFragments loads frags together over the base file.
func loadFragments(load func(...types.ConfigFile) (*types.Project, error), baseFile types.ConfigFile, frags []fragment) (*types.Project, error) {
	all := composeFragment{Services: map[string]types.ServiceConfig{}}
	for _, f := range frags {
		all.Services[f.service] = f.config
	}
	combined, err := marshal(all)
	if err != nil {
		return nil, err
	}
	return load(baseFile, types.ConfigFile{Filename: "fragments", Content: combined})
}

// faultyFragments names the fragments of a failed load that fail alone
// over the base file, or the load's error when none does.
func faultyFragments(load func(...types.ConfigFile) (*types.Project, error), baseFile types.ConfigFile, frags []fragment, loadErr error) []error {
	var errs []error
	for _, f := range frags {
		content, err := f.render()
		if err == nil {
			_, err = load(baseFile, types.ConfigFile{Filename: f.path, Content: content})
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s over %s: compose-go: %w", f.path, baseFile.Filename, err))
		}
	}
	if len(errs) == 0 {
		errs = append(errs, fmt.Errorf("fragments over %s: compose-go: %w", baseFile.Filename, loadErr))
	}
	return errs
}

// sameService checks that compose merged the policy promgen wrote.
func sameService(got, want types.ServiceConfig) error {
	if got.Restart != want.Restart {
		return fmt.Errorf("merged restart is %q, want %q", got.Restart, want.Restart)
	}
	if want.Deploy != nil && want.Deploy.Resources.Limits != nil {
		if got.Deploy == nil || got.Deploy.Resources.Limits == nil || got.Deploy.Resources.Limits.MemoryBytes != want.Deploy.Resources.Limits.MemoryBytes {
			return fmt.Errorf("merged memory limit differs from the spec's %d bytes", want.Deploy.Resources.Limits.MemoryBytes)
		}
	}
	if want.Deploy != nil && want.Deploy.Replicas != nil && (got.Deploy == nil || got.Deploy.Replicas == nil || *got.Deploy.Replicas != *want.Deploy.Replicas) {
		return fmt.Errorf("merged replicas differ from the spec's %d", *want.Deploy.Replicas)
	}
	if want.HealthCheck != nil && (got.HealthCheck == nil || fmt.Sprint(got.HealthCheck.Test) != fmt.Sprint(want.HealthCheck.Test)) {
		return fmt.Errorf("merged healthcheck differs from the spec's %v", want.HealthCheck.Test)
	}
	return nil
}
