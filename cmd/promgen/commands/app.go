// Package commands is promgen's command line, importable so that another
// team can hand its own spec to the same CLI from a main of its own:
//
//	commands.NewApp(commands.Config{Origin: "alerts/", Outputs: []commands.Output{{Spec: mySpec}}}).Run(os.Args)
package commands

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/urfave/cli/v2"

	"github.com/sre-tools/promgen/internal/buildinfo"
	"github.com/sre-tools/promgen/internal/generate"
	"github.com/sre-tools/promgen/spec"
	"github.com/sre-tools/promgen/spec/yamlspec"
)

// Output is one spec and the folder under the output root it builds into
// ("" for the root itself), e.g. a test profile of the same spec.
type Output struct {
	Dir  string
	Spec spec.Spec
}

// Config is what the CLI builds from.
type Config struct {
	// Name is the command's name in help, errors and --version: a team's
	// wrapper names itself. Default "promgen".
	Name string
	// Origin names where the spec is written, for error messages, e.g. "rules/".
	Origin string
	// Outputs are the specs to build.
	Outputs []Output
	// Out is the default of --out, the output folder. Default "generated".
	Out string
	// ComposeBase is the default of --compose-base, the compose file the
	// fragments are validated over. Default "compose/docker-compose.yml".
	ComposeBase string

	// doc is the YAML spec the Outputs come from, which locates their
	// problems; nil for a Go spec.
	doc *yamlspec.Doc
}

func (c Config) name() string {
	if c.Name != "" {
		return c.Name
	}
	return "promgen"
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

// exitUsage is the exit status of every usage error: an unknown flag or
// command, a bad flag value.
const exitUsage = 2

// setEmpty refuses a flag among names given an empty value, as an unset
// variable in a script gives (-f "$SPEC"): it must not fall back to the
// default, nor write to the working folder.
func setEmpty(c *cli.Context, names ...string) error {
	for _, n := range names {
		if c.IsSet(n) && c.String(n) == "" {
			return cli.Exit(fmt.Sprintf("%s %s: --%s is empty", c.App.Name, c.Command.Name, n), exitUsage)
		}
	}
	return nil
}

// NewApp returns the promgen command line for cfg.
func NewApp(cfg Config) *cli.App {
	name := cfg.name()
	usageError := func(_ *cli.Context, err error, _ bool) error {
		return cli.Exit(name+": "+err.Error(), exitUsage)
	}
	app := &cli.App{
		Name: name,
		Usage: "build, from one spec (Go, or a YAML file), Prometheus rule files with the promtool tests that prove them, prometheus.yml, " +
			"alertmanager.yml with its notification templates and routing tests, Grafana dashboards, compose fragments and the Kubernetes target; lint rule files",
		HideHelpCommand: true,
		// --generate-bash-completion lists the candidates for the scripts
		// of the completion command.
		EnableBashCompletion: true,
		Commands:             []*cli.Command{buildCommand(cfg), lintCommand(cfg), initCommand(cfg), completionCommand(cfg)},
		OnUsageError:         usageError,
		CommandNotFound: func(c *cli.Context, command string) {
			fmt.Fprintf(c.App.ErrWriter, "%s: no command %q (commands: build, lint, init, completion)\n", name, command)
			cli.OsExiter(exitUsage)
		},
	}
	for _, c := range app.Commands {
		c.OnUsageError = usageError
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
