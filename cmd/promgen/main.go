// Command promgen builds alerting from a YAML spec (-f, or a promgen.yaml
// found from the working folder up; promgen init writes one), else from the
// inference gateway's spec in package rules: Prometheus rules with their
// promtool tests, prometheus.yml, alertmanager.yml, dashboards, compose
// fragments and the Kubernetes target.
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
