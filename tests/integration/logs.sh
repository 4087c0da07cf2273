#!/bin/sh
# exec's streamed logs and `mpibatch logs`: the round trip of a task's
# output at 1..4 ranks, retried attempts marked superseded, the failed
# tasks' output and commands, a rerun of exactly those into the same log
# directory, and the logs of a killed job.
. "$top_srcdir/tests/integration/lib.sh"

# field FILE NAME: a /results dataset's values, one per line.
field() {
    "$H5DUMP" -A 0 -y -w 0 -d "/results/$2" "$1" | sed -n '/DATA {/,/}/p' | sed '1d;$d' |
        tr ',' '\n' | sed 's/^ *//; /^$/d'
}

for n in 1 2 3 4; do
    # Task 1 fails once (it leaves a marker), then succeeds; task 2 fails
    # until $WORK/fixed$n exists.
    cat >"$WORK/cmds$n.txt" <<EOF2
# tasks 0..3 on lines 2, 3, 5, 6
echo out-\$MB_TASK_ID; echo err-\$MB_TASK_ID >&2
test -e $WORK/marker$n || { touch $WORK/marker$n; echo first-try >&2; exit 5; }; echo second-try

test -e $WORK/fixed$n || { echo broken >&2; exit 3; }
printf 'no newline'
EOF2
    L="$WORK/logs$n"
    mb "$n" exec --commands "$WORK/cmds$n.txt" --retries 1 --chunk 1 --logs "$L" \
        --out "$WORK/o$n.h5" --quiet 2>"$WORK/err$n.txt"
    [ $? -eq 1 ] && ok || fail "$n ranks: exit status, expected 1"
    grep -q "again: mpibatch exec --rerun-failed $WORK/o$n.h5 --commands $WORK/cmds$n.txt" \
        "$WORK/err$n.txt" && ok ||
        fail "$n ranks: no hint how to rerun the failed tasks: $(cat "$WORK/err$n.txt")"
    [ "$(ls "$L" | grep -c '^rank-[0-9]*\.log$')" -eq "$n" ] && ok || fail "$n ranks: $(ls "$L")"
    # The line numbers and commands are in the output.
    [ "$(field "$WORK/o$n.h5" line | tr '\n' ' ')" = "2 3 5 6 " ] && ok ||
        fail "$n ranks: lines $(field "$WORK/o$n.h5" line | tr '\n' ' ')"
    "$H5DUMP" -A 0 -d /results/command "$WORK/o$n.h5" | grep -q '"printf .no newline.' && ok ||
        fail "$n ranks: command text"

    "$MPIBATCH" logs "$L" 0 >"$WORK/t0" && ok || fail "$n ranks: logs 0"
    printf 'out-0\nerr-0\n' | cmp -s - "$WORK/t0" && ok || fail "$n ranks: task 0: $(cat "$WORK/t0")"
    [ "$("$MPIBATCH" logs "$L" 0 --stream err)" = "err-0" ] && ok || fail "$n ranks: --stream err"
    [ "$("$MPIBATCH" logs "$L" 3)" = "no newline" ] && ok || fail "$n ranks: task 3"
    # The retried task: its final attempt, or every attempt with headers.
    [ "$("$MPIBATCH" logs "$L" 1)" = "second-try" ] && ok || fail "$n ranks: task 1"
    "$MPIBATCH" logs "$L" 1 --attempts >"$WORK/a1"
    grep -q '^==> task 1 (line 3, rank [0-9]*, attempt 1 of 2, superseded): failed: .*exit status 5: first-try <==$' \
        "$WORK/a1" && ok || fail "$n ranks: superseded attempt: $(cat "$WORK/a1")"
    grep -q '^==> task 1 (line 3, rank [0-9]*, attempt 2 of 2): ok <==$' "$WORK/a1" && ok ||
        fail "$n ranks: final attempt: $(cat "$WORK/a1")"
    [ "$(grep -v '^==>' "$WORK/a1" | tr '\n' ' ')" = "first-try second-try " ] && ok ||
        fail "$n ranks: attempts' output: $(cat "$WORK/a1")"
    # The failed task: its output, and its command as a commands file.
    "$MPIBATCH" logs "$L" --failed >"$WORK/f$n"
    [ "$(grep -c '^==> task' "$WORK/f$n")" -eq 1 ] && grep -q '^==> task 2 (line 5' "$WORK/f$n" &&
        grep -qx broken "$WORK/f$n" && ok || fail "$n ranks: --failed: $(cat "$WORK/f$n")"
    "$MPIBATCH" logs "$L" --failed --commands >"$WORK/again$n.txt"
    sed -n 5p "$WORK/cmds$n.txt" | cmp -s - "$WORK/again$n.txt" && ok ||
        fail "$n ranks: failed commands: $(cat "$WORK/again$n.txt")"
    "$MPIBATCH" logs "$L" >"$WORK/list$n"
    [ "$(cut -f1,2,4,5 "$WORK/list$n" | sed 1d | tr '\t\n' ', ')" = \
"0,2,1,ok 1,3,2,ok 2,5,2,failed: $WORK/cmds$n.txt:5: exit status 3: broken 3,6,1,ok " ] && ok ||
        fail "$n ranks: list: $(cat "$WORK/list$n")"

    # Rerun exactly the failed task, now fixed, into the same directory:
    # the first run's logs stay.
    touch "$WORK/fixed$n"
    mb "$n" exec --commands "$WORK/again$n.txt" --logs "$L" --out "$WORK/r$n.h5" --quiet &&
        ok || fail "$n ranks: rerun failed"
    [ "$(field "$WORK/r$n.h5" exit_status | tr '\n' ' ')" = "0 " ] && ok ||
        fail "$n ranks: rerun ran $(field "$WORK/r$n.h5" exit_status | tr '\n' ' ')"
    [ "$("$MPIBATCH" logs "$L" | sed 1d | cut -f5)" = ok ] && ok || fail "$n ranks: rerun's list"
    [ "$("$MPIBATCH" logs "$L" --run 1 2 --stream err)" = broken ] && ok ||
        fail "$n ranks: the first run's log of task 2"
    [ "$("$MPIBATCH" logs "$L" --run 1 0 --stream out)" = out-0 ] && ok ||
        fail "$n ranks: the first run's log of task 0"
    # A task the last run lacks comes from the run before.
    [ "$("$MPIBATCH" logs "$L" 3)" = "no newline" ] && ok || fail "$n ranks: task 3 after the rerun"
    "$MPIBATCH" logs "$L" --failed --commands >"$WORK/none$n" && [ ! -s "$WORK/none$n" ] && ok ||
        fail "$n ranks: the rerun has no failures: $(cat "$WORK/none$n")"
done

# A killed job: its logs stay readable, the command that was running
# shows what it wrote, and a torn last record is ignored.
printf 'echo done-first\necho started; sleep 60\n' >"$WORK/long.txt"
"$MPIBATCH" exec --commands "$WORK/long.txt" --logs "$WORK/killed" --out "$WORK/k.h5" \
    --quiet 2>/dev/null &
pid=$!
i=0
until [ "$("$MPIBATCH" logs "$WORK/killed" 1 2>/dev/null)" = started ] || [ $i -ge 600 ]; do
    sleep 0.1
    i=$((i + 1))
done
kill -KILL $pid
wait $pid 2>/dev/null
printf 'MBLR torn' >>"$WORK/killed/rank-0000.log"
printf 'MBLI torn' >>"$WORK/killed/rank-0000.idx"
[ "$("$MPIBATCH" logs "$WORK/killed" 0)" = done-first ] && ok || fail "killed: task 0"
[ "$("$MPIBATCH" logs "$WORK/killed" 1)" = started ] && ok || fail "killed: task 1"
"$MPIBATCH" logs "$WORK/killed" | grep -q '^1	2	0	1	did not end' && ok ||
    fail "killed: list: $("$MPIBATCH" logs "$WORK/killed")"

# Without --out, the hint names the logs.
printf 'exit 3\n' >"$WORK/fails.txt"
mb 2 exec --commands "$WORK/fails.txt" --logs "$WORK/nout" --quiet 2>"$WORK/e"
grep -q "again: mpibatch logs $WORK/nout --failed --commands > failed.txt" "$WORK/e" && ok ||
    fail "hint without --out: $(cat "$WORK/e")"

# Bad use says what is wrong.
"$MPIBATCH" logs "$WORK/logs1" 9 2>"$WORK/e"
[ $? -eq 3 ] && grep -q "has no log of task 9" "$WORK/e" && ok || fail "unknown task: $(cat "$WORK/e")"
"$MPIBATCH" logs "$WORK/logs1" --run 5 2>"$WORK/e"
[ $? -eq 3 ] && grep -q "holds 2 runs, not run 5" "$WORK/e" && ok || fail "--run 5: $(cat "$WORK/e")"
"$MPIBATCH" logs "$WORK" 2>"$WORK/e"
[ $? -eq 3 ] && grep -q "holds no exec logs" "$WORK/e" && ok || fail "no logs: $(cat "$WORK/e")"
"$MPIBATCH" logs "$WORK/logs1" x 2>"$WORK/e"
[ $? -eq 2 ] && grep -q "'x' is not a task id" "$WORK/e" && ok || fail "bad task id: $(cat "$WORK/e")"
"$MPIBATCH" logs "$WORK/logs1" --commands 2>"$WORK/e"
[ $? -eq 2 ] && grep -q "needs TASK ids or --failed" "$WORK/e" && ok || fail "--commands alone"
finish
