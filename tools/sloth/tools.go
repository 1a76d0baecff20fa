//go:build tools

// Package tools pins Sloth's main package so `go mod tidy` keeps it.
package tools

import _ "github.com/slok/sloth/cmd/sloth"
