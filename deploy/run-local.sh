#!/usr/bin/env bash
# Installs every dependency, builds, and runs hilnas on this machine with the
# embedded defaults. At this stage: the controller on 127.0.0.1:50051, checked
# with `hilnas ping`; the search itself (PostgreSQL, trainer, emulated board)
# joins as it lands.
#
#   bash deploy/run-local.sh          install, build, start and ping
#   bash deploy/run-local.sh stop     stop what it started
#
# State (pid, log) lives in .hilnas/local/.
set -euo pipefail
cd "$(dirname "$0")/.."
state=.hilnas/local
mkdir -p "$state"
address=${HILNAS_LISTEN:-127.0.0.1:50051}

stop() {
    if [ -f "$state/controller.pid" ] && kill -0 "$(cat "$state/controller.pid")" 2>/dev/null; then
        kill -TERM "$(cat "$state/controller.pid")"
        for _ in $(seq 100); do kill -0 "$(cat "$state/controller.pid")" 2>/dev/null || break; sleep 0.1; done
        echo "controller stopped"
    fi
    rm -f "$state/controller.pid"
}

if [ "${1:-}" = stop ]; then stop; exit 0; fi

bash deploy/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)"

stop
rm -f "$state/port"
setsid build/controller/hilnas-controller --listen "$address" --port_file "$state/port" \
    >>"$state/controller.log" 2>&1 </dev/null &
echo $! >"$state/controller.pid"
for _ in $(seq 300); do
    [ -s "$state/port" ] && break
    kill -0 "$(cat "$state/controller.pid")" 2>/dev/null || { tail -n 5 "$state/controller.log" >&2; exit 1; }
    sleep 0.1
done
build/services/cli/hilnas ping --controller "$address"
echo "controller running (pid $(cat "$state/controller.pid"), log $state/controller.log);" \
     "stop it with: bash deploy/run-local.sh stop"
