package generate

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/prometheus/common/model"

	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
)

// Fragment configs the compose tests combine with bases.
var (
	runbook   = spec.RunbookContainer("http://localhost:9000/health")
	replicas2 = spec.Container{Restart: "always", Replicas: 2}
	bare      = spec.Container{}
	// compose-go refuses both, whatever the base says (the spec's own
	// validation refuses the second first).
	negative = spec.Container{Replicas: math.MaxUint64} // -1 replicas
	badTest  = spec.Container{Healthcheck: spec.Healthcheck{Test: []string{"FOO", "x"}, Interval: 1, Timeout: 1, Retries: 1}}
)

// frags are fragments of services a, b, c, ... with the given configs.
func frags(cs ...spec.Container) []fragment {
	var out []fragment
	for i, c := range cs {
		out = append(out, newFragment("", spec.Service{Name: string(rune('a' + i)), Container: c}))
	}
	return out
}

func writeBase(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "docker-compose.yml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// eachOverBase is the strictest way to validate: the base alone, then
// every fragment alone over the whole base, and the merged service
// checked. validateCompose must agree with it.
func eachOverBase(basePath string, fs []fragment) []error {
	load, baseFile, err := composeLoader(context.Background(), basePath)
	if err != nil {
		return []error{err}
	}
	if _, err := load(baseFile); err != nil {
		return []error{fmt.Errorf("%s: compose-go: %w", basePath, err)}
	}
	var errs []error
	for _, f := range fs {
		content, err := f.render()
		if err != nil {
			return []error{err}
		}
		p, err := load(baseFile, types.ConfigFile{Filename: f.path, Content: content})
		if err == nil {
			err = sameService(p.Services[f.service], f.config)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.path, err))
		}
	}
	return errs
}

// blamed lists the fragments that errs name, in order, "" for an error
// that names none.
func blamed(errs []error, fs []fragment) []string {
	var out []string
	for _, err := range errs {
		i := slices.IndexFunc(fs, func(f fragment) bool {
			return strings.HasPrefix(err.Error(), f.path+":") || strings.HasPrefix(err.Error(), f.path+" over ")
		})
		if i < 0 {
			out = append(out, "")
		} else {
			out = append(out, fs[i].path)
		}
	}
	return out
}

// Bases of services a, b and c, each with one way for a to interact with
// a fragment, or not.
var composeBases = map[string]string{
	"plain":               "services:\n  a: {image: x}\n  b: {image: x}\n  c: {image: x}\n",
	"restart":             "services:\n  a: {image: x, restart: always}\n  b: {image: x}\n  c: {image: x}\n",
	"deploy global":       "services:\n  a: {image: x, deploy: {mode: global}}\n  b: {image: x}\n  c: {image: x}\n",
	"restart_policy":      "services:\n  a: {image: x, deploy: {restart_policy: {condition: on-failure, max_attempts: 3}}}\n  b: {image: x}\n  c: {image: x}\n",
	"deploy limits":       "services:\n  a: {image: x, mem_limit: 1g, deploy: {resources: {limits: {memory: 1g}}}}\n  b: {image: x}\n  c: {image: x}\n",
	"scale":               "services:\n  a: {image: x, scale: 3}\n  b: {image: x}\n  c: {image: x}\n",
	"mem_limit":           "services:\n  a: {image: x, mem_limit: 1g}\n  b: {image: x}\n  c: {image: x}\n",
	"mem_reservation":     "services:\n  a: {image: x, mem_reservation: 1g}\n  b: {image: x}\n  c: {image: x}\n",
	"memswap_limit":       "services:\n  a: {image: x, memswap_limit: 1g}\n  b: {image: x}\n  c: {image: x}\n",
	"cpus":                "services:\n  a: {image: x, cpus: 0.5}\n  b: {image: x}\n  c: {image: x}\n",
	"pids_limit":          "services:\n  a: {image: x, pids_limit: 100}\n  b: {image: x}\n  c: {image: x}\n",
	"container_name":      "services:\n  a: {image: x, container_name: the-a}\n  b: {image: x}\n  c: {image: x}\n",
	"healthcheck off":     "services:\n  a: {image: x, healthcheck: {disable: true}}\n  b: {image: x}\n  c: {image: x}\n",
	"healthcheck":         "services:\n  a: {image: x, healthcheck: {test: [CMD, 'true'], start_interval: 1s}}\n  b: {image: x}\n  c: {image: x}\n",
	"extends scale":       "services:\n  a: {extends: c}\n  b: {image: x}\n  c: {image: x, scale: 3}\n",
	"merge key":           "x-common: &common {image: x, mem_limit: 1g}\nservices:\n  a: {<<: *common}\n  b: {image: x}\n  c: {image: x}\n",
	"profile":             "services:\n  a: {image: x, profiles: [debug]}\n  b: {image: x}\n  c: {image: x}\n",
	"unrelated keys":      "services:\n  a: {image: x, depends_on: [b], labels: {k: v}, mem_swappiness: 10}\n  b: {image: x, network_mode: host}\n  c: {image: x, pre_start: [{command: ['true']}]}\n",
	"lacks c":             "services:\n  a: {image: x}\n  b: {image: x}\n",
	"invalid":             "services: [\n",
	"invalid consistency": "services:\n  a: {image: x, scale: 2, deploy: {replicas: 3}}\n  b: {image: x}\n  c: {image: x}\n",
}

// TestValidateComposeAgreesWithEachOverBase: for every base and every
// combination of fragment configs, validateCompose blames the same
// fragments as loading each alone over the whole base.
func TestValidateComposeAgreesWithEachOverBase(t *testing.T) {
	configs := []spec.Container{runbook, replicas2, bare, negative, badTest}
	var sets [][]fragment
	for _, x := range configs {
		for _, y := range configs {
			sets = append(sets, frags(x, y, x))
		}
	}
	sets = append(sets, frags(runbook, runbook), frags(replicas2))
	for name, content := range composeBases {
		base := writeBase(t, content)
		for _, fs := range sets {
			got := validateCompose(context.Background(), base, fs)
			want := eachOverBase(base, fs)
			if (len(got) == 0) != (len(want) == 0) {
				t.Errorf("base %q, configs %v: validateCompose: %v; each over the base: %v", name, describe(fs), got, want)
				continue
			}
			// Where the base names a missing service, or fails itself,
			// validateCompose reports only that.
			if slices.Contains(blamed(want, fs), "") || strings.Contains(fmt.Sprint(got), "is not defined in") {
				continue
			}
			if g, w := blamed(got, fs), blamed(want, fs); !slices.Equal(g, w) {
				t.Errorf("base %q, configs %v: validateCompose blames %v, each over the base %v:\n%v\n%v", name, describe(fs), g, w, got, want)
			}
		}
	}
}

func describe(fs []fragment) string {
	var out []string
	for _, f := range fs {
		b, _ := fragment{service: "s", config: f.config}.render()
		out = append(out, fmt.Sprintf("%s=%q", f.service, strings.TrimPrefix(string(b), Header)))
	}
	return strings.Join(out, " ")
}

// TestComposeChecksTheBaseServiceAgainstTheFragment: base definitions
// that compose-go, or the merged service, refuses only together with the
// fragment, so only a load over the whole base catches them.
func TestComposeChecksTheBaseServiceAgainstTheFragment(t *testing.T) {
	cases := []struct {
		base string
		fs   []fragment
		want string
	}{
		{"scale", frags(replicas2), `can't set distinct values on 'scale' and 'deploy.replicas'`},
		{"extends scale", frags(replicas2), `can't set distinct values on 'scale' and 'deploy.replicas'`},
		{"container_name", frags(replicas2), `can't set container_name`},
		{"mem_limit", frags(runbook), `can't set distinct values on 'mem_limit' and 'deploy.resources.limits.memory'`},
		{"merge key", frags(runbook), `can't set distinct values on 'mem_limit' and 'deploy.resources.limits.memory'`},
		{"deploy limits", frags(runbook), `can't set distinct values on 'mem_limit' and 'deploy.resources.limits.memory'`},
		{"mem_reservation", frags(runbook), `'mem_reservation' and 'deploy.resources.reservations.memory'`},
		{"cpus", frags(runbook), `'cpus' and 'deploy.resources.limits.cpus'`},
		{"pids_limit", frags(runbook), `'pids_limit' and 'deploy.resources.limits.pids'`},
		{"restart", frags(bare), `merged restart is "always", want ""`},
		{"restart_policy", frags(runbook), `merged deploy.restart_policy (condition "on-failure") overrides restart "unless-stopped"`},
		{"healthcheck off", frags(runbook), `merged healthcheck is disabled`},
		{"profile", frags(runbook), `merged restart is "", want "unless-stopped"`},
	}
	for _, tc := range cases {
		t.Run(tc.base, func(t *testing.T) {
			errs := validateCompose(context.Background(), writeBase(t, composeBases[tc.base]), tc.fs)
			if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "compose/a.compose.yml") || !strings.Contains(errs[0].Error(), tc.want) {
				t.Fatalf("errors %v, want one for compose/a.compose.yml containing %q", errs, tc.want)
			}
		})
	}
	// compose-go keeps deploy.mode global beside replicas, and a
	// healthcheck's other keys beside the fragment's: both load.
	for _, base := range []string{"deploy global", "healthcheck"} {
		if errs := validateCompose(context.Background(), writeBase(t, composeBases[base]), frags(runbook, replicas2)); len(errs) > 0 {
			t.Errorf("base %q: %v", base, errs)
		}
	}
}

// TestComposeBlamesEveryFragmentOfARefusedConfig: services sharing a
// config compose-go refuses are each reported, by their own path and
// service, after the others' errors in fragment order.
func TestComposeBlamesEveryFragmentOfARefusedConfig(t *testing.T) {
	base := writeBase(t, "services:\n  a: {image: x}\n  b: {image: x}\n  c: {image: x}\n  d: {image: x}\n  e: {image: x}\n")
	errs := validateCompose(context.Background(), base, frags(negative, runbook, negative, badTest, negative))
	var got []string
	for _, err := range errs {
		got = append(got, err.Error())
	}
	want := []struct{ path, text string }{
		{"compose/a.compose.yml over " + base, "services.a.deploy.replicas: must be greater than or equal to 0"},
		{"compose/c.compose.yml over " + base, "services.c.deploy.replicas: must be greater than or equal to 0"},
		{"compose/d.compose.yml over " + base, `healthcheck.test must start either by "CMD"`},
		{"compose/e.compose.yml over " + base, "services.e.deploy.replicas: must be greater than or equal to 0"},
	}
	if len(got) != len(want) {
		t.Fatalf("errors:\n%s\nwant %d", strings.Join(got, "\n"), len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w.path+": compose-go: ") || !strings.Contains(got[i], w.text) {
			t.Errorf("error %d is %q, want %q ... %q", i, got[i], w.path, w.text)
		}
	}
}

func TestComposeBaseErrors(t *testing.T) {
	cases := []struct{ base, want string }{
		{"lacks c", `compose/c.compose.yml: service "c" is not defined in `},
		{"invalid", "compose-go: failed to parse"},
		{"invalid consistency", `compose-go: services.a: can't set distinct values on 'scale' and 'deploy.replicas'`},
	}
	for _, tc := range cases {
		t.Run(tc.base, func(t *testing.T) {
			base := writeBase(t, composeBases[tc.base])
			errs := validateCompose(context.Background(), base, frags(runbook, bare, runbook))
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.want) {
				t.Fatalf("errors %v, want one containing %q", errs, tc.want)
			}
		})
	}
}

// BenchmarkValidateCompose is validateCompose alone on scalespec's 1,000
// services, with the CPU time per run beside the wall time.
func BenchmarkValidateCompose(b *testing.B) {
	// "same": scalespec's services share one container policy; "distinct":
	// each has a memory limit of its own, as a real team's often do, so
	// every fragment is a config of its own.
	for _, distinct := range []bool{false, true} {
		name := "same"
		if distinct {
			name = "distinct"
		}
		b.Run("configs="+name, func(b *testing.B) {
			s, base := scaleSpec(b, 1000)
			fs := make([]fragment, 0, len(s.Services))
			for i, svc := range s.Services {
				if distinct {
					svc.Container.Memory.Limit += spec.Bytes(i) << 20
				}
				fs = append(fs, newFragment("", svc))
			}
			b.ReportAllocs()
			start := cpuTime(b)
			for b.Loop() {
				if errs := validateCompose(context.Background(), base, fs); len(errs) > 0 {
					b.Fatal(errs)
				}
			}
			b.ReportMetric(float64((cpuTime(b)-start).Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}

// TestComposePrometheusHoldsTheObjectives reads the stack's compose file as
// docker compose does: its Prometheus keeps at least the retention the
// gateway's spec declares, which holds every objective's window (the spec's
// validation says so), on a named volume that outlives `compose down`.
func TestComposePrometheusHoldsTheObjectives(t *testing.T) {
	load, base, err := composeLoader(context.Background(), "../../compose/docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := load(base)
	if err != nil {
		t.Fatal(err)
	}
	prom, ok := p.Services["prometheus"]
	if !ok {
		t.Fatal("compose/docker-compose.yml has no prometheus service")
	}
	s := rules.Spec(rules.Production)
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	declared := s.Prometheus.Retention
	if declared == 0 {
		t.Fatal("the gateway's spec declares no Prometheus retention")
	}
	var retention, storage string
	for _, arg := range prom.Command {
		if v, ok := strings.CutPrefix(arg, "--storage.tsdb.retention.time="); ok {
			retention = v
		}
		if v, ok := strings.CutPrefix(arg, "--storage.tsdb.path="); ok {
			storage = v
		}
	}
	got, err := model.ParseDuration(retention)
	if err != nil {
		t.Fatalf("prometheus: --storage.tsdb.retention.time=%q: %v (Prometheus' default of 15d does not hold a 30-day objective)", retention, err)
	}
	if time.Duration(got) < declared {
		t.Errorf("prometheus keeps %s, the spec declares %s", got, model.Duration(declared))
	}
	var named bool
	for _, v := range prom.Volumes {
		if v.Target == storage {
			_, declaredVolume := p.Volumes[v.Source]
			named = v.Type == types.VolumeTypeVolume && v.Source != "" && declaredVolume
		}
	}
	if !named {
		t.Errorf("prometheus' storage %q is not on a named volume: %+v", storage, prom.Volumes)
	}
}
