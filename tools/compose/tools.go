//go:build tools

// Package tools pins docker compose's main package so `go mod tidy` keeps it.
package tools

import _ "github.com/docker/compose/v2/cmd"
