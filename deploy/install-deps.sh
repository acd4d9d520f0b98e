#!/usr/bin/env bash
# Installs every Debian 12 package hilnas needs to build, test and run.
# Idempotent: packages already present are left alone. Runs as root or via sudo.
#
#   deploy/install-deps.sh            everything (controller, trainer, agent, firmware, tests, fuzzing)
#   deploy/install-deps.sh --agent    a lab host that only runs board agents (no LibTorch, no fuzzing)
set -euo pipefail

die() { echo "install-deps: $*" >&2; exit 1; }

command -v apt-get >/dev/null 2>&1 || die "apt-get not found: this script supports Debian 12 (bookworm) only"

profile=all
for arg in "$@"; do
    case "$arg" in
        --agent) profile=agent ;;
        -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
        *) die "unknown option '$arg' (try --help)" ;;
    esac
done

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    die "must run as root, or with sudo installed"
fi

# Build tools and the libraries every part links.
base=(
    build-essential cmake ninja-build ccache pkg-config git ca-certificates
    clang-format clang-tidy
    libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
    libpqxx-dev libpq-dev libspdlog-dev libfmt-dev
    libyaml-cpp-dev nlohmann-json3-dev libssl-dev zlib1g-dev
    googletest libgtest-dev libgmock-dev libbenchmark-dev
    postgresql
    procps util-linux iproute2
)
# Board agent and firmware: the Arm toolchain, flashers and the emulated board.
agent=(
    gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi
    qemu-system-arm openocd python3-pyocd
)
# Trainer: LibTorch and the default dataset.
trainer=(libtorch-dev dataset-fashion-mnist)
# Fuzzing (deploy/fuzz.sh): clang, and libFuzzer's runtime (libclang_rt.fuzzer),
# which clang's own dependencies only recommend.
fuzz=(clang libclang-rt-dev)
# Tests and benchmarks only: Optuna, the peer hilnas-bench-optimizer --benchmark
# measures mobo against; headless Chromium, which renders `hilnas report` pages;
# systemd-analyze, which checks the units in deploy/systemd.
checks=(python3-optuna chromium systemd)

want=("${base[@]}" "${agent[@]}")
[ "$profile" = all ] && want+=("${trainer[@]}" "${fuzz[@]}" "${checks[@]}")

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#want[@]} packages already installed"
    exit 0
fi

echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q >/dev/null || die "apt-get update failed (no network or no Debian mirror?)"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
    || die "apt-get install failed for: ${missing[*]}"
echo "install-deps: done"
