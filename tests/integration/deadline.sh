#!/bin/sh
# --deadline: a task that would not end before it is not started (here
# --task-time 5 against a deadline 1 s away: none starts); the job stops
# with exit 75, the report and status document say so and show the time
# left, and the same command with a later deadline completes the job.  A
# malformed deadline is a usage error.
. "$top_srcdir/tests/integration/lib.sh"
"$MPIBATCH" --help | grep -q '^  exec ' || { echo "no exec kernel: skipped"; exit 77; }

i=1
: >"$WORK/cmds.txt"
while [ $i -le 6 ]; do
    echo "touch $WORK/ran.$i; echo line-$i" >>"$WORK/cmds.txt"
    i=$((i + 1))
done
job="exec --commands $WORK/cmds.txt --out $WORK/d.h5 --report $WORK/d.json --quiet"

# shellcheck disable=SC2086
expect_exit 75 "stopped at the deadline.*run the same command again" 3 $job \
    --deadline 1 --task-time 5 --status "$WORK/st.json"
[ -z "$(find "$WORK" -name 'ran.*')" ] && ok || fail "a task started that could not finish in time"
[ -e "$WORK/d.h5" ] && fail "a stopped job left an output" || ok
python3 - "$WORK/d.json" "$WORK/st.json" <<'PY' && ok || fail "deadline: report or status"
import json, sys
r, s = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert r["state"] == "stopped" and "deadline" in r["ending"] and r["tasks"] == 0, r
assert r["time_left_seconds"] is not None and r["time_left_seconds"] <= 1, r
assert s["state"] == "stopped" and s["deadline"] is not None, s
PY

# A deadline an hour away: every task runs; the time left is reported.
# shellcheck disable=SC2086
mb 3 $job --deadline 1h --task-time 5 || fail "a deadline far enough"
[ "$(find "$WORK" -name 'ran.*' | wc -l)" = 6 ] && ok || fail "not every task ran"
python3 - "$WORK/d.json" <<'PY' && ok || fail "deadline 1h: report"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["state"] == "complete" and r["tasks"] == 6 and 3000 < r["time_left_seconds"] <= 3600, r
PY

expect_exit 2 "'deadline' must be a time" 1 sleep --tasks 1 --deadline soon
expect_exit 2 "'deadline' must be a time" 1 sleep --tasks 1 --deadline 25:99

finish
