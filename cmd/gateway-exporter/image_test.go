package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestImageRunsAsNonRoot requires the exporter's image to run as a numeric
// user other than root (FROM scratch has no /etc/passwd to look a name up
// in, and a numeric USER lets Kubernetes' runAsNonRoot verify it), and the
// shipped compose file to give it the Docker socket's group with group_add
// rather than running it as root.
func TestImageRunsAsNonRoot(t *testing.T) {
	f, err := os.Open("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	user := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 2 && strings.EqualFold(fields[0], "USER") {
			user = fields[1]
		}
	}
	if user == "" {
		t.Fatal("Dockerfile sets no USER: the exporter runs as root")
	}
	uid, gid, _ := strings.Cut(user, ":")
	for _, id := range []string{uid, gid} {
		if id == "" {
			continue
		}
		if n, err := strconv.Atoi(id); err != nil || n == 0 {
			t.Errorf("Dockerfile's USER %s: want a numeric, non-root uid[:gid]", user)
		}
	}

	b, err := os.ReadFile("../../compose/docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]struct {
			User     string   `yaml:"user"`
			GroupAdd []string `yaml:"group_add"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	svc, ok := doc.Services["gateway-exporter"]
	if !ok {
		t.Fatal("compose/docker-compose.yml has no gateway-exporter service")
	}
	if u, _, _ := strings.Cut(svc.User, ":"); u == "root" || u == "0" {
		t.Errorf("compose runs gateway-exporter as user %q", svc.User)
	}
	if len(svc.GroupAdd) == 0 {
		t.Errorf("compose gives gateway-exporter no group_add: as a non-root user it cannot open the Docker socket")
	}
}
