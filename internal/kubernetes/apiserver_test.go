//go:build kubeapi

// Built only by `make kube-dry-run` (-tags kubeapi): kube-apiserver takes
// 10-15 minutes to build, more than CI's budget allows, so the test is an
// explicit target rather than a skip inside go test ./...

package kubernetes_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/sre-tools/promgen/internal/testenv"
)

// The committed Kubernetes manifests against a real kube-apiserver (with
// its etcd), with server-side dry-run and strict field validation: the
// Operator's CRD is installed, every PrometheusRule is created with
// dryRun=All, and every Deployment patch is applied with dryRun=All as a
// strategic merge onto a Deployment of the same name, so the API server's
// own validation of the merged Deployment (probes, resources, names) runs.
// kube-apiserver and etcd are built by scripts/tools.sh from the Go module
// proxy (docs/kubernetes.md).

var (
	crdGVR        = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	ruleGVR       = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "prometheusrules"}
	deploymentGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	namespaceGVR  = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
)

func TestTheManifestsPassARealAPIServersDryRun(t *testing.T) {
	apiserver, etcd := testenv.Tool(t, "KUBE_APISERVER", "kube-apiserver"), testenv.Tool(t, "ETCD", "etcd")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	client := startAPIServer(t, ctx, apiserver, etcd)

	crd := decodeFile(t, "crd/monitoring.coreos.com_prometheusrules.yaml")
	if _, err := client.Resource(crdGVR).Create(ctx, crd, metav1.CreateOptions{FieldValidation: "Strict"}); err != nil {
		t.Fatalf("install the Operator's CRD: %v", err)
	}
	waitFor(t, ctx, "the PrometheusRule CRD to be served", func() error {
		_, err := client.Resource(ruleGVR).Namespace("default").List(ctx, metav1.ListOptions{})
		return err
	})

	// The committed Kubernetes targets: the gateway's and the examples'.
	examples, _ := filepath.Glob("../../examples/*/generated/kubernetes")
	if len(examples) == 0 {
		t.Fatal("no example builds a Kubernetes target")
	}
	dryRun := []string{metav1.DryRunAll}
	for _, dir := range append([]string{"../../generated/kubernetes"}, examples...) {
		rules, _ := filepath.Glob(filepath.Join(dir, "prometheusrules", "*.yaml"))
		patches, _ := filepath.Glob(filepath.Join(dir, "deployments", "*.yaml"))
		if len(rules) == 0 || len(patches) == 0 {
			t.Fatalf("%s holds no PrometheusRule or no patch", dir)
		}
		for _, p := range rules {
			obj := decodeFile(t, p)
			ensureNamespace(t, ctx, client, obj.GetNamespace())
			if _, err := client.Resource(ruleGVR).Namespace(obj.GetNamespace()).Create(ctx, obj, metav1.CreateOptions{DryRun: dryRun, FieldValidation: "Strict"}); err != nil {
				t.Errorf("%s: the API server refuses it: %v", p, err)
			}
		}
		for _, p := range patches {
			patch := decodeFile(t, p)
			ns, name := patch.GetNamespace(), patch.GetName()
			ensureNamespace(t, ctx, client, ns)
			createDeployment(t, ctx, client, ns, name, containerName(t, patch))
			body, err := patch.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			merged, err := client.Resource(deploymentGVR).Namespace(ns).Patch(ctx, name, types.StrategicMergePatchType, body,
				metav1.PatchOptions{DryRun: dryRun, FieldValidation: "Strict"})
			if err != nil {
				t.Errorf("%s: the API server refuses the patch: %v", p, err)
				continue
			}
			cs, _, _ := unstructured.NestedSlice(merged.Object, "spec", "template", "spec", "containers")
			if len(cs) != 1 || !strings.Contains(fmt.Sprint(cs[0]), "livenessProbe") || !strings.Contains(fmt.Sprint(cs[0]), "registry.example.com/app:1") {
				t.Errorf("%s: the merged container is not the Deployment's with the patch's probes: %v", p, cs)
			}
		}
	}

	// The dry-run is not a rubber stamp: a memory request above the limit
	// is refused by the API server's own Deployment validation.
	createDeployment(t, ctx, client, "default", "refused", "app")
	bad := `{"spec":{"template":{"spec":{"containers":[{"name":"app","resources":{"limits":{"memory":"1Gi"},"requests":{"memory":"2Gi"}}}]}}}}`
	_, err := client.Resource(deploymentGVR).Namespace("default").Patch(ctx, "refused", types.StrategicMergePatchType, []byte(bad), metav1.PatchOptions{DryRun: dryRun})
	if !apierrors.IsInvalid(err) {
		t.Errorf("a request above the limit: got %v, want Invalid", err)
	}
}

// startAPIServer runs etcd and kube-apiserver on loopback, with one static
// token allowed everything, and returns a client once it serves.
func startAPIServer(t *testing.T, ctx context.Context, apiserver, etcd string) *dynamic.DynamicClient {
	dir := t.TempDir()
	etcdClient, etcdPeer, port := freePort(t), freePort(t), freePort(t)
	start(t, ctx, etcd, "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", "http://127.0.0.1:"+etcdClient, "--advertise-client-urls", "http://127.0.0.1:"+etcdClient,
		"--listen-peer-urls", "http://127.0.0.1:"+etcdPeer, "--initial-advertise-peer-urls", "http://127.0.0.1:"+etcdPeer,
		"--initial-cluster", "default=http://127.0.0.1:"+etcdPeer, "--log-level", "error")

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "sa.key")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokenFile, []byte(`promgen-dry-run,promgen,promgen,"system:masters"`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, ctx, apiserver, "--etcd-servers", "http://127.0.0.1:"+etcdClient,
		"--bind-address", "127.0.0.1", "--secure-port", port, "--cert-dir", filepath.Join(dir, "certs"),
		"--authorization-mode", "AlwaysAllow", "--token-auth-file", tokenFile,
		"--service-account-issuer", "https://kubernetes.default.svc", "--service-account-key-file", keyFile,
		"--service-account-signing-key-file", keyFile, "--service-cluster-ip-range", "10.0.0.0/24",
		"--disable-admission-plugins", "ServiceAccount")

	cfg := &rest.Config{Host: "https://127.0.0.1:" + port, BearerToken: "promgen-dry-run", TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "kube-apiserver to serve the default namespace", func() error {
		_, err := client.Resource(namespaceGVR).Get(ctx, "default", metav1.GetOptions{})
		return err
	})
	return client
}

func start(t *testing.T, ctx context.Context, bin string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	log, err := os.Create(filepath.Join(t.TempDir(), filepath.Base(bin)+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("%s log (tail):\n%s", filepath.Base(bin), b)
		}
	})
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

func waitFor(t *testing.T, ctx context.Context, what string, try func() error) {
	t.Helper()
	var err error
	for ctx.Err() == nil {
		if err = try(); err == nil {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("waiting for %s: %v", what, err)
}

func decodeFile(t *testing.T, path string) *unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(js); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return obj
}

func ensureNamespace(t *testing.T, ctx context.Context, client *dynamic.DynamicClient, ns string) {
	t.Helper()
	obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}
	if _, err := client.Resource(namespaceGVR).Create(ctx, obj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("namespace %s: %v", ns, err)
	}
}

// createDeployment creates the team's Deployment the patch applies to: an
// image and a selector, nothing the patch sets.
func createDeployment(t *testing.T, ctx context.Context, client *dynamic.DynamicClient, ns, name, container string) {
	t.Helper()
	labels := map[string]any{"app": name}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{
			"selector": map[string]any{"matchLabels": labels},
			"template": map[string]any{
				"metadata": map[string]any{"labels": labels},
				"spec":     map[string]any{"containers": []any{map[string]any{"name": container, "image": "registry.example.com/app:1"}}},
			},
		},
	}}
	if _, err := client.Resource(deploymentGVR).Namespace(ns).Create(ctx, obj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("deployment %s/%s: %v", ns, name, err)
	}
}

func containerName(t *testing.T, patch *unstructured.Unstructured) string {
	t.Helper()
	cs, _, _ := unstructured.NestedSlice(patch.Object, "spec", "template", "spec", "containers")
	if len(cs) != 1 {
		t.Fatalf("patch %s has %d containers", patch.GetName(), len(cs))
	}
	name, _, _ := unstructured.NestedString(cs[0].(map[string]any), "name")
	return name
}
