# mpxdp — build, test, benchmark and demo targets. Run as root for the privileged
# (namespace / AF_XDP) tests; without root they skip and say why.

GO        ?= go
GOBIN     := $(shell $(GO) env GOPATH)/bin
PKGS      := ./...
# Packages with concurrent code that also run under the race detector.
RACE_PKGS := ./ring/... ./mptcp/... ./stack/...
TEST_TIMEOUT ?= 20m
BENCHTIME ?= 1s
BENCH_OUT := perf/out
STATICCHECK_VERSION ?= v0.8.2

# make test-unprivileged: the suite as `nobody` (privileged tests must skip with a reason).
.PHONY: all build test test-unit test-unprivileged test-race bench lint fmt vet staticcheck demo deps clean fuzz

all: build

deps:
	@bash .ci/deps

build:
	$(GO) build $(PKGS)
	@mkdir -p bin
	@for d in cmd/*/; do [ -f $$d/main.go ] && $(GO) build -o bin/ ./$$d || true; done

# make test: unit tests, privileged namespace tests (when root), and the race detector.
test: deps
	@$(GO) run ./internal/testbed/cmd/mpx-cleanup 2>/dev/null || true
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(PKGS)
	$(GO) test -count=1 -race -short -skip 'TestXDP' -timeout $(TEST_TIMEOUT) $(RACE_PKGS)
	@if [ "$$(id -u)" -eq 0 ]; then bash .ci/unprivileged; fi

test-unprivileged:
	@bash .ci/unprivileged

test-unit:
	$(GO) test -count=1 -short $(PKGS)

bench: deps
	@mkdir -p $(BENCH_OUT)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count 1 $(PKGS) | tee $(BENCH_OUT)/bench.txt

fuzz:
	@bash perf/fuzz-all.sh $(FUZZTIME)

lint: fmt vet staticcheck

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck:
	@command -v staticcheck >/dev/null 2>&1 || [ -x $(GOBIN)/staticcheck ] || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@PATH="$$PATH:$(GOBIN)" staticcheck $(PKGS)

# make demo: one MPTCP connection over two namespaced paths, served by
# mptcp-server on AF_XDP to the kernel's MPTCP client; path 1 is removed
# mid-run and the connection carries on (needs root; < 30 s).
demo: deps build
	$(GO) run ./perf/demo -bin bin

clean:
	rm -rf bin $(BENCH_OUT)
