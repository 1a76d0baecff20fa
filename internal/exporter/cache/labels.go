package cache

import (
	"errors"
	"fmt"
)

// CheckLabels reports every allowlisted Docker label key that cannot be
// published: an empty key, and keys that LabelName maps onto one label
// name (the same key twice, or com.example.team beside com.example/team),
// which client_golang refuses as duplicate label names at the first
// scrape. The exporter calls it on its flags before it listens.
func CheckLabels(keys []string) []error {
	var errs []error
	byName := map[string]string{}
	for _, k := range keys {
		if k == "" {
			errs = append(errs, errors.New(`label key "" is empty`))
			continue
		}
		name := LabelName(k)
		if first, ok := byName[name]; ok {
			if first == k {
				errs = append(errs, fmt.Errorf("label key %q is given twice", k))
			} else {
				errs = append(errs, fmt.Errorf("label keys %q and %q are both published as %s", first, k, name))
			}
			continue
		}
		byName[name] = k
	}
	return errs
}
