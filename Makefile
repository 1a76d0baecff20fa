# promgen: the inference gateway's alerting rules as typed Go, generated,
# linted and proven against real Prometheus, Alertmanager and Docker.
#
# Every target works on a fresh clone. External tools (promtool, prometheus,
# alertmanager, docker-compose) are built once at pinned versions by
# scripts/tools.sh and cached outside the clone; the Docker engine is started
# by scripts/dockerd.sh when a target needs it and stopped again only if that
# target started it.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO ?= go
TOOLS := scripts/tools.sh
DOCKERD := scripts/dockerd.sh
PROMGEN := $(GO) run ./cmd/promgen
# Other teams' specs, each a main of its own writing to its own generated/,
# in examples/, a module of its own (replace to this one): the compiler
# proves they need nothing under internal/. They run from that folder.
EXAMPLES := $(patsubst %/main.go,%,$(wildcard examples/*/main.go))
# run_examples runs each example's main with the arguments $(1), from the
# examples' module.
run_examples = for ex in $(EXAMPLES:examples/%=%); do echo "cd examples && $(GO) run ./$$ex $(1)"; (cd examples && $(GO) run ./$$ex $(1)) || exit 1; done

# Build information for --version, in the Prometheus ecosystem's form.
VERSION_PKG := github.com/prometheus/common/version
LDFLAGS := -X $(VERSION_PKG).Version=$(shell git describe --tags --always --dirty 2>/dev/null || echo unknown) \
	-X $(VERSION_PKG).Revision=$(shell git rev-parse HEAD 2>/dev/null) \
	-X $(VERSION_PKG).Branch=$(shell git rev-parse --abbrev-ref HEAD 2>/dev/null) \
	-X $(VERSION_PKG).BuildUser=$(shell id -un)@$(shell hostname) \
	-X $(VERSION_PKG).BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)

.PHONY: help build generate check test test-steps mutate lint e2e kube-dry-run release release-check bench bench-rules bench-rules-smoke fuzz soak tools docker-up docker-down clean

help: ## Show the targets
	@awk 'BEGIN { FS = ":.*## " } /^[a-z0-9-]+:.*## / { printf "  %-12s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

# Static binaries: bin/ is also the build context of the FROM scratch images.
build: ## Build promgen, gateway-exporter and the stand-in gateway into bin/ (static)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/ ./cmd/...

generate: ## Regenerate generated/ from the spec in rules/, and each example's generated/
	$(PROMGEN) build
	@$(call run_examples,build)

check: ## Fail with a diff when generated/ (or an example's) is not what its spec produces
	$(PROMGEN) build --check
	@$(call run_examples,build --check)

# test needs promtool, alertmanager and amtool (built once, cached) and a
# Docker engine; the steps run
# in a sub-make so the engine is stopped afterwards only if test started it.
test: ## Run go tests (with Docker, promtool, Prometheus, Alertmanager, amtool), the drift check, promtool check and test rules
	@tools_bin=$$($(TOOLS) promtool prometheus alertmanager amtool) && \
	export PROMTOOL=$$tools_bin/promtool PROMETHEUS=$$tools_bin/prometheus \
		ALERTMANAGER=$$tools_bin/alertmanager AMTOOL=$$tools_bin/amtool && \
	$(DOCKERD) run $(MAKE) --no-print-directory test-steps

test-steps:
	$(GO) test -timeout 30m ./...
	cd examples && $(GO) test ./...
	$(MAKE) --no-print-directory check
	$(PROMTOOL) check rules generated/rules/*.yml generated/e2e/rules/*.yml generated/kubernetes/rules/*.yml $(addsuffix /generated/rules/*.yml,$(EXAMPLES)) \
		$(wildcard $(addsuffix /generated/kubernetes/rules/*.yml,$(EXAMPLES)))
	$(PROMTOOL) test rules generated/tests/*.yml generated/e2e/tests/*.yml generated/kubernetes/tests/*.yml $(addsuffix /generated/tests/*.yml,$(EXAMPLES)) \
		$(wildcard $(addsuffix /generated/kubernetes/tests/*.yml,$(EXAMPLES)))
	$(PROMTOOL) check config generated/prometheus/prometheus.yml generated/e2e/prometheus/prometheus.yml
	@# The examples' certificates and password files live on their Prometheus
	@# machines, not here: promtool would stat them.
	$(PROMTOOL) check config --syntax-only $(addsuffix /generated/prometheus/prometheus.yml,$(EXAMPLES))

# Each mutation of test/mutate/mutations.go is planted alone in a scratch
# copy of the tree and must make the tests it names fail; docs/testing.md
# says how to add one. No Docker; promtool for the mutations promtool's
# scenarios catch.
mutate: ## Plant each curated bug of test/mutate in a scratch copy, one at a time; fail if one survives every test
	@tools_bin=$$($(TOOLS) promtool) && \
	PROMTOOL=$$tools_bin/promtool $(GO) run ./test/mutate

lint: ## go vet, gofmt and promgen lint on the spec and generated rules
	$(GO) vet ./...
	$(GO) vet -tags e2e ./test/e2e/
	$(GO) vet -tags kubeapi ./internal/kubernetes/
	cd examples && $(GO) vet ./...
	@unformatted=$$(gofmt -l .); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(PROMGEN) lint
	@$(call run_examples,lint)

# The fault matrix runs the committed generated/e2e/ rules: check they are
# what the spec produces before spending minutes on them.
e2e: ## Run the end-to-end fault matrix (dockerd, docker compose, Prometheus, Alertmanager)
	$(PROMGEN) build --check >/dev/null
	@tools_bin=$$($(TOOLS) promtool prometheus alertmanager compose) && \
	export PROMTOOL=$$tools_bin/promtool PROMETHEUS=$$tools_bin/prometheus \
		ALERTMANAGER=$$tools_bin/alertmanager DOCKER_COMPOSE=$$tools_bin/docker-compose && \
	$(DOCKERD) run sh -c 'DOCKER_GID=$$(stat -c %g /var/run/docker.sock) exec $(GO) test -tags e2e -count=1 -v -timeout 75m ./test/e2e/'

# kube-apiserver and etcd take 10-15 minutes to build once (then cached), so
# the dry-run is a target of its own; go test skips it without them.
kube-dry-run: ## Apply generated/kubernetes to a real kube-apiserver with server-side dry-run (builds kube-apiserver and etcd once)
	$(PROMGEN) build --check >/dev/null
	@tools_bin=$$($(TOOLS) kube-apiserver etcd) && \
	export KUBE_APISERVER=$$tools_bin/kube-apiserver ETCD=$$tools_bin/etcd && \
	$(GO) test -tags kubeapi -count=1 -v -run TestTheManifestsPassARealAPIServersDryRun ./internal/kubernetes/

release: ## Build release archives (linux and darwin, amd64 and arm64) with checksums into dist/
	scripts/release.sh

# CI's check of the release: one platform's archive, built twice to the same
# bytes, its checksum verified and its binaries' --version naming the version.
release-check: ## Build the linux/amd64 release twice; check checksums, reproducibility and --version
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	VERSION=v0.0.0-check PLATFORMS=linux/amd64 DIST=$$tmp/a scripts/release.sh >/dev/null; \
	VERSION=v0.0.0-check PLATFORMS=linux/amd64 DIST=$$tmp/b scripts/release.sh >/dev/null; \
	cmp $$tmp/a/sha256sums.txt $$tmp/b/sha256sums.txt || { echo "release: two builds of one commit differ"; exit 1; }; \
	(cd $$tmp/a && sha256sum -c --quiet sha256sums.txt && tar xzf promgen-v0.0.0-check.linux-amd64.tar.gz); \
	for cmd in promgen gateway-exporter; do \
		$$tmp/a/promgen-v0.0.0-check.linux-amd64/$$cmd --version | grep -q "^$$cmd, version v0.0.0-check " || \
			{ echo "release: $$cmd --version does not name v0.0.0-check"; exit 1; }; \
	done; \
	echo "release-check: reproducible, checksums verified, --version names the version"

bench: ## Run the benchmarks (figures go into docs/)
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The rule-cost benchmark is a module of its own (bench/rulecost: it reads
# Sloth's spec types, which promgen's go.mod must not require) and runs the
# pinned Prometheus, promtool and Sloth. N is the fleet sizes, comma-separated.
N ?= 100,1000
bench-rules: ## What promgen's SLO rules and Sloth's cost a real Prometheus at N services (default 100,1000); writes docs/rule-cost.md
	@tools_bin=$$($(TOOLS) promtool prometheus sloth) && cd bench/rulecost && \
	PROMETHEUS=$$tools_bin/prometheus PROMTOOL=$$tools_bin/promtool SLOTH=$$tools_bin/sloth \
		$(GO) run . -services $(N) -doc ../../docs/rule-cost.md

bench-rules-smoke: ## CI smoke of bench-rules at 100 services: both rule sets load and evaluate without a failure (no timing)
	@tools_bin=$$($(TOOLS) promtool prometheus sloth) && cd bench/rulecost && \
	PROMETHEUS=$$tools_bin/prometheus PROMTOOL=$$tools_bin/promtool SLOTH=$$tools_bin/sloth \
		$(GO) test -count=1 -timeout 10m -run '^TestBothRuleSetsLoadAndEvaluate$$' .

# Each fuzz target with the package it lives in; CI runs each for a short
# FUZZTIME, and a finding fails the run with its input saved under testdata/fuzz.
FUZZ_TARGETS := FuzzBuildStrings:./internal/generate FuzzLint:./internal/lint FuzzDecode:./internal/exporter/cadvisor
FUZZTIME ?= 60s
fuzz: ## Fuzz the build (hostile spec text), lint (hostile rule files) and the cAdvisor decode, each for FUZZTIME (default 60s)
	@for t in $(FUZZ_TARGETS); do \
		echo "$(GO) test -run '^$$' -fuzz '^$${t%%:*}$$' -fuzztime $(FUZZTIME) $${t#*:}"; \
		$(GO) test -run '^$$' -fuzz "^$${t%%:*}\$$" -fuzztime $(FUZZTIME) $${t#*:} || exit 1; \
	done

# make test runs the same soak with 300 containers; docs/exporter.md records both.
soak: ## Churn soak of gateway-exporter: 1,000 containers created, ended and removed on the real engine under a continuous scraper
	$(DOCKERD) run $(GO) test -count=1 -v -timeout 30m -run '^TestChurnSoak$$' ./internal/exporter/docker/ -args -soak.cycles=1000

tools: ## Build and cache the pinned promtool, prometheus, alertmanager, amtool, docker-compose
	$(TOOLS) all

docker-up: ## Start a Docker engine (installs Debian's docker.io if missing)
	$(DOCKERD) start

docker-down: ## Stop the Docker engine started by docker-up
	$(DOCKERD) stop

clean: ## Remove bin/
	rm -rf bin
