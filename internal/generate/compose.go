package generate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
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
// It holds only keys compose applies on a single engine: the restart
// policy is restart, never deploy.restart_policy, which outside swarm
// overrides restart with its condition and max_attempts alone.
func composeService(svc spec.Service) types.ServiceConfig {
	c := svc.Container
	out := types.ServiceConfig{Restart: c.Restart}
	var deploy types.DeployConfig
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
	if deploy.Resources.Limits != nil || deploy.Resources.Reservations != nil || deploy.Replicas != nil {
		out.Deploy = &deploy
	}
	if hc := c.Healthcheck; len(hc.Test) > 0 {
		retries := hc.Retries
		out.HealthCheck = &types.HealthCheckConfig{
			Test:        escapeDollars(hc.Test),
			Interval:    duration(hc.Interval),
			Timeout:     duration(hc.Timeout),
			Retries:     &retries,
			StartPeriod: duration(hc.StartPeriod),
		}
	}
	return out
}

// escapeDollars writes each $ of a healthcheck command as $$: compose
// interpolates every value of a file it loads, so a bare $PORT would be
// replaced by the host's PORT (or nothing) before the container ever saw it,
// and $$ is how a compose file says a literal $. unescapeDollars is how
// compose reads it back.
func escapeDollars(test []string) types.HealthCheckTest {
	out := make(types.HealthCheckTest, len(test))
	for i, s := range test {
		out[i] = strings.ReplaceAll(s, "$", "$$")
	}
	return out
}

func unescapeDollars(test types.HealthCheckTest) types.HealthCheckTest {
	out := make(types.HealthCheckTest, len(test))
	for i, s := range test {
		out[i] = strings.ReplaceAll(s, "$$", "$")
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
// Loading the whole base once per core with the fragments was most of a
// large build, so a fragment is loaded over the whole base only when the
// base's definition of its service can interact with it (interacts).
// Otherwise whether compose accepts the merge depends on the base alone
// and the fragment alone: the merge then only adds keys the base service
// lacks, and nothing compose-go checks or derives afterwards relates
// them to the base's keys. So the base is loaded alone once (it must
// load, and define every service), and each distinct fragment config
// once, over a base that defines its service with an image and nothing
// else: one fragment of each config, loaded together in one load per core.
// Fragments of the same config share that outcome; when it fails, each of
// them is loaded that way, to name its own path and service. The base's
// load, the largest, runs beside the others.
func validateCompose(ctx context.Context, basePath string, frags []fragment) []error {
	load, baseFile, err := composeLoader(ctx, basePath)
	if err != nil {
		return []error{err}
	}
	var baseProject *types.Project
	var baseErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		baseProject, baseErr = load(baseFile)
	}()
	defer func() { <-done }()

	errs := make([]error, len(frags))
	// overMinimal loads fragments over a base that defines each of their
	// services with an image and nothing else; together, as overBase does,
	// since one compose-go load has a cost of its own that a spec whose
	// every service has its own memory limit would pay per service.
	overMinimal := func(idx []int) {
		var only types.ServiceConfig
		only.Image = "promgen/compose-check"
		minimal := composeFragment{Services: map[string]types.ServiceConfig{}}
		for _, i := range idx {
			minimal.Services[frags[i].service] = only
		}
		content, err := marshal(minimal)
		if err != nil {
			for _, i := range idx {
				errs[i] = err
			}
			return
		}
		overBase(load, types.ConfigFile{Filename: basePath, Content: content}, frags, idx, errs)
	}
	groups := map[string][]int{}
	var keys []string
	for i, f := range frags {
		// The fragment's file under a fixed name: its config, as compose reads it.
		key, err := fragment{service: "s", config: f.config}.render()
		if err != nil {
			return []error{err}
		}
		if _, ok := groups[string(key)]; !ok {
			keys = append(keys, string(key))
		}
		groups[string(key)] = append(groups[string(key)], i)
	}
	reps := make([]int, len(keys))
	for n, k := range keys {
		reps[n] = groups[k][0]
	}
	inChunksPerCore(reps, overMinimal)
	var members []int
	for _, k := range keys {
		if g := groups[k]; errs[g[0]] != nil {
			members = append(members, g[1:]...)
		}
	}
	inChunksPerCore(members, overMinimal)

	<-done
	if baseErr != nil {
		return []error{fmt.Errorf("%s: compose-go: %w", basePath, baseErr)}
	}
	var missing []error
	var full []int
	for i, f := range frags {
		s, ok := baseProject.Services[f.service]
		_, disabled := baseProject.DisabledServices[f.service]
		switch {
		case disabled:
			// In a profile: the merged project lacks it too, and
			// sameService says so, as it did.
			full = append(full, i)
		case !ok:
			missing = append(missing, fmt.Errorf("%s: service %q is not defined in %s, so the fragment would define it alone", f.path, f.service, basePath))
		case interacts(s):
			full = append(full, i)
		}
	}
	if len(missing) > 0 {
		return missing
	}
	inChunksPerCore(full, func(idx []int) { overBase(load, baseFile, frags, idx, errs) })
	var out []error
	for _, err := range errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// interacts reports whether a base service sets a key the fragment sets,
// or one compose-go checks against them, so that the fragment must be
// loaded over the whole base. The service is as compose-go loaded it, so
// keys it inherits through extends or YAML merge keys count; a zero value
// is one compose-go neither merges with nor checks.
//
//   - restart, deploy, healthcheck: the fragment sets them; the merge
//     combines both files' maps, and sameService reads the result (a base
//     restart stays when the fragment sets none).
//   - scale: checked against deploy.replicas, and copied into it.
//   - mem_limit, mem_reservation, cpus, pids_limit: checked against
//     deploy.resources.limits and reservations, which the fragment sets.
//   - container_name: refused with more than one replica.
//   - memswap_limit: compose-go does not check it, but the engine refuses
//     a swap limit below the memory limit the fragment sets.
//
// A service in a profile is disabled, so the merged project lacks it
// too: the caller loads it over the whole base, as before. pre_start
// (its hooks inherit none of these keys), networks, volumes and the rest
// are read on their own.
func interacts(s types.ServiceConfig) bool {
	return s.Restart != "" || s.Deploy != nil || s.HealthCheck != nil || s.Scale != nil ||
		s.MemLimit != 0 || s.MemReservation != 0 || s.MemSwapLimit != 0 || s.CPUS != 0 || s.PidsLimit != 0 ||
		s.ContainerName != ""
}

// inChunksPerCore splits idx into one chunk per core and runs f on each
// chunk at once: each chunk is one compose-go load.
func inChunksPerCore(idx []int, f func([]int)) {
	if len(idx) == 0 {
		return
	}
	procs := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for chunk := range slices.Chunk(idx, (len(idx)+procs-1)/procs) {
		wg.Go(func() { f(chunk) })
	}
	wg.Wait()
}

// composeLoader returns how promgen loads compose files with compose-go,
// and the base file.
func composeLoader(ctx context.Context, basePath string) (func(...types.ConfigFile) (*types.Project, error), types.ConfigFile, error) {
	base, err := os.ReadFile(basePath)
	if err != nil {
		return nil, types.ConfigFile{}, fmt.Errorf("compose base file: %w", err)
	}
	dir, err := filepath.Abs(filepath.Dir(basePath))
	if err != nil {
		return nil, types.ConfigFile{}, err
	}
	load := func(files ...types.ConfigFile) (*types.Project, error) {
		return loader.LoadWithContext(ctx, types.ConfigDetails{WorkingDir: dir, ConfigFiles: files, Environment: types.Mapping{}},
			func(o *loader.Options) {
				o.SetProjectName("promgen", true)
				o.SkipResolveEnvironment = true
				o.ResolvePaths = false
			})
	}
	return load, types.ConfigFile{Filename: basePath, Content: base}, nil
}

// overBase loads the fragments frags[i], i in idx, together over the whole
// base file, as `docker compose -f base -f a -f b ...` would (they touch
// disjoint services), and sets errs[i]. When that load fails, each
// fragment is loaded alone over the base, to name the one at fault.
func overBase(load func(...types.ConfigFile) (*types.Project, error), baseFile types.ConfigFile, frags []fragment, idx []int, errs []error) {
	all := composeFragment{Services: map[string]types.ServiceConfig{}}
	for _, i := range idx {
		all.Services[frags[i].service] = frags[i].config
	}
	combined, err := marshal(all)
	var p *types.Project
	if err == nil {
		p, err = load(baseFile, types.ConfigFile{Filename: "fragments", Content: combined})
	}
	if err == nil {
		for _, i := range idx {
			f := frags[i]
			errs[i] = nil
			if err := sameService(p.Services[f.service], f.config); err != nil {
				errs[i] = fmt.Errorf("%s: service %q: %w", f.path, f.service, err)
			}
		}
		return
	}
	failed := false
	for _, i := range idx {
		f := frags[i]
		content, ferr := f.render()
		if ferr == nil {
			_, ferr = load(baseFile, types.ConfigFile{Filename: f.path, Content: content})
		}
		errs[i] = nil
		if ferr != nil {
			errs[i] = fmt.Errorf("%s over %s: compose-go: %w", f.path, baseFile.Filename, ferr)
			failed = true
		}
	}
	if !failed {
		errs[idx[0]] = fmt.Errorf("fragments over %s: compose-go: %w", baseFile.Filename, err)
	}
}

// sameService checks that compose merged the policy promgen wrote.
func sameService(got, want types.ServiceConfig) error {
	if got.Restart != want.Restart {
		return fmt.Errorf("merged restart is %q, want %q", got.Restart, want.Restart)
	}
	// Outside swarm, compose applies deploy.restart_policy instead of
	// restart (its condition and max_attempts; delay and window are
	// swarm's), so a base that sets one would override the spec's policy.
	if want.Restart != "" && got.Deploy != nil && got.Deploy.RestartPolicy != nil {
		return fmt.Errorf("merged deploy.restart_policy (condition %q) overrides restart %q: outside swarm compose applies deploy.restart_policy instead; remove it from the base file",
			got.Deploy.RestartPolicy.Condition, want.Restart)
	}
	if want.Deploy != nil && want.Deploy.Resources.Limits != nil {
		if got.Deploy == nil || got.Deploy.Resources.Limits == nil || got.Deploy.Resources.Limits.MemoryBytes != want.Deploy.Resources.Limits.MemoryBytes {
			return fmt.Errorf("merged memory limit differs from the spec's %d bytes", want.Deploy.Resources.Limits.MemoryBytes)
		}
	}
	if want.Deploy != nil && want.Deploy.Replicas != nil && (got.Deploy == nil || got.Deploy.Replicas == nil || *got.Deploy.Replicas != *want.Deploy.Replicas) {
		return fmt.Errorf("merged replicas differ from the spec's %d", *want.Deploy.Replicas)
	}
	// want is the fragment as written, each $ as $$; compose-go read got
	// from it, and reads $$ as $.
	if want.HealthCheck != nil {
		if spec := unescapeDollars(want.HealthCheck.Test); got.HealthCheck == nil || !slices.Equal(got.HealthCheck.Test, spec) {
			var merged types.HealthCheckTest
			if got.HealthCheck != nil {
				merged = got.HealthCheck.Test
			}
			return fmt.Errorf("merged healthcheck %q differs from the spec's %q", merged, spec)
		}
	}
	// A base's `disable: true` stays beside the spec's test, and compose
	// runs no healthcheck at all.
	if want.HealthCheck != nil && !want.HealthCheck.Disable && got.HealthCheck.Disable {
		return errors.New("merged healthcheck is disabled (healthcheck.disable), so the spec's never runs")
	}
	return nil
}
