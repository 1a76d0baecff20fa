//go:build !unix

package generate

// openFlags: elsewhere the walk's check of each entry's type is the guard.
const openFlags = 0
