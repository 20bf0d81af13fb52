# Aisle — top-level commands. Every target installs what it needs first (scripts/install-deps.sh).
#   make demo   build (release) and run the demo on generated data
#   make test   build with ASan+UBSan and run the whole suite through ctest
#   make soak   the slow soak tests (Catch tag [.soak], e.g. 50 kills of a replay), ASan build
#   make build  release build only
#   make fuzz   long libFuzzer campaigns (clang); `make test` only replays the corpora
SHELL := /bin/bash
JOBS  ?= $(shell nproc)
GEN   := -G Ninja
LAUNCHER := $(if $(shell command -v ccache 2>/dev/null),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache,)
FUZZ_SECONDS ?= 600
# Let ccache share results between checkouts in different folders (CI builds a fresh clone).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all deps build demo test soak asan fuzz clean

all: build

deps:
	@scripts/install-deps.sh

build/release/build.ninja: | deps
	cmake -S . -B build/release $(GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(LAUNCHER)

build: deps build/release/build.ninja
	cmake --build build/release -j $(JOBS)

demo: build
	build/release/aisle demo

build/asan/build.ninja: | deps
	cmake -S . -B build/asan $(GEN) -DCMAKE_BUILD_TYPE=Debug -DAISLE_SANITIZE=ON $(LAUNCHER)

asan: deps build/asan/build.ninja
	cmake --build build/asan -j $(JOBS)

test: asan
	cd build/asan && ctest --output-on-failure -j $(JOBS)

soak: asan
	cmake --build build/asan --target soak

build/fuzz/build.ninja: | deps
	CXX=clang++ CC=clang cmake -S . -B build/fuzz $(GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAISLE_FUZZ=ON $(LAUNCHER)

fuzz: deps build/fuzz/build.ninja
	cmake --build build/fuzz -j $(JOBS) --target fuzz_ndjson fuzz_rules
	tests/fuzz/run-campaigns.sh build/fuzz $(FUZZ_SECONDS)

clean:
	rm -rf build
