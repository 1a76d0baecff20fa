package alertmanager_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	amtemplate "github.com/prometheus/alertmanager/template"
	"go.yaml.in/yaml/v3"

	"github.com/sre-tools/promgen/internal/alertmanager"
	"github.com/sre-tools/promgen/internal/testenv"
	"github.com/sre-tools/promgen/rules"
)

// standin records what Alertmanager's real notifiers post to it, by path.
type standin struct {
	mu    sync.Mutex
	posts map[string][][]byte
}

func (s *standin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.posts[r.URL.Path] = append(s.posts[r.URL.Path], b)
	s.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/pagerduty") {
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"status":"success","message":"Event processed","dedup_key":"x"}`)
		return
	}
	io.WriteString(w, "ok")
}

func (s *standin) get(path string) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.posts[path]...)
}

// TestTheRealNotifiersDeliverTheTemplates runs the pinned Alertmanager
// (v0.28.1) with the gateway's production configuration and its generated
// templates, its Slack and PagerDuty receivers pointed at a stand-in on
// loopback, posts the gateway's outage, then its recovery, and reads what
// Slack's and PagerDuty's APIs would have received.
func TestTheRealNotifiersDeliverTheTemplates(t *testing.T) {
	bin := testenv.Tool(t, "ALERTMANAGER", "alertmanager")
	s := rules.Spec(rules.Production)
	s.Routing.GroupWait, s.Routing.GroupInterval = time.Second, time.Second
	cfg := alertmanager.Config(s)

	hook := &standin{posts: map[string][][]byte{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: hook, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	stand := "http://" + l.Addr().String()

	dir := t.TempDir()
	secret := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for i := range cfg.Receivers {
		rc := &cfg.Receivers[i]
		for j := range rc.SlackConfigs {
			rc.SlackConfigs[j].APIURLFile = secret("slack-url", stand+"/slack")
		}
		for j := range rc.PagerdutyConfigs {
			rc.PagerdutyConfigs[j].RoutingKeyFile = secret("pd-key", "0123456789abcdef0123456789abcdef")
			rc.PagerdutyConfigs[j].URL = stand + "/pagerduty"
		}
		for j := range rc.WebhookConfigs {
			rc.WebhookConfigs[j].URLFile = secret("heartbeat-url", stand+"/heartbeat")
		}
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, alertmanager.TemplateFile), alertmanager.Templates(s), 0o644); err != nil {
		t.Fatal(err)
	}

	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config.file="+cfgPath, "--storage.path="+t.TempDir(),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--web.external-url="+s.Routing.AlertmanagerURL())
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

	groups := map[string]amtemplate.Data{}
	for _, g := range alertmanager.SampleGroups(s) {
		groups[g.Name] = g.Data
	}
	// An outage of 8 minutes, over 2 minutes ago once resolved. Prometheus
	// sends the resolved alerts with their annotations as last rendered.
	start := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	post := func(resolved bool) {
		t.Helper()
		outage := groups["firing"]
		if resolved {
			outage = groups["resolved"]
		}
		var body []map[string]any
		for _, a := range outage.Alerts {
			m := map[string]any{"labels": a.Labels, "annotations": a.Annotations, "generatorURL": a.GeneratorURL,
				"startsAt": start.Format(time.RFC3339)}
			if resolved {
				m["endsAt"] = start.Add(8 * time.Minute).Format(time.RFC3339)
			}
			body = append(body, m)
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
	await := func(path string, n int) [][]byte {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if got := hook.get(path); len(got) >= n {
				return got
			}
		}
		t.Fatalf("%s: fewer than %d posts in 30s: %d", path, n, len(hook.get(path)))
		return nil
	}
	type slackPost struct {
		Channel     string `json:"channel"`
		Attachments []struct {
			Title string `json:"title"`
			Text  string `json:"text"`
		} `json:"attachments"`
	}
	type pdEvent struct {
		EventAction string `json:"event_action"`
		DedupKey    string `json:"dedup_key"`
		Payload     struct {
			Summary       string            `json:"summary"`
			Severity      string            `json:"severity"`
			CustomDetails map[string]string `json:"custom_details"`
		} `json:"payload"`
		Links []struct {
			Href string `json:"href"`
			Text string `json:"text"`
		} `json:"links"`
	}
	contains := func(what, got string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s lacks %q:\n%s", what, w, got)
			}
		}
	}

	post(false)
	var sl slackPost
	if err := json.Unmarshal(await("/slack", 1)[0], &sl); err != nil || len(sl.Attachments) != 1 {
		t.Fatalf("slack post: %v %+v", err, sl)
	}
	contains("the Slack post's title", sl.Attachments[0].Title, "🚨 MAJOR INCIDENT: inference-gateway is down: OOM kill (exit code 137)")
	contains("the Slack post's text", sl.Attachments[0].Text, "Severity: P0 - All Hands (critical)", "Root Cause: OOM kill (exit code 137)",
		"Restarts: 3", "Peak memory: 98.4% of the limit", "Silence: http://localhost:9093/#/silences/new?filter=", "War Room: https://zoom.us/j/emergency",
		"Down for: 1m 0s", "Requests lost: 1.2k (estimate)")
	if sl.Channel != rules.SlackChannel {
		t.Errorf("posted in %q, want %q", sl.Channel, rules.SlackChannel)
	}
	var pd pdEvent
	if err := json.Unmarshal(await("/pagerduty", 1)[0], &pd); err != nil {
		t.Fatal(err)
	}
	if pd.EventAction != "trigger" || pd.Payload.Severity != "critical" || pd.Payload.Summary != "inference-gateway is down: OOM kill (exit code 137)" {
		t.Errorf("PagerDuty event %+v", pd)
	}
	if pd.Payload.CustomDetails["root_cause"] != "OOM kill (exit code 137)" || pd.Payload.CustomDetails["commander"] != "@oncall-engineer" ||
		pd.Payload.CustomDetails["requests_lost"] != "1.2k" {
		t.Errorf("PagerDuty custom details %v", pd.Payload.CustomDetails)
	}
	if len(pd.Links) != 4 || pd.Links[0].Href != rules.GatewayRunbookURL {
		t.Errorf("PagerDuty links %+v", pd.Links)
	}

	post(true)
	slack := await("/slack", 2)
	if err := json.Unmarshal(slack[len(slack)-1], &sl); err != nil || len(sl.Attachments) != 1 {
		t.Fatalf("slack post: %v %+v", err, sl)
	}
	contains("the resolved Slack post", sl.Attachments[0].Title+"\n"+sl.Attachments[0].Text, "✅ RESOLVED", "Incident Duration: 8m0s",
		"Root Cause: OOM kill (exit code 137)", "Downtime: 9m 0s", "Requests lost: 10.8k (estimate)", "Status: MONITORING")
	pds := await("/pagerduty", 2)
	var resolved pdEvent
	if err := json.Unmarshal(pds[len(pds)-1], &resolved); err != nil {
		t.Fatal(err)
	}
	if resolved.EventAction != "resolve" || resolved.DedupKey != pd.DedupKey || resolved.Payload.CustomDetails["requests_lost"] != "10.8k" {
		t.Errorf("PagerDuty resolve %+v, want a resolve of incident %s", resolved, pd.DedupKey)
	}
}
