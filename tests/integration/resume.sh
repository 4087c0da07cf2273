#!/bin/sh
# --journal and --resume: a job killed with SIGKILL at several points and
# resumed gives result datasets identical to an uninterrupted run, with no
# task lost or recorded twice; a journal of another job is refused and a
# torn or corrupt tail is cut off.
. "$top_srcdir/tests/integration/lib.sh"
command -v h5diff >/dev/null 2>&1 || { echo "h5diff missing: skipped"; exit 77; }

TASKS=2000
job="euler --terms 1000000000 --blocks $TASKS --chunk 4 --quiet"

# same FILE LABEL: /results and /failures of FILE equal the reference's,
# and /tasks has one row per task.
same() {
    h5diff "$WORK/ref.h5" "$1" /results >/dev/null && ok || fail "$2: /results differ"
    h5diff "$WORK/ref.h5" "$1" /failures >/dev/null && ok || fail "$2: /failures differ"
    "$H5DUMP" -H -d /tasks/rank "$1" | grep -q "( $TASKS )" && ok || fail "$2: /tasks rows"
}

size_of() {
    stat -c %s "$1" 2>/dev/null || echo 0
}

# killed_at BYTES LABEL: start the job with a journal, SIGKILL mpirun and
# every rank once the journal holds BYTES, then resume it on 3 ranks under
# the static schedule (run-control options may change) and compare.
killed_at() {
    bytes=$1 label=$2
    rm -f "$WORK/k.journal" "$WORK/k.h5"
    # shellcheck disable=SC2086
    "$MPIEXEC" --oversubscribe -n 2 "$MPIBATCH" $job --out "$WORK/k.h5" \
        --journal "$WORK/k.journal" --journal-interval 0.2 >/dev/null 2>&1 &
    pid=$!
    waited=0
    while [ "$(size_of "$WORK/k.journal")" -lt "$bytes" ] && kill -0 "$pid" 2>/dev/null &&
          [ "$waited" -lt 3000 ]; do
        sleep 0.01
        waited=$((waited + 1))
    done
    # shellcheck disable=SC2046
    kill -9 $(pgrep -P "$pid") "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    [ -e "$WORK/k.h5" ] && [ "$(size_of "$WORK/k.journal")" -lt "$full" ] &&
        fail "$label: a killed run left a complete-looking output"
    # shellcheck disable=SC2086
    mb 3 $job --schedule static --out "$WORK/k.h5" --report "$WORK/k.json" \
        --journal "$WORK/k.journal" --resume || { fail "$label: resume failed"; return; }
    same "$WORK/k.h5" "$label"
    python3 - "$WORK/k.json" "$TASKS" <<'PY' && ok || fail "$label: task accounting"
import json, sys
r = json.load(open(sys.argv[1]))
tasks = int(sys.argv[2])
assert r["tasks"] == tasks, r["tasks"]
# Tasks replayed plus tasks run now make up the job: none twice, none lost.
assert r["tasks_resumed"] + sum(p["tasks"] for p in r["per_rank"]) == tasks, r
PY
    echo "$label: resumed $(json_get "$WORK/k.json" tasks_resumed) of $TASKS tasks"
}

# The uninterrupted run, with a journal that records all of it.
# shellcheck disable=SC2086
mb 2 $job --out "$WORK/ref.h5" --journal "$WORK/ref.journal" || fail "reference run"
full=$(size_of "$WORK/ref.journal")
[ "$full" -gt 32 ] && ok || fail "the reference journal is empty"

# The same command line continues: an existing journal of the job is
# resumed without --resume (and never replaced).
cp "$WORK/ref.journal" "$WORK/x.journal"
# shellcheck disable=SC2086
mb 2 $job --out "$WORK/x.h5" --report "$WORK/x.json" --journal "$WORK/x.journal" ||
    fail "the same command again"
same "$WORK/x.h5" "same command"
[ "$(json_get "$WORK/x.json" tasks_resumed)" = "$TASKS" ] && ok || fail "same command: replayed"
cmp -s "$WORK/ref.journal" "$WORK/x.journal" && ok || fail "a complete journal was changed"

# Killed early (the first frames), in the middle, and with every frame
# recorded (as if killed while writing the output).
killed_at 100 "early"
killed_at $((full / 2)) "middle"
killed_at "$full" "complete journal"

# Resume of a complete journal whose output is gone: nothing runs again.
cp "$WORK/ref.journal" "$WORK/c.journal"
# shellcheck disable=SC2086
mb 1 $job --out "$WORK/c.h5" --report "$WORK/c.json" --journal "$WORK/c.journal" --resume ||
    fail "resume of a complete journal"
same "$WORK/c.h5" "complete"
[ "$(json_get "$WORK/c.json" tasks_resumed)" = "$TASKS" ] && ok || fail "complete: replayed count"

# A torn tail (a frame cut short) and garbage after it are cut off.
head -c $((full - 100)) "$WORK/ref.journal" >"$WORK/t.journal"
printf 'garbage after a torn frame' >>"$WORK/t.journal"
# shellcheck disable=SC2086
mb 2 $job --out "$WORK/t.h5" --report "$WORK/t.json" --journal "$WORK/t.journal" --resume ||
    fail "resume of a torn journal"
same "$WORK/t.h5" "torn"
resumed=$(json_get "$WORK/t.json" tasks_resumed)
[ "$resumed" -gt 0 ] && [ "$resumed" -lt "$TASKS" ] && ok || fail "torn: replayed $resumed"
[ "$(size_of "$WORK/t.journal")" = "$full" ] && ok || fail "torn: journal not rewritten whole"

# A flipped byte inside a frame: its CRC fails, the prefix before it stays.
cp "$WORK/ref.journal" "$WORK/f.journal"
printf 'X' | dd of="$WORK/f.journal" bs=1 seek=$((full / 2)) conv=notrunc 2>/dev/null
# shellcheck disable=SC2086
mb 2 $job --out "$WORK/f.h5" --report "$WORK/f.json" --journal "$WORK/f.journal" --resume ||
    fail "resume of a corrupt journal"
same "$WORK/f.h5" "corrupt"
resumed=$(json_get "$WORK/f.json" tasks_resumed)
[ "$resumed" -gt 0 ] && [ "$resumed" -lt "$TASKS" ] && ok || fail "corrupt: replayed $resumed"

# Another job's journal is refused (exit 2) and left as it was.
cp "$WORK/ref.journal" "$WORK/o.journal"
expect_exit 2 "records a different job" 2 euler --terms 999999999 --blocks $TASKS --chunk 4 \
    --out "$WORK/o.h5" --journal "$WORK/o.journal" --resume
cmp -s "$WORK/ref.journal" "$WORK/o.journal" && ok || fail "a refused journal was changed"
[ -e "$WORK/o.h5" ] && fail "refused resume wrote an output" || ok
echo "not a journal, just text" >"$WORK/n.journal"
expect_exit 2 "is not an mpibatch journal" 1 euler --blocks 10 --journal "$WORK/n.journal" --resume
expect_exit 2 "'resume' needs 'journal'" 1 euler --blocks 10 --resume

# --resume without a journal yet starts one (job scripts may always pass it).
mb 1 euler --blocks 10 --journal "$WORK/new.journal" --resume --quiet || fail "fresh --resume"
[ "$(size_of "$WORK/new.journal")" -gt 32 ] && ok || fail "fresh --resume wrote no journal"

# A source kernel: a run stopped by --max-failures keeps its journal; the
# resume skips the recorded commands and runs the rest.
if "$MPIBATCH" --help | grep -q '^  exec '; then
    i=0
    : >"$WORK/cmds.txt"
    while [ $i -lt 60 ]; do
        if [ $i = 30 ]; then echo "false" >>"$WORK/cmds.txt"; else echo "echo line-$i" >>"$WORK/cmds.txt"; fi
        i=$((i + 1))
    done
    mb 2 exec --commands "$WORK/cmds.txt" --chunk 2 --quiet --out "$WORK/eref.h5" >/dev/null 2>&1
    [ $? = 1 ] && ok || fail "exec reference: expected exit 1 (one command fails)"
    expect_exit 1 "stopped early.*journal '$WORK/e.journal' keeps them" 2 exec \
        --commands "$WORK/cmds.txt" --chunk 2 --quiet --out "$WORK/e.h5" \
        --report "$WORK/e.json" --journal "$WORK/e.journal" --max-failures 0
    # What finished is in the output, which says why it stopped, and in the
    # report, with the failure and its reason.
    "$H5DUMP" -a /ending "$WORK/e.h5" 2>/dev/null | grep -q "more than --max-failures 0" && ok ||
        fail "max-failures: the output lacks its ending"
    [ "$(json_get "$WORK/e.json" state)" = failed ] && ok || fail "max-failures: report state"
    json_get "$WORK/e.json" failures.0.reason | grep -q "cmds.txt:31: exit status 1" && ok ||
        fail "max-failures: the report lacks the failure's reason"
    rm -f "$WORK/e.h5"
    # The journal knows its input: an edited line is refused, not reused.
    cp "$WORK/cmds.txt" "$WORK/cmds.orig"
    sed -i '1s/.*/echo edited/' "$WORK/cmds.txt"
    expect_exit 2 "task 0's input changed since journal" 2 exec --commands "$WORK/cmds.txt" \
        --chunk 2 --quiet --out "$WORK/e.h5" --journal "$WORK/e.journal"
    cp "$WORK/cmds.orig" "$WORK/cmds.txt"
    mb 2 exec --commands "$WORK/cmds.txt" --chunk 2 --quiet --out "$WORK/e.h5" \
        --report "$WORK/e.json" --journal "$WORK/e.journal" --resume >/dev/null 2>&1
    [ $? = 1 ] && ok || fail "exec resume: expected exit 1"
    for d in /results/stdout /results/exit_status /failures/task; do
        h5diff "$WORK/eref.h5" "$WORK/e.h5" "$d" >/dev/null && ok || fail "exec resume: $d differs"
    done
    resumed=$(json_get "$WORK/e.json" tasks_resumed)
    [ "$resumed" -gt 30 ] && [ "$resumed" -lt 60 ] && ok || fail "exec: replayed $resumed"
fi

finish
