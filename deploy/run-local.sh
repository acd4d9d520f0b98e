#!/usr/bin/env bash
# Installs every dependency, builds, and runs hilnas's main job on this
# machine with the embedded defaults: a private PostgreSQL, the controller, a
# CPU trainer worker, a board agent with one emulated board (an STM32F405
# under QEMU), and a Fashion-MNIST search (examples/fashion-mnist-stm32f4.yaml,
# about 7 minutes of search on 2 cores), followed on a live progress line to its end;
# then prints its Pareto front with measured figures, writes the job's report,
# and exports each front member as an int8 artifact, C sources and firmware.
#
#   bash deploy/run-local.sh              install, build, run the search
#   bash deploy/run-local.sh JOB.yaml     the same with another job spec
#   bash deploy/run-local.sh stop         stop the stack it left running
#
# The stack keeps running afterwards (controller on 127.0.0.1:50051) for
# `hilnas submit`, `hilnas watch`, `hilnas front`. State lives in .hilnas/local/.
set -euo pipefail
cd "$(dirname "$0")/.."
state=.hilnas/local
mkdir -p "$state"
address=${HILNAS_LISTEN:-127.0.0.1:50051}
hilnas=build/services/cli/hilnas

stop() {
    for name in agent trainer controller db; do
        pidfile="$state/$name.pid"
        if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            kill -TERM "$(cat "$pidfile")"
            for _ in $(seq 150); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.1; done
            echo "$name stopped"
        fi
        rm -f "$pidfile"
    done
}

start() {  # start NAME COMMAND...: in the background, its own session, log in $state/NAME.log
    local name=$1; shift
    setsid "$@" >>"$state/$name.log" 2>&1 </dev/null &
    echo $! >"$state/$name.pid"
}

wait_for() {  # wait_for FILE NAME: until FILE exists, or NAME died
    for _ in $(seq 600); do
        [ -s "$1" ] && return 0
        kill -0 "$(cat "$state/$2.pid")" 2>/dev/null || { tail -n 5 "$state/$2.log" >&2; exit 1; }
        sleep 0.1
    done
    echo "run-local: $2 did not start (see $state/$2.log)" >&2; exit 1
}

if [ "${1:-}" = stop ]; then stop; exit 0; fi
job=${1:-examples/fashion-mnist-stm32f4.yaml}

bash deploy/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)"

stop
rm -f "$state/port" .hilnas/local/pg/dsn
start db "$hilnas" local db --dir "$state/pg"
wait_for "$state/pg/dsn" db
start controller build/controller/hilnas-controller --database "$(cat "$state/pg/dsn")" \
    --listen "$address" --port_file "$state/port"
wait_for "$state/port" controller
start trainer build/trainer-worker/hilnas-trainer --controller "$address" --device auto \
    --threads "$(nproc)"
start agent build/board-agent/hilnas-agent --controller "$address" \
    --cache_dir "$state/firmware-cache"
"$hilnas" ping --controller "$address"

job_id=$("$hilnas" submit "$job" --controller "$address" | sed -n 's/.*"job_id":"\([^"]*\)".*/\1/p')
[ -n "$job_id" ] || { echo "run-local: the job was not submitted" >&2; exit 1; }
echo "submitted job $job_id ($job); following it (logs in $state/)"
started=$(date +%s)
# One live line: trials done of the budget, the best of each objective, the hypervolume.
"$hilnas" watch "$job_id" --controller "$address" --format progress
echo "the search took $(( ($(date +%s) - started) / 60 )) min $(( ($(date +%s) - started) % 60 )) s"
echo
echo "Pareto front of job $job_id (each figure tagged with its source):"
"$hilnas" front "$job_id" --format table --controller "$address"

# The report and the front's models, as a user would take them away.
out="$state/jobs/$job_id"
mkdir -p "$out"
"$hilnas" report "$job_id" -o "$out/report.html" --controller "$address" >/dev/null
"$hilnas" front "$job_id" --format csv --controller "$address" | tail -n +2 | cut -d, -f1 |
    while read -r trial; do
        "$hilnas" export "$job_id" "$trial" --kind artifact -o "$out/trial-$trial.hnm" \
            --controller "$address" >/dev/null
        "$hilnas" export "$job_id" "$trial" --kind c -o "$out/trial-$trial-c" \
            --controller "$address" >/dev/null
        "$hilnas" export "$job_id" "$trial" --kind elf -o "$out/trial-$trial.elf" \
            --controller "$address" >/dev/null
    done
echo
echo "report:    $out/report.html (one page, no network: open it in a browser)"
echo "artifacts: $out/ (per front member: trial-N.hnm int8 model, trial-N-c/ C sources," \
     "trial-N.elf firmware for the STM32F405)"
echo "The stack is still running: hilnas submit|watch|front --controller $address;" \
     "stop it with: bash deploy/run-local.sh stop"
