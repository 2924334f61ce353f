# syntax=docker/dockerfile:1
# The agent's image, as deploy/ runs it (ghcr.io/sluicelog/sluice:<tag>).
#   make image                      # this machine's platform, tagged `git describe`
#   docker buildx build --platform linux/amd64,linux/arm64 \
#     --build-arg VERSION=$(git describe --tags --always) --build-arg REVISION=$(git rev-parse HEAD) \
#     -t ghcr.io/sluicelog/sluice:<tag> --push .
# A static binary (no cgo) on distroless/static: CA certificates and tzdata,
# no shell, no package manager. The build stage runs on the build machine's
# platform and cross-compiles to the target's (TARGETOS/TARGETARCH, set by
# buildx), so the arm64 image needs no emulation. cmd/sluice
# TestDockerfileBuild runs this stage's go build line on the host, on the
# files .dockerignore sends.
#
# Base images are pinned by digest, the tag in the comment above each FROM.
# The digests are the ones public Dockerfiles pin for these tags; they were
# not checked against the registries from the machine that wrote this file
# (no registry access there). Check or refresh them with
#   docker buildx imagetools inspect golang:1.26.5
#   docker buildx imagetools inspect gcr.io/distroless/static-debian12:nonroot
# and keep each tag comment in step with its digest.

# golang:1.26.5
FROM --platform=$BUILDPLATFORM golang:1.26.5@sha256:3aff6657219a4d9c14e27fb1d8976c49c29fddb70ba835014f477e1c70636647 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG TARGETOS=linux
ARG TARGETARCH=amd64
ARG VERSION=
ARG REVISION=
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" \
      -o /out/sluice ./cmd/sluice

# gcr.io/distroless/static-debian12:nonroot
FROM gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639
ARG VERSION=
ARG REVISION=
# No org.opencontainers.image.licenses yet: the repository has no LICENSE
# file, and which licence it is, is the owners' decision.
LABEL org.opencontainers.image.title="sluice" \
      org.opencontainers.image.description="Log-shipping agent for Kubernetes: container logs and syslog to Elasticsearch" \
      org.opencontainers.image.source="https://github.com/sluicelog/sluice" \
      org.opencontainers.image.url="https://github.com/sluicelog/sluice" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /out/sluice /sluice
# Index templates for an output's template.file.
COPY deploy/elasticsearch/ /usr/share/sluice/elasticsearch/
# Non-root by default (uid 65532). The DaemonSet in deploy/ runs it as uid 0
# with every capability dropped but DAC_READ_SEARCH, to read the host's
# root-owned container logs; see deploy/base/daemonset.yaml.
USER nonroot:nonroot
EXPOSE 2020/tcp 5140/tcp 5140/udp
ENTRYPOINT ["/sluice"]
CMD ["-config", "/etc/sluice/sluice.yaml"]
