package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// curl is the little of curl that a healthcheck uses: GET a URL, print the
// body, and with -f exit 22 on an HTTP error, as curl does. The image installs
// the binary a second time as /usr/bin/curl so that the runbook's healthcheck,
// ["CMD", "curl", "-f", "http://localhost:8000/health"], runs unchanged in a
// FROM scratch image. It returns curl's exit code.
func curl(args []string, stdout, stderr io.Writer) int {
	var fail bool
	var url string
	for _, a := range args {
		switch {
		case a == "--fail":
			fail = true
		case a == "--silent" || a == "--show-error":
		case strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Trim(a[1:], "fsS") == "":
			fail = fail || strings.Contains(a, "f")
		case !strings.HasPrefix(a, "-") && url == "":
			url = a
		default:
			fmt.Fprintf(stderr, "curl: option %s: not supported by the stand-in's curl\n", a)
			return 2
		}
	}
	if url == "" {
		fmt.Fprintln(stderr, "curl: no URL specified")
		return 2
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		fmt.Fprintln(stderr, "curl:", err)
		return 7 // curl's "failed to connect"
	}
	defer resp.Body.Close()
	if fail && resp.StatusCode >= 400 {
		fmt.Fprintf(stderr, "curl: (22) The requested URL returned error: %d\n", resp.StatusCode)
		return 22
	}
	if _, err := io.Copy(stdout, resp.Body); err != nil {
		fmt.Fprintln(stderr, "curl:", err)
		return 56 // curl's "failure in receiving network data"
	}
	return 0
}

// invokedAsCurl reports whether the binary was started under the name curl.
func invokedAsCurl(argv0 string) bool {
	return argv0 == "curl" || strings.HasSuffix(argv0, "/curl")
}
