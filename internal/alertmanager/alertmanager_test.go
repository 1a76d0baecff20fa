package alertmanager_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/sre-tools/promgen/internal/alertmanager"
	"github.com/sre-tools/promgen/internal/testenv"
	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
)

// render writes a spec's Alertmanager configuration to a temporary file.
func render(t *testing.T, s spec.Spec) string {
	t.Helper()
	b, err := yaml.Marshal(alertmanager.Config(s))
	if err != nil {
		t.Fatal(err)
	}
	if err := alertmanager.Validate("alertmanager.yml", b); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "alertmanager.yml")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEveryAlertReachesItsReceivers routes every case with Alertmanager's
// own router, loaded from the generated file: the cases come from the spec,
// the routes from the file, so a routing tree that drops or misroutes an
// alert fails here.
func TestEveryAlertReachesItsReceivers(t *testing.T) {
	for _, p := range rules.Profiles {
		s := rules.Spec(p)
		cfg, err := amconfig.LoadFile(render(t, s))
		if err != nil {
			t.Fatal(err)
		}
		root := dispatch.NewRoute(cfg.Route, nil)
		cases := alertmanager.Cases(s)
		if len(cases) != len(s.Services[0].Alerts)+len(s.Pipeline) {
			t.Fatalf("%s: %d cases for %d alerts", p.Name, len(cases), len(s.Services[0].Alerts)+len(s.Pipeline))
		}
		for _, c := range cases {
			ls := model.LabelSet{}
			for k, v := range c.Labels {
				ls[model.LabelName(k)] = model.LabelValue(v)
			}
			var got []string
			for _, r := range root.Match(ls) {
				got = append(got, r.RouteOpts.Receiver)
			}
			if !slices.Equal(got, c.Receivers) {
				t.Errorf("%s: %v reaches %v, want %v", p.Name, c.Labels, got, c.Receivers)
			}
		}
	}
}

// TestAmtoolAgrees runs the pinned amtool (v0.28.1, the Alertmanager the
// stack runs) over the configurations and routing cases promgen committed,
// the gateway's and every example's.
func TestAmtoolAgrees(t *testing.T) {
	amtool := testenv.Tool(t, "AMTOOL", "amtool")
	configs, _ := filepath.Glob("../../generated/alertmanager/alertmanager.yml")
	more, _ := filepath.Glob("../../generated/*/alertmanager/alertmanager.yml")
	examples, _ := filepath.Glob("../../examples/*/generated/alertmanager/alertmanager.yml")
	configs = append(append(configs, more...), examples...)
	if len(configs) < 2 {
		t.Fatalf("found only %v: the gateway's and the e2e profile's are expected", configs)
	}
	for _, cfg := range configs {
		if out, err := exec.Command(amtool, "check-config", cfg).CombinedOutput(); err != nil {
			t.Errorf("amtool check-config %s: %v\n%s", cfg, err, out)
		}
		b, err := os.ReadFile(filepath.Join(filepath.Dir(cfg), "routes.yml"))
		if err != nil {
			t.Fatal(err)
		}
		var cases []alertmanager.Case
		if err := yaml.Unmarshal(b, &cases); err != nil || len(cases) == 0 {
			t.Fatalf("%s: routes.yml: %d cases, %v", cfg, len(cases), err)
		}
		for _, c := range cases {
			args := []string{"config", "routes", "test", "--config.file=" + cfg, "--verify.receivers=" + strings.Join(c.Receivers, ",")}
			for k, v := range c.Labels {
				args = append(args, k+"="+v)
			}
			if out, err := exec.Command(amtool, args...).CombinedOutput(); err != nil {
				t.Errorf("amtool %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
	}
}

// TestAmtoolCatchesAWrongReceiver keeps TestAmtoolAgrees honest.
func TestAmtoolCatchesAWrongReceiver(t *testing.T) {
	amtool := testenv.Tool(t, "AMTOOL", "amtool")
	cfg := render(t, rules.Spec(rules.Production))
	out, err := exec.Command(amtool, "config", "routes", "test", "--config.file="+cfg, "--verify.receivers=pagerduty",
		"alertname=HighMemoryUsage", "severity=warning", "service=inference-gateway").CombinedOutput()
	if err == nil {
		t.Fatalf("amtool passed a warning routed to pagerduty:\n%s", out)
	}
}

// TestInhibitionsOnARealAlertmanager posts alerts to the pinned Alertmanager
// running the gateway's configuration and reads which it suppresses.
func TestInhibitionsOnARealAlertmanager(t *testing.T) {
	bin := testenv.Tool(t, "ALERTMANAGER", "alertmanager")
	s := rules.Spec(rules.E2E)
	cfg := render(t, s)
	addr := freeAddr(t)
	cluster := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config.file="+cfg, "--storage.path="+t.TempDir(),
		"--web.listen-address="+addr, "--cluster.listen-address="+cluster)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("alertmanager:\n%s", logs.String())
		}
	})
	base := "http://" + addr
	waitReady(t, base+"/-/ready")

	gw, other := s.Services[0].Name, "ranker"
	alert := func(name, sev, svc string, extra ...string) map[string]string {
		l := map[string]string{"alertname": name, "severity": sev}
		if svc != "" {
			l["service"] = svc
		}
		for i := 0; i+1 < len(extra); i += 2 {
			l[extra[i]] = extra[i+1]
		}
		return l
	}
	posted := map[string]map[string]string{
		"page":                alert("ServiceDown", "critical", gw, "job", gw),
		"oom":                 alert("ContainerOOMKilled", "critical", gw, "name", "g-1", "host", "gpu-1"),
		"crash":               alert("ContainerCrashLooping", "warning", gw, "name", "g-1", "host", "gpu-1"),
		"other oom":           alert("ContainerOOMKilled", "critical", other, "name", "r-1", "host", "gpu-1"),
		"replica down":        alert("ReplicaDown", "warning", other, "name", "r-1", "host", "gpu-1", "instance", "r-1:8080"),
		"unhealthy":           alert("ContainerUnhealthy", "warning", other, "name", "r-1", "host", "gpu-1"),
		"unhealthy (r2)":      alert("ContainerUnhealthy", "warning", other, "name", "r-2", "host", "gpu-1"),
		"critical memory":     alert("CriticalMemoryUsage", "critical", other, "name", "r-1", "host", "gpu-1"),
		"high memory":         alert("HighMemoryUsage", "warning", other, "name", "r-1", "host", "gpu-1"),
		"high memory (r2)":    alert("HighMemoryUsage", "warning", other, "name", "r-2", "host", "gpu-1"),
		"high memory (gpu-2)": alert("HighMemoryUsage", "warning", other, "name", "r-1", "host", "gpu-2"),
		"burn":                alert("AvailabilityFastBurn", "critical", gw, "slo", "availability"),
		"other burn":          alert("AvailabilityFastBurn", "critical", other, "slo", "availability"),
		"exporter down":       alert("GatewayExporterDown", "warning", "", "job", "gateway-exporter", "host", "gpu-1"),
		"source down":         alert("DiagnosisSourceDown", "warning", "", "source", "docker", "host", "gpu-1"),
		"source down (gpu-2)": alert("DiagnosisSourceDown", "warning", "", "source", "docker", "host", "gpu-2"),
	}
	post := func(alerts []map[string]string, endsAt time.Time) {
		t.Helper()
		var body []map[string]any
		for _, l := range alerts {
			a := map[string]any{"labels": l, "startsAt": time.Now().Add(-time.Minute).Format(time.RFC3339)}
			if !endsAt.IsZero() {
				a["endsAt"] = endsAt.Format(time.RFC3339)
			}
			body = append(body, a)
		}
		b, _ := json.Marshal(body)
		resp, err := http.Post(base+"/api/v2/alerts", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST /api/v2/alerts: %s", resp.Status)
		}
	}
	// settle polls until Alertmanager, which computes inhibition as alerts
	// arrive, suppresses exactly the wanted alerts among the firing ones.
	settle := func(want map[string]bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, err := suppressed(base)
			mismatch := ""
			for name, w := range want {
				l := posted[name]
				if s, ok := got[key(l)]; err == nil && (!ok || s != w) {
					mismatch += fmt.Sprintf("\n  %s %v: present %v, suppressed %v, want suppressed %v", name, l, ok, s, w)
				}
			}
			if err == nil && mismatch == "" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("Alertmanager's inhibitions differ (%v):%s", err, mismatch)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	var all []map[string]string
	for _, l := range posted {
		all = append(all, l)
	}
	post(all, time.Time{})
	settle(map[string]bool{
		"page": false, "oom": true, "crash": true,
		// One replica of another service down mutes its own health
		// warning, never its OOM kill or another replica's.
		"other oom": false, "replica down": false, "unhealthy": true, "unhealthy (r2)": false,
		// A container of the same name on another host is another
		// container.
		"critical memory": false, "high memory": true, "high memory (r2)": false, "high memory (gpu-2)": false,
		"burn": true, "other burn": false,
		"exporter down": false, "source down": true, "source down (gpu-2)": false,
	})

	// The service comes back without being fixed: ServiceDown resolves, and
	// its symptoms, still firing, are no longer muted.
	post([]map[string]string{posted["page"]}, time.Now().Add(-time.Second))
	settle(map[string]bool{"oom": false, "crash": false, "burn": false, "other oom": false})
}

func key(l map[string]string) string {
	var parts []string
	for k, v := range l {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// suppressed reads every alert from API v2 and whether it is inhibited.
func suppressed(base string) (map[string]bool, error) {
	resp, err := http.Get(base + "/api/v2/alerts")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var alerts []struct {
		Labels map[string]string `json:"labels"`
		Status struct {
			InhibitedBy []string `json:"inhibitedBy"`
		} `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&alerts); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, a := range alerts {
		out[key(a.Labels)] = len(a.Status.InhibitedBy) > 0
	}
	return out, nil
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitReady(t *testing.T, url string) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not ready in 30s", url)
}

// TestAnInhibitionOnALabelAnAlertLacksIsRefused: ServiceDown's pages carry
// no container name, so an inhibition equal on it would never mute a
// container's OOM kill, which does.
func TestAnInhibitionOnALabelAnAlertLacksIsRefused(t *testing.T) {
	s := rules.Spec(rules.Production)
	if errs := alertmanager.CheckInhibitions(s); len(errs) > 0 {
		t.Fatalf("the gateway's inhibitions: %v", errs)
	}
	s.Routing.Inhibitions = []spec.Inhibition{{Source: "ServiceDown", Targets: []string{"ContainerOOMKilled"}, Equal: []string{"service", "name"}}}
	errs := alertmanager.CheckInhibitions(s)
	if len(errs) == 0 {
		t.Fatal("an inhibition equal on name from ServiceDown passed")
	}
	if want := `equal label "name" is carried by one side only when alert "ContainerOOMKilled" of service "inference-gateway" fires in test`; !strings.Contains(errs[0].Error(), want) {
		t.Errorf("got %v, want %q", errs[0], want)
	}
}

// TestAnInhibitionOnALabelItsTargetsLackIsRefused: the source carries the
// equal label but a target never does (or the other way round), so the
// inhibition never mutes that target. The spec is written here, not taken from rules/, so the case
// holds whatever the runbook's alerts carry.
func TestAnInhibitionOnALabelItsTargetsLackIsRefused(t *testing.T) {
	fires := func(name string, labels map[string]string) spec.Alert {
		return spec.Alert{Name: name, Severity: spec.Critical, Tests: []spec.Test{{
			Name:   name + " fires",
			Expect: []spec.Expect{{At: time.Minute, Firing: []spec.Firing{{Labels: labels}}}},
		}}}
	}
	s := spec.Spec{Services: []spec.Service{{Name: "web", Alerts: []spec.Alert{
		fires("Source", map[string]string{"instance": "web:1", "name": "web-1"}),
		fires("Carries", map[string]string{"name": "web-1"}),
		fires("Lacks", map[string]string{"job": "web"}),
	}}}}
	lacks := `equal label "name" is carried by one side only when alert "Lacks" of service "web" fires`
	unmuted := `equal label "name" is carried by one side only when alert "Carries" of service "web" fires`
	for _, tc := range []struct {
		name    string
		source  string
		targets []string
		want    []string // what each error must say; none: no error
	}{
		{"a source and targets that carry the label pass", "Source", []string{"Carries"}, nil},
		{"a target that lacks the label is reported", "Source", []string{"Lacks"}, []string{lacks}},
		{"only the target that lacks the label is reported", "Source", []string{"Carries", "Lacks"}, []string{lacks}},
		{"a source that lacks the label is reported through the target it never mutes", "Lacks", []string{"Carries"}, []string{unmuted}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.Routing.Inhibitions = []spec.Inhibition{{Source: tc.source, Targets: tc.targets, Equal: []string{"service", "name"}}}
			errs := alertmanager.CheckInhibitions(s)
			if len(errs) != len(tc.want) {
				t.Fatalf("got %d errors %v, want %d naming %v", len(errs), errs, len(tc.want), tc.want)
			}
			for i, want := range tc.want {
				if !strings.Contains(errs[i].Error(), want) {
					t.Errorf("error %d: got %v, want %q", i, errs[i], want)
				}
			}
		})
	}
}
