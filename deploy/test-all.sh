#!/usr/bin/env bash
# Installs every dependency, builds everything and runs every test.
#
#   bash deploy/test-all.sh                 all tests
#   bash deploy/test-all.sh -L unit         only one label (unit, pg, qemu, e2e)
#
# Extra arguments go to ctest. The build lives in build/ (ccache keeps rebuilds fast).
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/install-deps.sh
# ccache hits across checkouts at different paths (CI clones afresh).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
start=$(date +%s)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)"
built=$(date +%s)
echo "build: $((built - start)) s"
ctest --test-dir build --output-on-failure -j "$(nproc)" "$@"
echo "tests: $(( $(date +%s) - built )) s"
