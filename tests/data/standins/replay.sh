#!/bin/sh
# Replays a recorded run of a debug-probe tool; `openocd` and `pyocd` beside
# this file call it with their name first. See README.md.
#
#   HILNAS_STANDIN_ARGV_FILE  each call appends its arguments here: one line per
#                             call, each argument followed by a 0x1f byte
#   HILNAS_STANDIN_SCENARIO   comma-separated recordings: the n-th call replays
#                             the n-th (the last one repeats), from
#                             recorded/<tool>/<name>.{stdout,stderr,rc,sleep}
#
# A recording's missing .stdout/.stderr is empty, a missing .rc is 0; with a
# .sleep the stand-in prints, then sleeps that many seconds (a hung tool).
tool=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
: "${HILNAS_STANDIN_ARGV_FILE:?stand-in $tool: set HILNAS_STANDIN_ARGV_FILE}"
: "${HILNAS_STANDIN_SCENARIO:?stand-in $tool: set HILNAS_STANDIN_SCENARIO}"

call=1
if [ -f "$HILNAS_STANDIN_ARGV_FILE" ]; then
    call=$(($(wc -l <"$HILNAS_STANDIN_ARGV_FILE") + 1))
fi
{
    for arg in "$@"; do printf '%s\037' "$arg"; done
    printf '\n'
} >>"$HILNAS_STANDIN_ARGV_FILE"

scenario=
i=0
rest="$HILNAS_STANDIN_SCENARIO,"
while [ -n "$rest" ]; do
    scenario=${rest%%,*}
    rest=${rest#*,}
    i=$((i + 1))
    [ "$i" -ge "$call" ] && break
done

base="$here/recorded/$tool/$scenario"
if [ ! -f "$base.stdout" ] && [ ! -f "$base.stderr" ]; then
    echo "stand-in $tool: no recording '$scenario' in $here/recorded/$tool" >&2
    exit 98
fi
[ -f "$base.stdout" ] && cat "$base.stdout"
[ -f "$base.stderr" ] && cat "$base.stderr" >&2
[ -f "$base.sleep" ] && exec sleep "$(cat "$base.sleep")"
[ -f "$base.rc" ] && exit "$(cat "$base.rc")"
exit 0
