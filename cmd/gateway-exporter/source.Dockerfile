# gateway-exporter built from source, for a machine that can pull golang:
# and build with BuildKit. Run from the clone's root (the build context is
# the module, not this folder):
#
#   docker build -f cmd/gateway-exporter/source.Dockerfile --build-arg VERSION=v1.2.3 -t gateway-exporter .
#
# The image is the one cmd/gateway-exporter/Dockerfile makes around a binary
# built beforehand (the e2e's and compose's, since nothing can be pulled
# where they run): FROM scratch, uid 65534, port 19818. docs/exporter.md
# says which to use when; dockerfile_test.go keeps the two alike.

# GO_VERSION is go.mod's go line: the Go the module is built and tested with.
ARG GO_VERSION=1.26.8
FROM golang:${GO_VERSION} AS build
WORKDIR /src
# The modules first, so that a change of source reuses their layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=unknown
# Static (no cgo: scratch has no libc), without local paths, stamped with
# the version --version prints, as scripts/release.sh builds it.
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
	-ldflags "-s -w -X github.com/prometheus/common/version.Version=${VERSION}" \
	-o /out/gateway-exporter ./cmd/gateway-exporter

FROM scratch
COPY --from=build /out/gateway-exporter /gateway-exporter
# Numeric, as scratch has no /etc/passwd, and so that Kubernetes'
# runAsNonRoot can check it.
USER 65534:65534
EXPOSE 19818
ENTRYPOINT ["/gateway-exporter"]
