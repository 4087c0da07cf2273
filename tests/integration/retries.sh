#!/bin/sh
# Failure policy: --retries re-runs a failed task on another rank (both
# schedules), --max-failures stops the job early with exit 1, the output of
# what finished and a report of the failures.
# The sleep kernel's --fail-rank makes every task run on one rank fail.
. "$top_srcdir/tests/integration/lib.sh"

# report_is FILE LABEL PYTHON-ASSERTIONS (r is the report)
report_is() {
    python3 - "$1" "$3" <<'PY' && ok || fail "$2: report $(cat "$1" | head -c 300)"
import json, sys
r = json.load(open(sys.argv[1]))
exec(sys.argv[2])
PY
}

# ranks_of FILE: the distinct ranks in /tasks/rank.
ranks_of() {
    "$H5DUMP" -d /tasks/rank "$1" | sed -n '/DATA {/,/}/p' | tr -c '0-9\n' ' ' |
        sed 's/^ *([0-9]*)//' | tr ' ' '\n' | grep -v '^$' | sort -u | tr '\n' ' '
}

for sched in dynamic static; do
    # Rank 1 fails everything it runs; one retry elsewhere succeeds.
    mb 3 sleep --tasks 30 --seconds 0.002 --chunk 2 --schedule "$sched" --fail-rank 1 \
        --retries 1 --out "$WORK/$sched.h5" --report "$WORK/$sched.json" --quiet ||
        fail "$sched: retried run failed"
    report_is "$WORK/$sched.json" "$sched" '
assert r["tasks"] == 30 and r["tasks_failed"] == 0, r
assert r["tasks_retried"] > 0, r["tasks_retried"]
assert r["failures"] == []
# The rows kept are the re-runs: rank 1 ran none of the final results.
assert r["per_rank"][1]["tasks"] == 0, r["per_rank"]
assert sum(p["tasks"] for p in r["per_rank"]) == 30'
    case "$(ranks_of "$WORK/$sched.h5")" in
        *1*) fail "$sched: /tasks/rank still names the failing rank" ;;
        *) ok ;;
    esac
    "$H5DUMP" -H -d /failures/task "$WORK/$sched.h5" | grep -q "( 0 )" && ok ||
        fail "$sched: /failures not empty"

    # Without retries the failures stay: exit 1, listed with their reasons.
    expect_exit 1 "tasks failed" 3 sleep --tasks 30 --seconds 0.002 --chunk 2 \
        --schedule "$sched" --fail-rank 1 --out "$WORK/f-$sched.h5" --report "$WORK/f-$sched.json"
    report_is "$WORK/f-$sched.json" "$sched without retries" '
assert r["tasks_failed"] > 0 and r["tasks_retried"] == 0, r
assert len(r["failures"]) == r["tasks_failed"]
assert all("--fail-rank" in f["reason"] for f in r["failures"])'
done

# One rank: retries run on the same rank; each task fails 1 + 2 times.
expect_exit 1 "5 of 5 tasks failed" 1 sleep --tasks 5 --seconds 0 --fail-rank 0 --retries 2 \
    --out "$WORK/one.h5" --report "$WORK/one.json"
report_is "$WORK/one.json" "one rank" '
assert r["tasks_failed"] == 5 and r["tasks_retried"] == 10, r'
"$H5DUMP" -d /failures/task "$WORK/one.h5" | grep -q "(0): 0, 1, 2, 3, 4" && ok ||
    fail "one rank: /failures/task"

# --max-failures N: stop early, exit 1; the output holds the tasks done and
# says why it ended, the report lists the failures with their reasons.
mkdir "$WORK/stop"
for sched in dynamic static; do
    rm -f "$WORK/stop/s.h5" "$WORK/stop/s.h5.journal"
    expect_exit 1 "stopped early: .* more than --max-failures 3" 3 sleep --tasks 400 \
        --seconds 0.001 --schedule "$sched" --chunk 2 --fail-rank 1 --max-failures 3 \
        --out "$WORK/stop/s.h5" --report "$WORK/stop/s.json"
    report_is "$WORK/stop/s.json" "$sched max-failures" \
        'assert r["state"] == "failed" and "more than --max-failures 3" in r["ending"], r
assert r["tasks_failed"] >= 4 and "set to fail" in r["failures"][0]["reason"], r'
    "$H5DUMP" -a /ending "$WORK/stop/s.h5" 2>/dev/null | grep -q "more than --max-failures 3" &&
        ok || fail "$sched max-failures: the output lacks its ending"
done
# --max-failures P%: counted once 100 tasks are done.
expect_exit 1 "more than --max-failures 10%" 3 sleep --tasks 400 --seconds 0.001 --chunk 2 \
    --fail-rank 1 --max-failures 10% --out "$WORK/stop/p.h5" --no-journal
left=$(find "$WORK/stop" -name '*.part')
[ -z "$left" ] && ok || fail "max-failures left temporary files: $left"
# Within the limit the job runs to the end (exit 1: tasks failed).
expect_exit 1 "tasks failed" 2 sleep --tasks 20 --seconds 0 --schedule static --chunk 5 \
    --fail-rank 1 --max-failures 50% --report "$WORK/ok.json"
[ "$(json_get "$WORK/ok.json" tasks_failed)" = 10 ] && ok || fail "50%: failures"

expect_exit 2 "'max-failures' must be" 1 sleep --max-failures 5x
expect_exit 2 "'max-failures' must be" 1 sleep --max-failures 101%
expect_exit 2 "'retries' must be between" 1 sleep --retries -1

finish
