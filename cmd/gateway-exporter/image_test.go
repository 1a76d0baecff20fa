package main

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"go.yaml.in/yaml/v3"
)

// TestImageRunsAsNonRoot requires both of the exporter's images to run as
// a numeric user other than root (FROM scratch has no /etc/passwd to look
// a name up in, and a numeric USER lets Kubernetes' runAsNonRoot verify
// it), and the shipped compose file to give it the Docker socket's group
// with group_add rather than running it as root.
func TestImageRunsAsNonRoot(t *testing.T) {
	for _, file := range []string{"Dockerfile", "source.Dockerfile"} {
		stages := parseDockerfile(t, file).stages
		user := ""
		for _, c := range stages[len(stages)-1].Commands {
			if u, ok := c.(*instructions.UserCommand); ok {
				user = u.User
			}
		}
		if user == "" {
			t.Errorf("%s sets no USER: the exporter runs as root", file)
			continue
		}
		uid, gid, _ := strings.Cut(user, ":")
		for _, id := range []string{uid, gid} {
			if id == "" {
				continue
			}
			if n, err := strconv.Atoi(id); err != nil || n == 0 {
				t.Errorf("%s's USER %s: want a numeric, non-root uid[:gid]", file, user)
			}
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
