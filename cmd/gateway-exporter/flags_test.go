package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runAsExporter makes the test binary the exporter itself when the flag
// tests start it as a child, so that a panic or a process that keeps
// running is seen as a user would see it, without taking the tests down.
const runAsExporter = "GATEWAY_EXPORTER_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runAsExporter) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestBadFlagsAreRefusedBeforeListening starts the exporter with each bad
// value of each flag and requires it to exit non-zero at once, with an
// error naming the flag (and, for colliding label keys, both keys),
// without ever listening.
func TestBadFlagsAreRefusedBeforeListening(t *testing.T) {
	webConfig := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(webConfig, []byte("tls_server_config:\n  cert_file: /nonexistent/cert.pem\n  key_file: /nonexistent/key.pem\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want []string // substrings of stderr
	}{
		{"the same label key given twice is refused, naming it",
			[]string{"--container.labels-allowlist", "com.example.team", "--container.labels-allowlist", "com.example.team"},
			[]string{"--container.labels-allowlist", `"com.example.team" is given twice`}},
		{"two label keys that sanitise to one label name are refused, naming both",
			[]string{"--container.labels-allowlist", "com.example.team", "--container.labels-allowlist", "com.example/team"},
			[]string{"--container.labels-allowlist", `"com.example.team"`, `"com.example/team"`, "label_com_example_team"}},
		{"an empty label key is refused",
			[]string{"--container.labels-allowlist", ""},
			[]string{"--container.labels-allowlist", "empty"}},
		{"an unknown log level is refused",
			[]string{"--log.level", "loud"},
			[]string{"--log.level"}},
		{"a docker host that does not parse is refused",
			[]string{"--docker.host", "bogus"},
			[]string{"--docker.host"}},
		{"a cAdvisor URL that is not http(s) is refused",
			[]string{"--cadvisor.url", "ftp://cadvisor:8080"},
			[]string{"--cadvisor.url"}},
		{"a zero cAdvisor timeout is refused",
			[]string{"--cadvisor.url", "http://cadvisor:8080", "--cadvisor.timeout", "0s"},
			[]string{"--cadvisor.timeout"}},
		{"a negative cAdvisor timeout is refused even without a cAdvisor",
			[]string{"--cadvisor.timeout", "-1s"},
			[]string{"--cadvisor.timeout"}},
		{"a zero memory interval is refused",
			[]string{"--memory.interval", "0s"},
			[]string{"--memory.interval"}},
		{"a negative memory interval is refused",
			[]string{"--memory.interval", "-15s"},
			[]string{"--memory.interval"}},
		{"a zero memory timeout is refused",
			[]string{"--memory.timeout", "0s"},
			[]string{"--memory.timeout"}},
		{"a zero stats concurrency is refused",
			[]string{"--docker.stats-concurrency", "0"},
			[]string{"--docker.stats-concurrency"}},
		{"a negative stats concurrency is refused",
			[]string{"--docker.stats-concurrency", "-3"},
			[]string{"--docker.stats-concurrency"}},
		{"a negative retention is refused",
			[]string{"--container.retention", "-1h"},
			[]string{"--container.retention"}},
		{"a listen address without a port is refused",
			[]string{"--web.listen-address", "localhost"},
			[]string{"--web.listen-address"}},
		{"a listen address whose port is out of range is refused before anything starts",
			[]string{"--web.listen-address", ":99999"},
			[]string{"--web.listen-address", "99999"}},
		{"an empty listen address is refused",
			[]string{"--web.listen-address", ""},
			[]string{"--web.listen-address"}},
		{"a web config file that does not exist is refused",
			[]string{"--web.config.file", filepath.Join(t.TempDir(), "missing.yml")},
			[]string{"--web.config.file"}},
		{"a web config file naming certificates that do not exist is refused",
			[]string{"--web.config.file", webConfig},
			[]string{"--web.config.file"}},
		{"a telemetry path without a leading slash is refused",
			[]string{"--web.telemetry-path", "metrics"},
			[]string{"--web.telemetry-path"}},
		{"an empty telemetry path is refused",
			[]string{"--web.telemetry-path", ""},
			[]string{"--web.telemetry-path"}},
		{"a duration that does not parse is refused",
			[]string{"--memory.interval", "soon"},
			[]string{"memory.interval"}},
		{"several bad flags are all reported at once",
			[]string{"--memory.interval", "0s", "--container.retention", "-1s"},
			[]string{"--memory.interval", "--container.retention"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := freeAddr(t)
			args := []string{"--docker.host", "unix://" + filepath.Join(t.TempDir(), "no-docker.sock"),
				"--web.listen-address", addr}
			if hasFlag(tc.args, "--web.listen-address") {
				args = args[:2]
			}
			args = append(args, tc.args...)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], args...)
			cmd.Env = append(os.Environ(), runAsExporter+"=1")
			var stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stderr, &stderr
			err := cmd.Run()
			out := stderr.String()
			if ctx.Err() != nil {
				t.Fatalf("still running 10s after starting with %q: the flag was accepted\n%s", tc.args, out)
			}
			if err == nil {
				t.Fatalf("exited 0 with %q\n%s", tc.args, out)
			}
			if strings.Contains(out, "panic") {
				t.Errorf("panicked instead of refusing %q\n%s", tc.args, out)
			}
			if strings.Contains(out, `"msg":"Listening on"`) {
				t.Errorf("listened before refusing %q\n%s", tc.args, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("error does not say %q\n%s", w, out)
				}
			}
		})
	}
}

func hasFlag(args []string, flag string) bool {
	for _, a := range args {
		if a == flag {
			return true
		}
	}
	return false
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
