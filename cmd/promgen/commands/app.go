// Package commands is promgen's command line, importable so that another
// team can hand its own spec to the same CLI from a main of its own:
//
//	commands.NewApp(commands.Config{Origin: "alerts/", Outputs: []commands.Output{{Spec: mySpec}}}).Run(os.Args)
package commands

import (
	"os"
	"runtime/debug"

	"github.com/urfave/cli/v2"

	"github.com/sre-tools/promgen/internal/buildinfo"
	"github.com/sre-tools/promgen/internal/generate"
	"github.com/sre-tools/promgen/spec"
)

// Output is one spec and the folder under the output root it builds into
// ("" for the root itself), e.g. a test profile of the same spec.
type Output struct {
	Dir  string
	Spec spec.Spec
}

// Config is what the CLI builds from.
type Config struct {
	// Origin names where the spec is written, for error messages, e.g. "rules/".
	Origin string
	// Outputs are the specs to build.
	Outputs []Output
	// Out is the default of --out, the output folder. Default "generated".
	Out string
	// ComposeBase is the default of --compose-base, the compose file the
	// fragments are validated over. Default "compose/docker-compose.yml".
	ComposeBase string
}

func (c Config) out() string {
	if c.Out != "" {
		return c.Out
	}
	return "generated"
}

func (c Config) composeBase() string {
	if c.ComposeBase != "" {
		return c.ComposeBase
	}
	return "compose/docker-compose.yml"
}

func (c Config) targets() []generate.Target {
	out := make([]generate.Target, len(c.Outputs))
	for i, o := range c.Outputs {
		out[i] = generate.Target{Dir: o.Dir, Spec: o.Spec}
	}
	return out
}

// NewApp returns the promgen command line for cfg.
func NewApp(cfg Config) *cli.App {
	app := &cli.App{
		Name:            "promgen",
		Usage:           "build Prometheus alerting rules, promtool tests and compose fragments from a typed Go spec",
		HideHelpCommand: true,
		Commands:        []*cli.Command{buildCommand(cfg), lintCommand(cfg)},
	}
	app.Before = func(*cli.Context) error {
		// A build allocates about 2 MB per service (compose-go's loads,
		// lint, the dashboards' checks) and keeps little of it: collecting
		// less often makes a large build cheaper (docs/generate.md). GOGC,
		// when set, wins.
		if os.Getenv("GOGC") == "" {
			debug.SetGCPercent(400)
		}
		return nil
	}
	buildinfo.Apply(app)
	return app
}
