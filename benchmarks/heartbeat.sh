#!/bin/sh
# heartbeat.sh [BUILD] [PAIRS] - the cost of --heartbeat on the empty-task
# rate: 400,000 zero-second sleep tasks on 3 ranks, --heartbeat 0 and 30
# alternating, PAIRS pairs (default 4); prints tasks/s per run.
set -eu
build=${1:-build}
pairs=${2:-4}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=0
while [ "$i" -lt "$pairs" ]; do
    for hb in 0 30; do
        mpirun --oversubscribe -n 3 "$build/mpibatch" sleep --tasks 400000 --seconds 0 \
            --heartbeat "$hb" --quiet --report "$tmp/hb.json" >/dev/null 2>&1
        python3 -c "import json, sys; r = json.load(open(sys.argv[1]))
print('heartbeat', sys.argv[2], round(r['tasks_per_second']))" "$tmp/hb.json" "$hb"
    done
    i=$((i + 1))
done
