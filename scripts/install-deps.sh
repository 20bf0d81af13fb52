#!/usr/bin/env bash
# Installs the Debian packages Aisle needs to build, test and run. Idempotent: when every package
# is present it does nothing (not even `apt-get update`). Runs as root directly, through sudo otherwise.
#
#   scripts/install-deps.sh            build + test dependencies
#   scripts/install-deps.sh EXTRA...   also the named extra packages (used by bench/eval targets)
set -euo pipefail

packages=(
  # toolchain
  g++ clang libclang-rt-14-dev cmake ninja-build pkg-config make ccache
  # libraries (see docs/architecture.md, "Dependencies")
  tao-pegtl-dev libboost-graph-dev libboost1.74-dev libconcurrentqueue-dev librocksdb-dev nlohmann-json3-dev
  libfmt-dev catch2 libcpp-httplib-dev libbrotli-dev libssl-dev libcli11-dev libhowardhinnant-date-dev
  libxxhash-dev libsimdjson-dev libabsl-dev tzdata zlib1g-dev
)
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
