// Command promgen builds the inference gateway's alerting from its spec in
// package rules: Prometheus rules, promtool tests and compose fragments.
package main

import (
	"fmt"
	"os"

	"github.com/sre-tools/promgen/cmd/promgen/commands"
	"github.com/sre-tools/promgen/rules"
)

func main() {
	cfg := commands.Config{Origin: "rules/"}
	for _, p := range rules.Profiles {
		dir := p.Name
		if p.Name == rules.Production.Name {
			dir = ""
		}
		cfg.Outputs = append(cfg.Outputs, commands.Output{Dir: dir, Spec: rules.Spec(p)})
	}
	if err := commands.NewApp(cfg).Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "promgen:", err)
		os.Exit(1)
	}
}
