package testenv

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// StartTLSExporter runs the gateway-exporter binary bin at addr (on
// 127.0.0.1: FreeAddr gives one) behind a web config demanding TLS with a
// client certificate of pki and basic auth as user, reading the daemon at
// dockerHost, and returns once it answers a client with both and refuses
// one without a certificate or without the password: a scrape that is up
// then proves both were sent.
func StartTLSExporter(t testing.TB, bin, addr string, pki PKI, dockerHost, user, password string) {
	t.Helper()
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	web := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(web, fmt.Appendf(nil, `tls_server_config:
  cert_file: %s
  key_file: %s
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: %s
basic_auth_users:
  %s: %s
`, pki.ServerCert, pki.ServerKey, pki.CA, user, hash), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--docker.host="+dockerHost, "--cadvisor.url=", "--web.listen-address="+addr, "--web.config.file="+web)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	pool := x509.NewCertPool()
	ca, err := os.ReadFile(pki.CA)
	if err != nil {
		t.Fatal(err)
	}
	pool.AppendCertsFromPEM(ca)
	cert, err := tls.LoadX509KeyPair(pki.ClientCert, pki.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	with := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}}}
	without := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	url := "https://" + addr + "/metrics"
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		req, _ := http.NewRequest("GET", url, nil)
		req.SetBasicAuth(user, password)
		resp, err := with.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
			err = fmt.Errorf("%s", resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway-exporter at %s not serving over TLS within 30s: %v\n%s", addr, err, log.String())
		}
	}
	if resp, err := without.Get(url); err == nil {
		resp.Body.Close()
		t.Fatalf("gateway-exporter answered a client without a certificate (%s): its web config is not in force", resp.Status)
	}
	resp, err := with.Get(url)
	if err != nil {
		t.Fatalf("gateway-exporter refused a client with a certificate but no basic auth: %v; want 401 Unauthorized", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("gateway-exporter answered a client without basic auth with %s; want 401 Unauthorized: its basic_auth_users are not in force", resp.Status)
	}
}

// FreeAddr is a free port on 127.0.0.1.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
