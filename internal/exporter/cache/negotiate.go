package cache

import (
	"net/http"
	"strings"
)

// coding is a response's content coding.
type coding int

const (
	codingIdentity coding = iota
	codingGzip
	codingRefused // neither coding is acceptable: 406
)

// negotiateEncoding picks the response's content coding from the request's
// Accept-Encoding fields as RFC 9110 section 12.5.3 says:
//   - no field: any coding is acceptable; identity, which any client reads,
//     is sent;
//   - a coding listed with q=0 is refused; * stands for every coding not
//     listed; "x-gzip" is gzip (section 8.4.1.3); names are case-insensitive;
//   - identity is acceptable unless refused by "identity;q=0", or by
//     "*;q=0" without identity listed; an empty field asks for identity;
//   - of the acceptable codings the one with the highest q is sent; gzip
//     wins a tie, and identity only implied (not listed) ranks below any
//     gzip q > 0.
//
// An element that does not parse (a q outside 0 to 1, say) is ignored, so a
// malformed field costs compression at worst, never the scrape.
func negotiateEncoding(h http.Header) coding {
	fields, present := h["Accept-Encoding"]
	if !present {
		return codingIdentity
	}
	// q in thousandths; -1 while a coding is not listed.
	gz, id, star := -1, -1, -1
	for _, field := range fields {
		for elem := range strings.SplitSeq(field, ",") {
			name, q, ok := parseCoding(elem)
			if !ok {
				continue
			}
			switch name {
			case "gzip", "x-gzip":
				gz = max(gz, q)
			case "identity":
				id = max(id, q)
			case "*":
				star = max(star, q)
			}
		}
	}
	if gz < 0 {
		gz = star
	}
	idOK := id > 0 || id < 0 && star != 0
	switch {
	case gz > 0 && (id < 0 || gz >= id):
		return codingGzip
	case idOK:
		return codingIdentity
	}
	return codingRefused
}

// parseCoding parses one element of Accept-Encoding: a coding and an
// optional weight, e.g. "gzip;q=0.8". The name comes back lower-case, q in
// thousandths (1000 without a weight). ok is false for an empty or
// malformed element.
func parseCoding(elem string) (name string, q int, ok bool) {
	name, params, _ := strings.Cut(elem, ";")
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return "", 0, false
	}
	q = 1000
	for p := range strings.SplitSeq(params, ";") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		k, v, _ := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue // a coding takes no other parameter; ignore any
		}
		if q, ok = parseQ(strings.TrimSpace(v)); !ok {
			return "", 0, false
		}
	}
	return name, q, true
}

// parseQ parses a qvalue (RFC 9110 section 12.4.2): "0" or "1", optionally
// followed by a point and up to three digits, at most 1.
func parseQ(v string) (int, bool) {
	if v == "" || (v[0] != '0' && v[0] != '1') {
		return 0, false
	}
	q := int(v[0]-'0') * 1000
	if len(v) == 1 {
		return q, true
	}
	if v[1] != '.' || len(v) > 5 {
		return 0, false
	}
	scale := 100
	for _, c := range v[2:] {
		if c < '0' || c > '9' {
			return 0, false
		}
		q += int(c-'0') * scale
		scale /= 10
	}
	if q > 1000 {
		return 0, false
	}
	return q, true
}
