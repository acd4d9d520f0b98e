#!/usr/bin/env bash
# Builds the parsers' libFuzzer targets (tests/fuzz) and fuzzes each for a while.
#
#   bash deploy/fuzz.sh                                 every target, 30 s each
#   bash deploy/fuzz.sh --seconds 600 fuzz_job_spec     one target, 10 minutes
#
# The build lives in build-fuzz/ (clang, ASan + UBSan; ccache keeps rebuilds
# fast; HILNAS_BUILD_JOBS caps its parallelism). Each target starts from a
# writable copy of its committed seeds, build-fuzz/corpus/TARGET, where what it
# finds stays: the repository is left clean. One summary line per target;
# exits 1 if any target found a crash, hang, leak or sanitizer report, whose
# input is kept under build-fuzz/crashes/TARGET/ (replay it: the target's
# binary with that file as its only argument).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "fuzz: $*" >&2; exit 2; }

all=(fuzz_ir_json fuzz_job_spec fuzz_artifact fuzz_search_space fuzz_config fuzz_uart_line)
seconds=30
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) [ $# -ge 2 ] || die "--seconds needs a value"; seconds="$2"; shift 2 ;;
        --seconds=*) seconds="${1#*=}"; shift ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        -*) die "unknown option '$1' (try --help)" ;;
        *) targets+=("$1"); shift ;;
    esac
done
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || die "--seconds must be a positive whole number, not '$seconds'"
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
    [[ " ${all[*]} " == *" $t "* ]] || die "unknown target '$t' (one of: ${all[*]})"
done
command -v clang++ >/dev/null 2>&1 || die "clang++ not found: run deploy/install-deps.sh"

# ccache hits across checkouts at different paths (CI clones afresh).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
out=build-fuzz
start=$(date +%s)
CC=clang CXX=clang++ cmake -S . -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHILNAS_FUZZ=ON -DHILNAS_WITH_TRAINER=OFF -DHILNAS_WITH_FIRMWARE=OFF \
    -DHILNAS_WITH_TESTS=OFF >/dev/null
cmake --build "$out" -j "${HILNAS_BUILD_JOBS:-$(nproc)}" --target "${targets[@]}"
echo "fuzz: build $(( $(date +%s) - start )) s; ${seconds} s per target"

# The value of "NAME: VALUE" in libFuzzer's final statistics.
stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -n 1; }
# The last value of "KEY: VALUE" on libFuzzer's progress lines (#N INITED|NEW|pulse|DONE ...).
progress() { grep -E '^#[0-9]+' "$2" | sed -n "s/.* $1: \([^ ]*\).*/\1/p" | tail -n 1; }

failed=0
for t in "${targets[@]}"; do
    corpus="$out/corpus/$t" crashes="$out/crashes/$t" log="$out/logs/$t.log"
    mkdir -p "$corpus" "$crashes" "$(dirname "$log")"
    cp -n tests/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
    args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
          -artifact_prefix="$crashes/")
    [ -f tests/fuzz/"$t".dict ] && args+=(-dict=tests/fuzz/"$t".dict)
    rc=0
    "$out/tests/fuzz/$t" "${args[@]}" "$corpus" >"$log" 2>&1 || rc=$?
    corp=$(progress corp "$log")
    line=$(printf '%-18s execs %-9s exec/s %-6s cov %-6s corpus %s' "$t" \
        "$(stat number_of_executed_units "$log")" "$(stat average_exec_per_sec "$log")" \
        "$(progress cov "$log")" "${corp%%/*} (${corp#*/})")
    if [ $rc -eq 0 ]; then
        echo "ok    $line"
    else
        failed=1
        found=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        echo "FAIL  $line"
        grep -m 1 -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error:|fuzz: property|terminate called)' \
            "$log" | sed 's/^/      /' || true
        echo "      input: ${found:-(none written; see $log)}; log: $log"
    fi
done
exit $failed
