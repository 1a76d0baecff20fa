//go:build linux

package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// Dockerd is a private Docker daemon for a test that stops and restarts
// it: its own data root, exec root, pid file and socket keep the shared
// engine and the tests using it undisturbed. It runs with --live-restore,
// so that its containers keep running while it is down, and, like
// scripts/dockerd.sh, without touching the host's network.
type Dockerd struct {
	t                   testing.TB
	dir, dataRoot, Host string
	cmd                 *exec.Cmd
	log                 *os.File
	args                []string
}

// StartDockerd starts a private daemon and stops it, with everything it
// ran, when the test ends. It needs root and dockerd on PATH; without them
// the test is skipped under -short and fails otherwise. args are further
// dockerd flags, such as another -H listener.
func StartDockerd(t testing.TB, args ...string) *Dockerd {
	t.Helper()
	if testing.Short() {
		t.Skip("needs to run a Docker daemon; skipped under -short")
	}
	if os.Geteuid() != 0 {
		t.Fatal("a private Docker daemon needs root")
	}
	if _, err := exec.LookPath("dockerd"); err != nil {
		t.Fatal("dockerd not found (scripts/dockerd.sh start installs it)")
	}
	suffix := make([]byte, 4)
	rand.Read(suffix)
	id := hex.EncodeToString(suffix)
	// The exec root holds containerd's socket: keep its path short.
	d := &Dockerd{t: t, dir: "/tmp/gwd" + id, dataRoot: "/var/lib/promgen-test-dockerd-" + id, args: args}
	d.Host = "unix://" + filepath.Join(d.dir, "docker.sock")
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(d.dir, "dockerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	d.log = log
	t.Cleanup(d.cleanup)
	d.Start()
	return d
}

// Client returns a client of the private daemon.
func (d *Dockerd) Client() *client.Client {
	d.t.Helper()
	cli, err := client.New(client.FromEnv, client.WithHost(d.Host))
	if err != nil {
		d.t.Fatalf("client of %s: %v", d.Host, err)
	}
	d.t.Cleanup(func() { cli.Close() })
	return cli
}

// Start starts the daemon and waits until it answers.
func (d *Dockerd) Start() {
	d.t.Helper()
	d.cmd = exec.Command("dockerd", append([]string{
		"--data-root", d.dataRoot, "--exec-root", filepath.Join(d.dir, "exec"),
		"--pidfile", filepath.Join(d.dir, "dockerd.pid"), "-H", d.Host,
		"--iptables=false", "--ip6tables=false", "--bridge=none", "--live-restore"}, d.args...)...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		d.t.Fatalf("start dockerd: %v", err)
	}
	cli, err := client.New(client.WithHost(d.Host))
	if err != nil {
		d.t.Fatal(err)
	}
	defer cli.Close()
	for deadline := time.Now().Add(60 * time.Second); ; {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(d.log.Name())
			d.t.Fatalf("private dockerd did not answer at %s: %v\n%s", d.Host, err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Stop stops the daemon; with --live-restore its containers keep running.
func (d *Dockerd) Stop() {
	d.t.Helper()
	if d.cmd == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		d.cmd.Process.Kill()
		<-done
	}
	d.cmd = nil
}

// cleanup removes every container of the daemon, stops it, and removes its
// directories (dockerd bind-mounts its data root onto itself).
func (d *Dockerd) cleanup() {
	if d.cmd != nil {
		if cli, err := client.New(client.WithHost(d.Host)); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true}); err == nil {
				for _, c := range list.Items {
					cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true})
				}
			}
			cancel()
			cli.Close()
		}
		d.Stop()
	}
	d.log.Close()
	syscall.Unmount(d.dataRoot, syscall.MNT_DETACH)
	if err := os.RemoveAll(d.dataRoot); err != nil {
		d.t.Logf("remove %s: %v", d.dataRoot, err)
	}
	os.RemoveAll(d.dir)
}
