#!/usr/bin/env bash
# Installs every dependency, builds everything and runs every test.
#
#   bash deploy/test-all.sh                 all tests, then 30 s of each fuzzer (deploy/fuzz.sh)
#   bash deploy/test-all.sh -L unit         only one label (unit, pg, qemu, firmware, train, e2e)
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
echo "build: $(( $(date +%s) - start )) s"

if [ $# -eq 0 ]; then
    # The firmware for every board first, showing its ELF section sizes (the
    # test prints them; CTest hides a passing test's output), then the rest.
    firmware=0
    if ctest --test-dir build -L firmware -V >build/firmware-tests.log 2>&1; then
        sed -n 's/^[0-9]*: \(board \|qemu-\|nucleo-\)/\1/p' build/firmware-tests.log
    else
        tail -n 80 build/firmware-tests.log
        echo "test-all: the firmware tests failed (build/firmware-tests.log)" >&2
        firmware=1
    fi
    tests=0
    ctest --test-dir build -LE firmware --output-on-failure -j "$(nproc)" || tests=1
    # Then the parsers' fuzzers, 30 s each (deploy/fuzz.sh; its own build-fuzz/).
    fuzz=0
    bash deploy/fuzz.sh --seconds 30 || fuzz=1
    [ $tests -eq 0 ] || echo "test-all: tests failed" >&2
    [ $fuzz -eq 0 ] || echo "test-all: a fuzzer found a bug (build-fuzz/crashes/)" >&2
    exit $(( firmware || tests || fuzz ))
else
    ctest --test-dir build --output-on-failure -j "$(nproc)" "$@"
fi
