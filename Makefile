# Aisle — top-level commands. Every target installs what it needs first (scripts/install-deps.sh).
#   make demo   build (release) and run the demo on generated data
#   make test   build with ASan+UBSan and run the whole suite through ctest
#   make soak   the slow soak tests (Catch tag [.soak], e.g. 50 kills of a replay), ASan build
#   make build  release build only
#   make tsan   build the runtime's tests with ThreadSanitizer and run the threaded ones
#   make fuzz   long libFuzzer campaigns (clang; FUZZ_SECONDS per target, FUZZ_TARGETS to pick);
#               `make test` only replays the corpora
#   make bench  benchmarks and their peers, one table (BENCH_SCALE=small for a quick run)
#   make eval   analytics operators against independent references, one table
#   make online-retail  the UCI Online Retail example: convert, replay its rules, summarize
#   make loadtest  wrk against `aisle serve` with signed Shopify deliveries
SHELL := /bin/bash
JOBS  ?= $(shell nproc)
GEN   := -G Ninja
LAUNCHER := $(if $(shell command -v ccache 2>/dev/null),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache,)
FUZZ_SECONDS ?= 600
# make fuzz FUZZ_TARGETS="csv webhook_shopify": only these (default: every target)
FUZZ_TARGETS ?=
BENCH_SCALE ?= full
# Let ccache share results between checkouts in different folders (CI builds a fresh clone).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all deps build demo test soak asan tsan fuzz bench eval clean online-retail loadtest

all: build

deps:
	@scripts/install-deps.sh

build/release/build.ninja: | deps
	cmake -S . -B build/release $(GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(LAUNCHER)

build: deps build/release/build.ninja
	cmake --build build/release -j $(JOBS)

demo: build
	build/release/aisle demo

online-retail: deps
	JOBS=$(JOBS) examples/online_retail/run.sh

build/asan/build.ninja: | deps
	cmake -S . -B build/asan $(GEN) -DCMAKE_BUILD_TYPE=Debug -DAISLE_SANITIZE=ON $(LAUNCHER)

asan: deps build/asan/build.ninja
	cmake --build build/asan -j $(JOBS)

test: asan
	cd build/asan && ctest --output-on-failure -j $(JOBS)
	$(MAKE) --no-print-directory tsan

# ThreadSanitizer: the tests that run threads (shards, the sink thread, checkpoints at barriers,
# the webhook server and its sinks). Only engine_test, connectors_test and what they link are
# built, at -O1 to keep the run short.
build/tsan/build.ninja: | deps
	cmake -S . -B build/tsan $(GEN) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=-O1 -DAISLE_TSAN=ON $(LAUNCHER)

tsan: deps build/tsan/build.ninja
	cmake --build build/tsan -j $(JOBS) --target engine_test connectors_test
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" build/tsan/tests/engine/engine_test "[thread]"
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" build/tsan/tests/connectors/connectors_test "[thread],[server]"

soak: asan
	cmake --build build/asan --target soak

build/fuzz/build.ninja: | deps
	CXX=clang++ CC=clang cmake -S . -B build/fuzz $(GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAISLE_FUZZ=ON $(LAUNCHER)

fuzz: deps build/fuzz/build.ninja
	cmake --build build/fuzz -j $(JOBS) --target fuzz_ndjson fuzz_rules fuzz_csv fuzz_json fuzz_webhook_shopify fuzz_webhook_lightspeed fuzz_webhook_native fuzz_webhook_square fuzz_webhook_clover
	tests/fuzz/run-campaigns.sh build/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# scripts/bench.sh installs the peers' packages, builds build/release and prints the table.
bench: deps
	BENCH_SCALE=$(BENCH_SCALE) JOBS=$(JOBS) scripts/bench.sh

# scripts/eval.sh builds build/release and runs every evaluation program (tests/eval/).
eval: deps
	JOBS=$(JOBS) scripts/eval.sh

# scripts/loadtest.sh: wrk posts signed Shopify deliveries to `aisle serve`; prints rates and
# latency, and checks durable == acknowledged.
loadtest: deps
	JOBS=$(JOBS) scripts/loadtest.sh

clean:
	rm -rf build
