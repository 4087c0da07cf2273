#!/bin/sh
# The sleeper: every task runs once, spread over the ranks, under both schedules.
. "$top_srcdir/tests/integration/lib.sh"

for sched in dynamic static; do
    mb 3 sleep --tasks 24 --seconds 0.02 --schedule "$sched" --chunk 2 \
        --out "$WORK/s.h5" --report "$WORK/s.json" >"$WORK/stdout.txt" || fail "$sched: run failed"
    [ "$(json_get "$WORK/s.json" tasks)" = 24 ] && ok || fail "$sched: task count"
    [ "$(json_get "$WORK/s.json" tasks_failed)" = 0 ] && ok || fail "$sched: failures"
    python3 - "$WORK/s.json" <<'PY' && ok || fail "$sched: per-rank accounting"
import json, sys
r = json.load(open(sys.argv[1]))
per = r["per_rank"]
assert [p["rank"] for p in per] == [0, 1, 2]
assert sum(p["tasks"] for p in per) == 24
assert all(p["tasks"] >= 2 for p in per), per          # every rank computed
assert all(p["busy_seconds"] >= 0.02 * p["tasks"] for p in per)
assert r["result"]["sleep_seconds_total"] == 24 * 0.02
for key in ("program", "version", "kernel", "schedule", "chunk", "ranks", "hosts",
            "tasks", "tasks_failed", "wall_seconds", "tasks_per_second",
            "load_imbalance", "per_rank", "result"):
    assert key in r, key
PY
    grep -q "sleep, 24 tasks on 3 ranks" "$WORK/stdout.txt" && ok || fail "$sched: summary line"
    "$H5DUMP" -d /tasks/status "$WORK/s.h5" | grep -q '(0): ok, ok' && ok || fail "$sched: status"
done

# Zero-second tasks: many tasks, one at a time, none lost.
mb 2 sleep --tasks 20000 --seconds 0 --chunk 1 --report "$WORK/z.json" --quiet || fail "empty tasks"
[ "$(json_get "$WORK/z.json" tasks)" = 20000 ] && ok || fail "empty task count"
finish
