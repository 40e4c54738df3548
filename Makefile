# Klaxon's build, test, benchmark and fuzz entry points. `make test` is what CI runs.

GO        ?= go
BIN       := bin/klaxon
CONFIG    ?= configs/klaxon.yml
# Packages whose unit tests also run under the race detector.
RACE_PKGS := journal triage server ingest engine api notify console statuspage cmd/klaxon cluster chatops
# How long each fuzz target runs under `make fuzz`.
FUZZTIME  ?= 20s
# Bound on each `go test` invocation, well inside CI's limits.
TEST_TIMEOUT ?= 8m

MODULE    := $(shell $(GO) list -m 2>/dev/null)

# Build facts for `klaxon version` and klaxon_build_info, set as Prometheus
# sets its own (github.com/prometheus/common/version); outside a git checkout
# the version is "dev" and the rest "unknown".
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION   ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH     ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
BUILD_USER ?= $(shell id -un 2>/dev/null || echo unknown)@$(shell hostname 2>/dev/null || echo unknown)
BUILD_DATE ?= $(shell date -u +%Y%m%d-%H:%M:%S)
VERSION_PKG := github.com/prometheus/common/version
LDFLAGS   := -X '$(VERSION_PKG).Version=$(VERSION)' -X '$(VERSION_PKG).Revision=$(REVISION)' \
	-X '$(VERSION_PKG).Branch=$(BRANCH)' -X '$(VERSION_PKG).BuildUser=$(BUILD_USER)' \
	-X '$(VERSION_PKG).BuildDate=$(BUILD_DATE)'
RACE_RE   := ^$(MODULE)/($(shell echo $(RACE_PKGS) | tr ' ' '|'))(/|$$)

.PHONY: all build run deps vet unit rules-test e2e test bench fuzz clean

all: build

## build: compile the klaxon binary into bin/.
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/klaxon

## run: build, then serve with the example configuration.
run: build
	$(BIN) serve --config $(CONFIG)

## deps: install the system packages the end-to-end tests need.
deps:
	bash scripts/install-deps.sh

vet:
	$(GO) vet ./...

## unit: unit tests of every package but e2e; the concurrent ones under -race.
unit:
	@pkgs=$$($(GO) list ./... | grep -v '/e2e$$' | grep -Ev '$(RACE_RE)'); \
	echo "$(GO) test -count=1 <$$(echo $$pkgs | wc -w) packages>"; \
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) $$pkgs
	@pkgs=$$($(GO) list ./... | grep -E '$(RACE_RE)' || true); \
	if [ -n "$$pkgs" ]; then \
		echo "$(GO) test -race -count=1" $$pkgs; \
		$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $$pkgs; \
	elif [ "$$CI" = true ]; then \
		echo "none of the race-tested packages ($(RACE_PKGS)) exist" >&2; exit 1; \
	fi

## rules-test: the shipped rule files' unit tests, run by klaxon itself.
rules-test: build
	@if [ -d configs/rules/tests ]; then \
		echo "$(BIN) test rules configs/rules/tests/*.yml"; \
		$(BIN) test rules configs/rules/tests/*.yml; \
	fi

## e2e: end-to-end tests against real Prometheus and Alertmanager binaries.
e2e: build deps
	KLAXON_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./e2e/...

## test: everything CI checks.
test: deps vet unit rules-test e2e

## bench: every figure against its reference in one run (bench/compare.sh: STAGES to choose, BENCH_QUICK=1 for a quick run).
bench:
	bash bench/compare.sh

## fuzz: every FuzzXxx target for FUZZTIME each.
fuzz:
	FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

clean:
	rm -rf bin bench/.work bench/alertmanager/src
