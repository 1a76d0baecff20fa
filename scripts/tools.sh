#!/usr/bin/env bash
# Builds the pinned external tools once and caches them outside the clone, so a
# fresh clone on the same machine reuses them. Prints the bin directory.
#
#   scripts/tools.sh [promtool|prometheus|alertmanager|amtool|compose|kube-apiserver|etcd|sloth|all]...
#
# promtool and prometheus come from the same prometheus module version as
# rulefmt in go.mod, so the generator and the checker parse rules alike.
set -euo pipefail
cd "$(dirname "$0")/.."

ALERTMANAGER_VERSION=v0.28.1 # v0.35.0's UI bundle is not in its module
COMPOSE_VERSION=$(awk '$1 == "require" && $2 == "github.com/docker/compose/v2" {print $3}' tools/compose/go.mod)
PROMETHEUS_VERSION=$(go list -m -f '{{.Version}}' github.com/prometheus/prometheus)
# kube-apiserver and etcd, for the Kubernetes target's server-side dry-run
# (make kube-dry-run; not in all: kube-apiserver takes 10-15 minutes to build
# on this 2-core machine).
KUBERNETES_VERSION=$(awk '$1 == "k8s.io/kubernetes" {print $2; exit}' tools/kube-apiserver/go.mod)
ETCD_VERSION=$(awk '$1 == "go.etcd.io/etcd/server/v3" {print $2; exit}' tools/kube-apiserver/go.mod)
# Sloth, the rule generator make bench-rules compares promgen's rules with.
SLOTH_VERSION=$(awk '$1 == "require" && $2 == "github.com/slok/sloth" {print $3}' tools/sloth/go.mod)

CACHE=${PROMGEN_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/promgen/tools}
BIN="$CACHE/bin"
mkdir -p "$BIN"

log() { echo "tools: $*" >&2; }

# install NAME VERSION BUILD-COMMAND...: runs the build into a temp dir and
# links $BIN/NAME to the versioned binary only when it succeeded.
install() {
	local name=$1 version=$2; shift 2
	local dest="$CACHE/$name-$version"
	if [ ! -x "$dest/$name" ]; then
		log "building $name $version (cached afterwards in $dest)"
		local tmp; tmp=$(mktemp -d "$CACHE/.build-$name.XXXXXX")
		( export GOBIN="$tmp" CGO_ENABLED=0; "$@" ) >&2
		mkdir -p "$dest"
		mv "$tmp/$name" "$dest/$name"
		rm -rf "$tmp"
	fi
	ln -sfn "$dest/$name" "$BIN/$name"
}

build_compose() {
	# Compose names its main package "cmd"; build it to the tool's name.
	( cd tools/compose && go mod download && go build -trimpath -o "$GOBIN/docker-compose" github.com/docker/compose/v2/cmd )
}

build_kube_apiserver() {
	( cd tools/kube-apiserver && go mod download && go build -trimpath \
		-ldflags "-X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION" \
		-o "$GOBIN/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver )
}

build_sloth() {
	( cd tools/sloth && go mod download && go build -trimpath -ldflags "-X github.com/slok/sloth/internal/info.Version=$SLOTH_VERSION" -o "$GOBIN/sloth" github.com/slok/sloth/cmd/sloth )
}

build_etcd() {
	( cd tools/kube-apiserver && go mod download && go build -trimpath -o "$GOBIN/etcd" go.etcd.io/etcd/server/v3 )
}

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(all)
for t in "${targets[@]}"; do
	case $t in
	promtool) install promtool "$PROMETHEUS_VERSION" go install "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_VERSION" ;;
	prometheus) install prometheus "$PROMETHEUS_VERSION" go install "github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_VERSION" ;;
	alertmanager) install alertmanager "$ALERTMANAGER_VERSION" go install "github.com/prometheus/alertmanager/cmd/alertmanager@$ALERTMANAGER_VERSION" ;;
	amtool) install amtool "$ALERTMANAGER_VERSION" go install "github.com/prometheus/alertmanager/cmd/amtool@$ALERTMANAGER_VERSION" ;;
	compose) install docker-compose "$COMPOSE_VERSION" build_compose ;;
	kube-apiserver) install kube-apiserver "$KUBERNETES_VERSION" build_kube_apiserver ;;
	etcd) install etcd "$ETCD_VERSION" build_etcd ;;
	sloth) install sloth "$SLOTH_VERSION" build_sloth ;;
	all) "$0" promtool prometheus alertmanager amtool compose >/dev/null ;;
	*) echo "tools: unknown tool $t" >&2; exit 2 ;;
	esac
done
echo "$BIN"
