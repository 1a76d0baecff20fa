package rules

import (
	mrand "math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/spec"
)

// TestPodPatternIsTheDeploymentsPodsOnly names pods as Kubernetes' own
// generators do (apimachinery's rand: the ReplicaSet's pod-template hash
// is SafeEncodeString of a uint32, a pod's suffix String(5)) and checks
// that the pattern the alerts select pods by takes the Deployment's and
// leaves a Job's, a CronJob's and another Deployment's.
func TestPodPatternIsTheDeploymentsPodsOnly(t *testing.T) {
	seen := map[rune]bool{}
	for _, r := range rand.String(5000) {
		seen[r] = true
	}
	for _, r := range catalog.KubeNameChars {
		delete(seen, r)
	}
	if len(seen) > 0 || len(catalog.KubeNameChars) != 27 {
		t.Fatalf("catalog.KubeNameChars %q is not apimachinery's alphabet: it lacks %v", catalog.KubeNameChars, seen)
	}

	k := Kube{W: spec.Workload{Deployment: "inference-gateway"}}
	re := regexp.MustCompile("^(?:" + k.podPattern() + ")$")
	hash := func() string { return rand.SafeEncodeString(strconv.FormatUint(uint64(mrand.Uint32()), 10)) }
	for range 2000 {
		name := "inference-gateway-" + hash() + "-" + rand.String(5)
		if !re.MatchString(name) {
			t.Fatalf("the Deployment's pod %s is not matched by %s", name, k.podPattern())
		}
	}
	for _, name := range []string{
		"inference-gateway-migrate-" + rand.String(5),               // a Job <deployment>-migrate (a Helm hook)
		"inference-gateway-" + rand.String(5),                       // a Job or DaemonSet named after the Deployment
		"inference-gateway-canary-" + hash() + "-" + rand.String(5), // Deployment inference-gateway-canary
		"inference-gateway-nightly-29012345-" + rand.String(5),      // CronJob inference-gateway-nightly
		"inference-gateway-0",                                       // a StatefulSet's pod
		strings.ToUpper("inference-gateway-") + hash() + "-" + rand.String(5),
	} {
		if re.MatchString(name) {
			t.Errorf("%s is not a pod of Deployment inference-gateway, but %s matches it", name, k.podPattern())
		}
	}
}
