package yamlspec

import _ "embed"

// FileNames are the names of a spec file found without -f, in order.
var FileNames = []string{"promgen.yaml", "promgen.yml"}

// Starter is the commented spec of one service that promgen init writes.
//
//go:embed starter.yaml
var Starter []byte
