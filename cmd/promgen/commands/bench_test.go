package commands

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sre-tools/promgen/internal/scalespec"
)

// BenchmarkBuildCommand runs `promgen build` as a user does, on scalespec's
// spec of 10, 100 and 1,000 services: build every artifact, lint the rule
// files, and write the output folder. It reports the process's CPU time
// per build beside the wall time (cpu-ms/op), as BenchmarkBuild in
// internal/generate does, and runs with the CLI's GOGC. The figures go in
// docs/generate.md.
func BenchmarkBuildCommand(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			s, baseFile := scalespec.New(n)
			dir := b.TempDir()
			base := filepath.Join(dir, "docker-compose.yml")
			if err := os.WriteFile(base, baseFile, 0o644); err != nil {
				b.Fatal(err)
			}
			out := filepath.Join(dir, "generated")
			app := NewApp(Config{Origin: "scalespec/", Outputs: []Output{{Spec: s}}})
			var log bytes.Buffer
			app.Writer, app.ErrWriter = &log, &log
			app.ExitErrHandler = func(*cli.Context, error) {}
			b.ReportAllocs()
			start := cpuTime(b)
			for b.Loop() {
				log.Reset()
				if err := app.Run([]string{"promgen", "build", "--out", out, "--compose-base", base}); err != nil {
					b.Fatalf("%v\n%s", err, log.String())
				}
			}
			b.ReportMetric(float64((cpuTime(b)-start).Milliseconds())/float64(b.N), "cpu-ms/op")
			if want := fmt.Sprintf("wrote %d files to %s\n", 4*n+3, out); log.String() != want {
				b.Fatalf("got %q, want %q", log.String(), want)
			}
		})
	}
}

// cpuTime is scalespec.CPUTime, failing the benchmark on an error.
func cpuTime(tb testing.TB) time.Duration {
	d, err := scalespec.CPUTime()
	if err != nil {
		tb.Fatal(err)
	}
	return d
}
