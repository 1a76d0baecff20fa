package rules

import "fmt"

// queried renders an annotation fragment from a PromQL query run when the
// alert fires: format is a PromQL format string taking one label value via
// printf (%q), label the $labels field, pipe the template functions applied
// to the value, unit what follows the value, and fallback what to print
// when the query is empty.
func queried(format, label, pipe, unit, fallback string) string {
	if pipe != "" {
		pipe = " | " + pipe
	}
	return fmt.Sprintf("{{ with printf `%s` $labels.%s | query }}{{ . | first | value%s }}%s{{ else }}%s{{ end }}", format, label, pipe, unit, fallback)
}

// queriedBy is queried with a query that takes several label values, in
// order, e.g. a container's name and host.
func queriedBy(format string, labels []string, pipe, unit, fallback string) string {
	if pipe != "" {
		pipe = " | " + pipe
	}
	args := ""
	for _, l := range labels {
		args += " $labels." + l
	}
	return fmt.Sprintf("{{ with printf `%s`%s | query }}{{ . | first | value%s }}%s{{ else }}%s{{ end }}", format, args, pipe, unit, fallback)
}
