// Package buildinfo gives promgen's commands one version output: the
// Prometheus ecosystem's (prometheus/common/version), which `make build`
// stamps and Go's own build information completes.
package buildinfo

import (
	"fmt"
	"runtime/debug"

	"github.com/prometheus/common/version"
	"github.com/urfave/cli/v2"
)

// Apply sets app's --version to print the build information, as
// `<name>, version <v> (branch: <b>, revision: <r>)` and the build context.
// A binary built without `make build`'s stamp reports its module version
// (e.g. from `go install ...@v1.2.3`, or "(devel)").
func Apply(app *cli.App) {
	if version.Version == "" {
		version.Version = "unknown"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			version.Version = bi.Main.Version
		}
	}
	app.Version = version.Version
	cli.VersionPrinter = func(c *cli.Context) {
		fmt.Fprintln(c.App.Writer, version.Print(c.App.Name))
	}
}
