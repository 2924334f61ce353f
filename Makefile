# sluice — see README.md. Targets: build, run, test, bench, lint.
GO            ?= go
VL_VERSION    := v1.52.1
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
BIN           := $(CURDIR)/bin
DEMO          := $(CURDIR)/.demo
FUZZTIME      ?= 5s

.PHONY: build image run test test-unit test-alloc test-purego corpus-skips fuzz-short bench bench-e2e bench-kafka-clients chaos chaos-syslog-outage lint tools syslog-tools kube-tools clean

# What `sluice -version` and sluice_build_info show: the nearest tag (or
# the commit) and the commit, from git. Without git the binary falls back
# to the commit the Go toolchain recorded (cmd/sluice/version.go).
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null)
REVISION      ?= $(shell git rev-parse HEAD 2>/dev/null)
IMAGE         ?= ghcr.io/sluicelog/sluice
LDFLAGS       := -X main.version=$(VERSION) -X main.revision=$(REVISION)

# Static, as the image builds it (Dockerfile): no libc pages in the agent's
# RSS (1.8 MB less, bench/RESULTS.md), and what the benchmarks measure.
build:
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/sluice ./cmd/sluice
	$(GO) build -o $(BIN)/logs ./cmd/logs

# Runs the agent on a demo folder of container logs that it fills itself.
# With ES_URL set (e.g. http://127.0.0.1:9200) records go to Elasticsearch;
# otherwise they are printed as NDJSON on stdout.
run: build
	@deploy/examples/demo-logs.sh $(DEMO)/logs
	@deploy/examples/demo-logs.sh $(DEMO)/logs append & trap "kill $$! 2>/dev/null" EXIT INT TERM; \
	if [ -n "$$ES_URL" ]; then cfg=deploy/examples/local-es.yaml; else cfg=deploy/examples/local.yaml; fi; \
	SLUICE_DEMO=$(DEMO) $(BIN)/sluice -config $$cfg

# The real Elasticsearch-compatible store the tests run against.
$(BIN)/victoria-logs:
	GOBIN=$(BIN) $(GO) install github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@$(VL_VERSION)

# promtool: e2e TestPromtoolCheckMetrics runs `promtool check metrics` on a
# live agent's /metrics. A cold build takes minutes (it is all of
# Prometheus: 14 CPU-minutes here).
PROMTOOL_VERSION := v0.316.0
$(BIN)/promtool:
	GOBIN=$(BIN) $(GO) install github.com/prometheus/prometheus/cmd/promtool@$(PROMTOOL_VERSION)

# util-linux logger (Debian bsdutils) and rsyslogd: the real syslog clients
# of the collector/syslog interop tests; bsdutils also has script, the
# pseudo-terminal of cmd/logs' colour test. apt runs only when one is missing.
syslog-tools:
	@command -v logger >/dev/null && command -v script >/dev/null && command -v rsyslogd >/dev/null || \
	  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bsdutils rsyslog; }

# The real kube-apiserver and etcd that internal/kubetest runs, built from
# the test/kube tools module (its own go.mod keeps k8s.io/kubernetes out of
# ours). Rebuilt only when that module's pins change; a cold build takes
# minutes, a warm one seconds (go build leaves an up-to-date binary's mtime
# alone, hence the touch). The -X flags make /version report v1.37.2.
KUBE_LDFLAGS := -X k8s.io/component-base/version.gitVersion=v1.37.2 \
	-X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37
$(BIN)/kube/kube-apiserver: test/kube/go.mod test/kube/go.sum
	cd test/kube && $(GO) build -ldflags '$(KUBE_LDFLAGS)' -o $@ k8s.io/kubernetes/cmd/kube-apiserver
	@touch $@
$(BIN)/kube/etcd: test/kube/go.mod test/kube/go.sum
	cd test/kube && $(GO) build -o $@ go.etcd.io/etcd/server/v3
	@touch $@

kube-tools: $(BIN)/kube/kube-apiserver $(BIN)/kube/etcd

# deploy/helmrender: `helm template` and `helm lint` with the Helm v4
# library, its own module (Helm's dependencies stay out of ours). The deploy
# tests build it again, a cache hit once this has run (a cold build of Helm
# takes minutes).
$(BIN)/helmrender: deploy/helmrender/go.mod deploy/helmrender/go.sum deploy/helmrender/main.go
	cd deploy/helmrender && $(GO) vet . && $(GO) build -o $@ .

# deploy/promqlnames: the Prometheus server's PromQL parser, for the
# dashboard test (deploy TestDashboardMetrics builds it too), its own module.
$(BIN)/promqlnames: deploy/promqlnames/go.mod deploy/promqlnames/go.sum deploy/promqlnames/main.go
	cd deploy/promqlnames && $(GO) vet . && $(GO) build -o $@ .

# test/otlpreceiver: the OpenTelemetry Collector's OTLP receiver with a
# recording consumer, for the otlp output's tests; its own module (the
# Collector's dependency tree stays out of ours; a cold build takes minutes).
$(BIN)/otlpreceiver: test/otlpreceiver/go.mod test/otlpreceiver/go.sum test/otlpreceiver/main.go
	cd test/otlpreceiver && $(GO) vet . && $(GO) build -o $@ .

# bench/kafkaclients: franz-go against IBM/sarama on the agent's records
# (issue 33, `make bench-kafka-clients`), its own module (sarama stays out
# of ours); built and its short test run when its files change.
KAFKACLIENTS_SRC := $(wildcard bench/kafkaclients/*.go) bench/kafkaclients/go.mod bench/kafkaclients/go.sum
$(BIN)/kafkaclients: $(KAFKACLIENTS_SRC)
	cd bench/kafkaclients && $(GO) vet . && $(GO) test -count=1 . && $(GO) build -o $@ .

tools: $(BIN)/victoria-logs $(BIN)/promtool $(BIN)/helmrender $(BIN)/promqlnames $(BIN)/otlpreceiver $(BIN)/kafkaclients syslog-tools kube-tools

# The corpus tests read ../shared/corpus (or $$SLUICE_CORPUS); a clone
# without it skips them (internal/corpus), and each skip is listed in
# CORPUS_SKIPS, printed at the end of `make test`. With CI set they fail.
CORPUS_SKIPS  := $(CURDIR)/.corpus-skips

test: export SLUICE_CORPUS_SKIPS = $(CORPUS_SKIPS)
test: tools
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	@rm -f $(CORPUS_SKIPS)
	$(GO) test -race -count=1 -timeout 15m ./... || { $(MAKE) -s corpus-skips; exit 1; }
	$(MAKE) test-alloc
	$(MAKE) test-purego
	$(MAKE) fuzz-short
	@$(MAKE) -s corpus-skips

# The zero-allocation promises (every Test...AllocatesNothing), without the
# race detector: under it sync.Pool drops items on purpose, so some of
# them skip in the race run above. Only the packages that have one: the
# others' TestMain (binaries to build, servers to start) is not needed.
test-alloc:
	$(GO) test -count=1 -run 'AllocatesNothing' \
	  $$(grep -rl --include='*_test.go' '^func Test[A-Za-z0-9_]*AllocatesNothing' . | xargs -n1 dirname | sort -u)

# The code as where its amd64 assembly does not run: internal/jsonbytes's
# pure-Go path (build tag purego, as on other CPUs), and every package
# built for arm64, whose image the Dockerfile makes (internal/jsonbytes
# and internal/sha256x fall back to Go there).
test-purego:
	$(GO) test -count=1 -tags purego ./internal/jsonbytes
	GOARCH=arm64 $(GO) vet ./...

corpus-skips:
	@if [ -s $(CORPUS_SKIPS) ]; then \
	  echo "corpus absent: these tests were skipped or ran on their kept seeds only"; \
	  sort -u $(CORPUS_SKIPS) | sed 's/^/  /'; \
	fi

# Each fuzz target for a few seconds, on top of its kept seed corpus. A real
# finding always names its failing input (written to testdata/fuzz, kept for
# good); a run that fails without one is the fuzzing engine missing its
# deadline on a loaded machine ("context deadline exceeded"), shown but not
# a finding. Compile errors are caught by the test run before this.
fuzz-short:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/^func //'); do \
	    echo "fuzz $$pkg $$f"; \
	    if ! out=$$($(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg 2>&1); then \
	      echo "$$out" | grep -v '^fuzz: elapsed' | tail -20; \
	      if echo "$$out" | grep -q -e 'Failing input written' -e 'failure while testing seed corpus'; then exit 1; fi; \
	      echo "fuzz $$pkg $$f: no failing input; the engine's deadline, not a finding"; \
	    fi; \
	  done; \
	done

# The image for this machine's platform (no engine in the tests; the
# Dockerfile's head shows the multi-arch buildx command).
image:
	docker build --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) -t $(IMAGE):$(VERSION) .

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The agent end to end on the issue-9 tail workload (bench/RESULTS.md).
# BENCH_E2E_FLAGS="-records 50000 -cpuprofile cpu.pprof" scales down / profiles.
bench-e2e: build
	$(GO) run ./bench/harness -agent $(BIN)/sluice $(BENCH_E2E_FLAGS)

# franz-go against IBM/sarama producing the agent's own records (the
# documents, keys and id headers of the tail workload, captured by
# bench/kafkarun from the built agent) into kfake; medians of 3 (issue 33).
bench-kafka-clients: build $(BIN)/kafkaclients
	$(GO) run ./bench/kafkarun -agent $(BIN)/sluice -records 25000 -dump $(CURDIR)/.kafka-records.bin
	$(BIN)/kafkaclients -dump $(CURDIR)/.kafka-records.bin $(KAFKA_CLIENTS_FLAGS)

# The whole agent under load, SIGKILLs, a store outage, 429s, resets and
# hostile input against the real store; prints the scorecard (issue 12).
# `make test` runs a short one (bench/chaos TestChaosShort).
chaos: DURATION ?= 10m
chaos: build $(BIN)/victoria-logs
	$(GO) run ./bench/chaos -agent $(BIN)/sluice -duration $(DURATION) $(CHAOS_FLAGS)

# Syslog through a long store outage (issue 30): TCP and UDP senders into
# inputs with a disk spool, the store down 10 minutes with two SIGKILLs in
# it; every message exactly once, the spool's peak, a 2-hour projection.
# `make test` runs a short one (TestChaosSyslogOutageShort).
chaos-syslog-outage: DURATION ?= 12m
chaos-syslog-outage: build $(BIN)/victoria-logs
	$(GO) run ./bench/chaos -agent $(BIN)/sluice -syslog-outage -duration $(DURATION) $(CHAOS_FLAGS)

lint:
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf $(BIN) $(DEMO) $(CURDIR)/.kafka-records.bin
