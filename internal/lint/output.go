package lint

import (
	"encoding/json"
	"fmt"
	"io"
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
