package deps

import (
	_ "github.com/compose-spec/compose-go/v2/loader"
	_ "github.com/google/cadvisor/client/v2"
	_ "github.com/google/cadvisor/info/v2"
	_ "github.com/moby/moby/client"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/testutil"
	_ "github.com/prometheus/exporter-toolkit/web"
	_ "github.com/prometheus/prometheus/model/rulefmt"
	_ "github.com/prometheus/prometheus/promql/parser"
	_ "github.com/urfave/cli/v2"
	_ "gopkg.in/yaml.v3"
)
