package generate

import "github.com/sre-tools/promgen/spec"

// ComposeFragment is svc's compose fragment as the build writes it, for
// the tests that hand it to the real docker compose.
func ComposeFragment(svc spec.Service) ([]byte, error) { return newFragment("", svc).render() }
