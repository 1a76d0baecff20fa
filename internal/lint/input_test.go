package lint

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/prometheus/prometheus/promql/parser/posrange"

	"github.com/sre-tools/promgen/internal/rulecheck"
)

func TestPrometheusRuleManifests(t *testing.T) {
	runCases(t, "counter-functions", []lintCase{
		{
			name: "every PrometheusRule of a multi-document manifest is linted at the manifest's lines, other objects ignored",
			in: `apiVersion: v1
kind: ConfigMap
metadata: {name: x}
data:
  rules: |
    groups: []
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: a
spec:
  groups:
    - name: a
      rules:
        - alert: A
          expr: >
            rate(up[5m])
            > 0
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: b
spec:
  groups:
  - name: a
    rules:
    - alert: B
      expr: rate(up[5m]) > 0
`,
			want: []string{
				`rules.yml:18: error counter-functions: alert "A": rate() on "up", which is a gauge: rate only makes sense on counters; use delta() or deriv() for a gauge's change`,
				`rules.yml:30: error counter-functions: alert "B": rate() on "up", which is a gauge: rate only makes sense on counters; use delta() or deriv() for a gauge's change`,
			},
		},
	})
}

func TestInputErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"a file that is not YAML is an input error, its line named by yaml's message",
			"groups:\n- name: g\n  rules: [\n", `rules.yml:3: error parse: did not find expected node content`},
		{"a PrometheusRule without spec.groups is an input error at the object",
			"apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: empty\nspec: {}\n",
			`rules.yml:1: error input: PrometheusRule "empty" has no spec.groups`},
		{"YAML that is no rule file is an input error",
			"route:\n  receiver: x\n", `rules.yml:1: error input: not a rule file: no groups, and not a PrometheusRule with spec.groups`},
		{"a comment naming an unknown check is an input error at its line",
			"groups:\n- name: g\n  rules:\n  # promgen-lint disable no-such-check\n  - alert: A\n    expr: up == 0\n",
			`rules.yml:4: error input: promgen-lint comment: unknown check "no-such-check" (known: all, ` + joinedChecks() + `)`},
		{"a promgen-lint comment that is not a disable is an input error",
			"groups: []\n# promgen-lint enable all\n",
			`rules.yml:2: error input: promgen-lint comment "# promgen-lint enable all": want "# promgen-lint disable CHECK" or "# promgen-lint file/disable CHECK"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := Lint([]File{{Path: "rules.yml", Content: []byte(tc.in)}}, Config{})
			var got []string
			for _, p := range ps {
				got = append(got, p.String())
			}
			if !slices.Contains(got, tc.want) || !HasInputErrors(ps) {
				t.Errorf("got %q (input error: %v), want %q among them", got, HasInputErrors(ps), tc.want)
			}
		})
	}
	t.Run("findings alone are no input error", func(t *testing.T) {
		ps := Lint([]File{{Path: "rules.yml", Content: []byte("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up > 1\n")}}, Config{})
		if len(ps) == 0 || HasInputErrors(ps) {
			t.Errorf("got %v", ps)
		}
	})
}

func joinedChecks() string {
	out := ""
	for i, n := range CheckNames() {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}

func TestReadInputs(t *testing.T) {
	dir := t.TempDir()
	write := func(path, content string) {
		t.Helper()
		p := filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yml", "groups: []\n")
	write("sub/b.yaml", "groups: []\n")
	write("sub/deeper/c.rules.yml", "groups: []\n")
	write("sub/kustomization.yaml", "resources: [x.yaml]\n")
	write("sub/notes.txt", "groups:\n")
	write(".hidden/d.yml", "groups: []\n")
	write("k8s/rule.yaml", "kind: PrometheusRule\n")
	write("k8s/crd.yaml", "kind: CustomResourceDefinition\nspec:\n  names: {kind: PrometheusRule}\n  properties:\n    groups: {}\n")
	paths := func(files []File) []string {
		var out []string
		for _, f := range files {
			rel, _ := filepath.Rel(dir, f.Path)
			out = append(out, filepath.ToSlash(rel))
		}
		return out
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"a folder is read recursively, YAML with rules only, hidden folders skipped",
			[]string{dir}, []string{"a.yml", "k8s/crd.yaml", "k8s/rule.yaml", "sub/b.yaml", "sub/deeper/c.rules.yml"}},
		{"a ** glob matches at any depth", []string{dir + "/**/*.rules.yml"}, []string{"sub/deeper/c.rules.yml"}},
		{"a * glob stays in its folder", []string{dir + "/sub/*.yaml"}, []string{"sub/b.yaml"}},
		{"a file named on its own is read even without rules, once", []string{dir + "/sub/kustomization.yaml", dir + "/sub/kustomization.yaml"}, []string{"sub/kustomization.yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files, err := ReadInputs(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if got := paths(files); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("a found file that holds no rules is skipped quietly, a named one is an input error", func(t *testing.T) {
		found, err := ReadInputs([]string{dir + "/k8s/crd*.yaml"})
		if err != nil {
			t.Fatal(err)
		}
		if ps := Lint(found, Config{}); HasInputErrors(ps) {
			t.Errorf("found files: %v", ps)
		}
		named, err := ReadInputs([]string{dir + "/k8s/crd.yaml"})
		if err != nil {
			t.Fatal(err)
		}
		if ps := Lint(named, Config{}); !HasInputErrors(ps) {
			t.Errorf("named file: %v", ps)
		}
	})
	t.Run("a glob that matches nothing is an error", func(t *testing.T) {
		if _, err := ReadInputs([]string{dir + "/nothing/*.yml"}); err == nil {
			t.Error("no error")
		}
	})
	t.Run("a folder that holds no rule file is an error, as a glob that matches nothing", func(t *testing.T) {
		// A typo'd or empty folder in CI must not pass as "linted, clean".
		empty := filepath.Join(dir, "empty")
		if err := os.Mkdir(empty, 0o755); err != nil {
			t.Fatal(err)
		}
		write("docs/README.yaml", "title: no rules here\n")
		for _, arg := range []string{empty, filepath.Join(dir, "docs")} {
			_, err := ReadInputs([]string{dir + "/a.yml", arg})
			if err == nil || !strings.Contains(err.Error(), arg+": no rule files") {
				t.Errorf("%s: error %v, want it to say the folder holds no rule files", arg, err)
			}
		}
	})
	t.Run("a folder's or glob's FIFO, socket or symlinked folder named .yml is not a file: skipped, never read", func(t *testing.T) {
		// Reading a FIFO blocks until a writer comes: lint would hang in CI.
		odd := filepath.Join(dir, "odd")
		write("odd/r.yml", "groups: []\n")
		if err := syscall.Mkfifo(filepath.Join(odd, "pipe.yml"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(dir, "sub"), filepath.Join(odd, "linked.yml")); err != nil {
			t.Fatal(err)
		}
		for _, arg := range []string{odd, odd + "/*.yml", dir + "/odd/**/*.yml"} {
			files, err := ReadInputs([]string{arg})
			if err != nil {
				t.Fatalf("%s: %v", arg, err)
			}
			if got := paths(files); !slices.Equal(got, []string{"odd/r.yml"}) {
				t.Errorf("%s: got %q, want the regular file only", arg, got)
			}
		}
	})
	t.Run("a missing file is an error", func(t *testing.T) {
		if _, err := ReadInputs([]string{dir + "/missing.yml"}); err == nil {
			t.Error("no error")
		}
	})
}

// TestLinesAreLocatedOnlyWhenAsked: a valid rule file is read into
// rulefmt's types alone, and its YAML nodes are decoded the first time a
// line is needed, with the lines a decoding up front gave.
func TestLinesAreLocatedOnlyWhenAsked(t *testing.T) {
	src := "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: |\n          up\n            == 0\n        labels:\n          severity: page\n"
	rfs, ps := parseFile(File{Path: "r.yml", Content: []byte(src)}, &rulecheck.Checker{})
	if len(ps) > 0 || len(rfs) != 1 {
		t.Fatalf("%v %v", rfs, ps)
	}
	rf := rfs[0]
	if rf.pos != nil {
		t.Fatal("the file's YAML nodes were decoded before a line was asked for")
	}
	r := &rf.Groups[0].Rules[0]
	if got := []int{r.Line(), r.LabelLine("severity"), r.ExprLine(0), r.ExprLine(posrange.Pos(len("up\n  ")))}; !slices.Equal(got, []int{4, 9, 6, 7}) {
		t.Errorf("rule, label and expression lines %v, want [4 9 6 7]", got)
	}
}

// TestARunWithoutProblemsLocatesNothing: every check reads the rules of a
// clean file (templates, joins, labels), and none decodes its YAML nodes
// for lines it does not report.
func TestARunWithoutProblemsLocatesNothing(t *testing.T) {
	clean := "groups:\n  - name: api\n    labels:\n      service: api\n    rules:\n" +
		"      - alert: ApiDown\n        expr: up{job=\"api\"} == 0\n        for: 1m\n" +
		"        labels:\n          severity: critical\n" +
		"        annotations:\n          summary: '{{ $labels.instance }} of {{ $labels.job }} is down'\n" +
		"          description: 'Prometheus cannot scrape {{ $labels.instance }}.'\n          runbook_url: https://runbooks.example.com/api\n"
	for _, pol := range []*Policy{DefaultPolicy(), HousePolicy()} {
		before := located.Load()
		if ps := Lint([]File{{Path: "api.rules.yml", Content: []byte(clean)}}, Config{Policy: pol, Services: []Service{{Name: "api", Job: "api"}}}); len(ps) > 0 {
			t.Fatalf("the clean file has problems: %v", ps)
		}
		if n := located.Load() - before; n != 0 {
			t.Errorf("%d files were located for a run without problems", n)
		}
	}
}
