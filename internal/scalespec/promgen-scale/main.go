// Command promgen-scale is promgen over scalespec's spec of $SERVICES
// services (1,000 unless set), a team's main like those of examples/: it
// times `promgen build` as a user runs it, from the start of the process,
// the builders that make the spec included.
//
//	go build -o /tmp/promgen-scale ./internal/scalespec/promgen-scale
//	time /tmp/promgen-scale build --out /dev/shm/scale
//
// The spec's base compose file is written to the temporary folder first;
// --compose-base defaults to it.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/sre-tools/promgen/cmd/promgen/commands"
	"github.com/sre-tools/promgen/internal/scalespec"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "promgen-scale:", err)
		os.Exit(1)
	}
}

func run() error {
	n := 1000
	if v := os.Getenv("SERVICES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			return fmt.Errorf("SERVICES=%q: want a number of services, at least 1", v)
		}
	}
	s, base := scalespec.New(n)
	basePath := filepath.Join(os.TempDir(), fmt.Sprintf("promgen-scale-%d.compose.yml", n))
	if err := os.WriteFile(basePath, base, 0o644); err != nil {
		return err
	}
	return commands.NewApp(commands.Config{
		Origin:      "scalespec/",
		Outputs:     []commands.Output{{Spec: s}},
		Out:         "generated-scale",
		ComposeBase: basePath,
	}).Run(os.Args)
}
