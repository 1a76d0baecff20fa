#!/usr/bin/env bash
# Builds release archives of promgen and gateway-exporter: static binaries
# (CGO_ENABLED=0, -trimpath) for each platform, stamped with the version
# --version prints, each archive with LICENSE, README.md and the runbook,
# and SHA-256 checksums of the archives. Archives are reproducible: same
# commit, same Go, same bytes.
#
#   scripts/release.sh                       # linux and darwin, amd64 and arm64
#   PLATFORMS=linux/amd64 scripts/release.sh # one platform (CI's check)
#
# VERSION defaults to `git describe --tags --always --dirty`; output goes
# to dist/ (DIST), which is emptied first.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo unknown)}
platforms=${PLATFORMS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}
dist=${DIST:-dist}
# Commit time, not now: the archives of one commit are the same bytes.
epoch=$(git log -1 --format=%ct 2>/dev/null || echo 0)
date=$(date -u -d "@$epoch" +%Y%m%d-%H:%M:%S)

pkg=github.com/prometheus/common/version
ldflags="-s -w -X $pkg.Version=$version -X $pkg.Revision=$(git rev-parse HEAD)"
ldflags+=" -X $pkg.Branch=$(git rev-parse --abbrev-ref HEAD) -X $pkg.BuildUser=release -X $pkg.BuildDate=$date"

rm -rf "$dist"
mkdir -p "$dist"
for p in $platforms; do
	os=${p%/*} arch=${p#*/}
	name=promgen-$version.$os-$arch
	dir=$dist/$name
	mkdir -p "$dir"
	for cmd in promgen gateway-exporter; do
		CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -buildvcs=false \
			-ldflags "$ldflags" -o "$dir/$cmd" "./cmd/$cmd"
	done
	cp LICENSE README.md docs/runbook-service-down.md "$dir/"
	tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
		-C "$dist" -cf - "$name" | gzip -n >"$dist/$name.tar.gz"
	rm -rf "$dir"
	echo "$dist/$name.tar.gz"
done
(cd "$dist" && sha256sum -- *.tar.gz >sha256sums.txt)
echo "$dist/sha256sums.txt"
