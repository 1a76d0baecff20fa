package lint

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
)

// WriteText writes one problem per line in the "file:line: severity check:
// message" form.
func WriteText(w io.Writer, ps []Problem) error {
	for _, p := range ps {
		if _, err := fmt.Fprintln(w, p); err != nil {
			return fmt.Errorf("write problems: %w", err)
		}
	}
	return nil
}

// WriteJSON writes the problems as one indented JSON array, empty but never
// null when there are none, so machines can always iterate it.
func WriteJSON(w io.Writer, ps []Problem) error {
	if ps == nil {
		ps = []Problem{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ps); err != nil {
		return fmt.Errorf("write problems as json: %w", err)
	}
	return nil
}

// WriteSARIF writes the problems as a SARIF 2.1.0 log, the format code
// scanning reads to annotate pull requests: one run of promgen-lint, a rule
// per check, a result per problem at its file and line.
func WriteSARIF(w io.Writer, ps []Problem) error {
	type (
		message struct {
			Text string `json:"text"`
		}
		artifact struct {
			URI string `json:"uri"`
		}
		region struct {
			StartLine int `json:"startLine"`
		}
		physical struct {
			ArtifactLocation artifact `json:"artifactLocation"`
			Region           *region  `json:"region,omitempty"`
		}
		location struct {
			PhysicalLocation physical `json:"physicalLocation"`
		}
		result struct {
			RuleID    string     `json:"ruleId"`
			Level     string     `json:"level"`
			Message   message    `json:"message"`
			Locations []location `json:"locations"`
		}
		rule struct {
			ID               string  `json:"id"`
			ShortDescription message `json:"shortDescription"`
		}
		driver struct {
			Name           string `json:"name"`
			InformationURI string `json:"informationUri"`
			Rules          []rule `json:"rules"`
		}
		tool struct {
			Driver driver `json:"driver"`
		}
		run struct {
			Tool    tool     `json:"tool"`
			Results []result `json:"results"`
		}
		log struct {
			Schema  string `json:"$schema"`
			Version string `json:"version"`
			Runs    []run  `json:"runs"`
		}
	)
	d := driver{Name: "promgen-lint", InformationURI: "https://github.com/sre-tools/promgen/blob/main/docs/lint.md"}
	for _, name := range append([]string{"parse", checkInput}, CheckNames()...) {
		d.Rules = append(d.Rules, rule{ID: name, ShortDescription: message{checkSummaries[name]}})
	}
	results := []result{}
	for _, p := range ps {
		level := map[Severity]string{SeverityError: "error", SeverityWarning: "warning", SeverityInfo: "note"}[p.Severity]
		loc := physical{ArtifactLocation: artifact{URI: filepath.ToSlash(p.Path)}}
		if p.Line > 0 {
			loc.Region = &region{StartLine: p.Line}
		}
		results = append(results, result{RuleID: p.Check, Level: level, Message: message{p.Message}, Locations: []location{{loc}}})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(log{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []run{{Tool: tool{Driver: d}, Results: results}},
	}); err != nil {
		return fmt.Errorf("write problems as sarif: %w", err)
	}
	return nil
}

// checkSummaries say in a line what each check catches, for SARIF's rule
// descriptions.
var checkSummaries = map[string]string{
	"parse":                 "The file is not a rule file Prometheus loads.",
	checkInput:              "The input cannot be read as rules at all.",
	"promql-syntax":         "The expression does not parse.",
	"required-labels":       "An alert lacks a label the conventions require, or has a value outside its set.",
	"required-annotations":  "An alert lacks an annotation the conventions require.",
	"alert-name":            "An alert name does not match the conventions' pattern.",
	"record-name":           "A recording rule name is not level:metric:operations.",
	"counter-functions":     "A counter or gauge is read with the wrong function, or a counter raw.",
	"rate-range":            "rate() and the like over a range shorter than two scrape intervals.",
	"retention-range":       "A range reaches back further than Prometheus keeps samples.",
	"rate-aggregation":      "rate() of an aggregate hides counter resets.",
	"alert-condition":       "An alert has no condition, so it fires all the time.",
	"impossible-comparison": "A comparison can never be true.",
	"template-labels":       "A template reads a label the expression removed.",
	"absent-labels":         "A template reads a label absent() does not return.",
	"volatile-labels":       "A label template reads data that changes between evaluations.",
	"duplicate-rules":       "Two rules have the same name and labels.",
	"unknown-metric":        "A metric no source knows.",
	"memory-limit":          "A memory ratio alert on a service without a memory limit.",
	"join-fallback":         "A join with another source silences the alert while that source is down.",
}
