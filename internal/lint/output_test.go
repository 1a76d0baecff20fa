package lint

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// spec is the service context of the testdata runs under the house
// policy: the gateway has a memory limit, the worker none.
var spec = Config{Services: []Service{
	{Name: "inference-gateway", Job: "inference-gateway", MemoryLimitBytes: 4 << 30},
	{Name: "worker", Job: "worker"},
}, Policy: HousePolicy()}

func readFiles(t *testing.T, paths ...string) []File {
	t.Helper()
	var files []File
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, File{Path: p, Content: b})
	}
	return files
}

func TestGoodRulesHaveNoProblems(t *testing.T) {
	ps := Lint(readFiles(t, "testdata/good.yml"), spec)
	for _, p := range ps {
		t.Error(p)
	}
}

func TestOutputMatchesGolden(t *testing.T) {
	ps := Lint(readFiles(t, "testdata/bad.yml", "testdata/broken.yml"), spec)
	for _, tc := range []struct {
		name   string
		golden string
		write  func(*bytes.Buffer) error
	}{
		{"text output lists one problem per line", "lint.txt", func(b *bytes.Buffer) error { return WriteText(b, ps) }},
		{"json output is an array of problems", "lint.json", func(b *bytes.Buffer) error { return WriteJSON(b, ps) }},
		{"json output of no problems is an empty array", "empty.json", func(b *bytes.Buffer) error { return WriteJSON(b, nil) }},
		{"sarif output is a SARIF 2.1.0 log with a rule per check and a result per problem", "lint.sarif", func(b *bytes.Buffer) error { return WriteSARIF(b, ps) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got bytes.Buffer
			if err := tc.write(&got); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tc.golden)
			if *update {
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s differs from the output (run go test -update after checking it):\ngot:\n%s\nwant:\n%s", path, got.Bytes(), want)
			}
		})
	}
}

// TestSARIFShape reads the SARIF log back as code scanning does: version,
// one run, results with a rule id among the driver's rules, a level SARIF
// knows, and a region only where the line is known.
func TestSARIFShape(t *testing.T) {
	ps := Lint(readFiles(t, "testdata/bad.yml", "testdata/broken.yml"), spec)
	ps = append(ps, Problem{Path: "x.yml", Severity: SeverityInfo, Check: "counter-functions", Message: "m"})
	var b bytes.Buffer
	if err := WriteSARIF(&b, ps); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Rules []struct{ ID string } `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation struct {
						Region *struct{ StartLine int } `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Results) != len(ps) {
		t.Fatalf("version %q, %d runs, want 2.1.0 and one run with %d results", log.Version, len(log.Runs), len(ps))
	}
	rules := map[string]bool{}
	for _, r := range log.Runs[0].Tool.Driver.Rules {
		rules[r.ID] = true
	}
	for i, r := range log.Runs[0].Results {
		if !rules[r.RuleID] {
			t.Errorf("result %d: rule %q is not among the driver's rules", i, r.RuleID)
		}
		if want := map[Severity]string{SeverityError: "error", SeverityWarning: "warning", SeverityInfo: "note"}[ps[i].Severity]; r.Level != want {
			t.Errorf("result %d: level %q, want %q", i, r.Level, want)
		}
		region := r.Locations[0].PhysicalLocation.Region
		if (region == nil) != (ps[i].Line == 0) || region != nil && region.StartLine != ps[i].Line {
			t.Errorf("result %d: region %+v for line %d", i, region, ps[i].Line)
		}
	}
}
