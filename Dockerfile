# The agent's image, as deploy/ runs it (ghcr.io/sluicelog/sluice:<tag>):
#   docker build --build-arg VERSION=0.1.0 -t ghcr.io/sluicelog/sluice:0.1.0 .
# A static binary (no cgo) on distroless/static: CA certificates and tzdata,
# no shell, no package manager.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/sluice ./cmd/sluice

FROM gcr.io/distroless/static-debian12:nonroot
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
