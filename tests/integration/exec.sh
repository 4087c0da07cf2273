#!/bin/sh
# The exec kernel: shell-command tasks, the same results at 1..4 ranks,
# environment, exit statuses, signals, timeouts, logs, {} and bad files.
. "$top_srcdir/tests/integration/lib.sh"

# field FILE NAME: one result dataset's values (or, for a NAME starting
# with /, that dataset's), one per line (strings must hold no comma or
# newline).
field() {
    case $2 in /*) path=$2 ;; *) path=/results/$2 ;; esac
    "$H5DUMP" -A 0 -y -w 0 -d "$path" "$1" | sed -n '/DATA {/,/}/p' | sed '1d;$d' |
        tr ',' '\n' | sed 's/^ *//; /^$/d'
}

# The commands: comments and blank lines between tasks, so task ids and
# line numbers differ: tasks 0..7 are on lines 2, 6, 7, 8, 9, 10, 11, 12.
cat >"$WORK/cmds.txt" <<'EOF'
# a header comment
printf 'task %s of %s' "$MB_TASK_ID" "$MB_NRANKS"

   # an indented comment, then a line of blanks
    	
printf one; echo two >&2
exit 3
printf '%s\n' "$MB_RANK" | grep -qx '[0-3]' && test -n "$MB_HOST" && printf env-ok
test -z "$PMIX_RANK$OMPI_COMM_WORLD_RANK" && printf no-mpi-env
echo last-words >&2; exit 4
kill -9 $$
echo "a b"
EOF

for n in 1 2 3 4; do
    mb "$n" exec --commands "$WORK/cmds.txt" --chunk 1 --out "$WORK/e$n.h5" \
        --report "$WORK/e$n.json" --quiet 2>"$WORK/err$n.txt"
    rc=$?
    [ "$rc" -eq 1 ] && ok || fail "$n ranks: exit $rc, expected 1 (failed tasks)"
    grep -q "3 of 8 tasks failed" "$WORK/err$n.txt" && ok || fail "$n ranks: no failure count"
    for f in stdout exit_status signal timed_out; do
        field "$WORK/e$n.h5" "$f" >"$WORK/$f.$n"
    done
    python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["failures"]))' \
        "$WORK/e$n.json" >"$WORK/failures.$n"
    # The first command prints MB_NRANKS; the rest must match exactly.
    [ "$(head -1 "$WORK/stdout.$n")" = "\"task 0 of $n\"" ] && ok || fail "$n ranks: MB_NRANKS"
    sed -i 1d "$WORK/stdout.$n"
    if [ "$n" -gt 1 ]; then
        for f in stdout exit_status signal timed_out failures; do
            cmp -s "$WORK/$f.1" "$WORK/$f.$n" && ok || fail "$n ranks: $f differs from 1 rank"
        done
    fi
done
# Each command line's own output ("task 0 of 3": MB_NRANKS at 3 ranks).
printf '%s\n' '"one"' '""' '"env-ok"' '"no-mpi-env"' '""' '""' >"$WORK/want-stdout"
head -6 "$WORK/stdout.3" | cmp -s "$WORK/want-stdout" - && ok || fail "stdout: $(cat "$WORK/stdout.3")"
# Output is kept with its newline.
"$H5DUMP" -A 0 -d /results/stdout "$WORK/e1.h5" | tr -d '\n' | grep -q '"a b *"' && ok ||
    fail "echo's output"
[ "$(tr '\n' ' ' <"$WORK/exit_status.1")" = "0 0 3 0 0 4 -1 0 " ] && ok ||
    fail "exit statuses: $(tr '\n' ' ' <"$WORK/exit_status.1")"
[ "$(tr '\n' ' ' <"$WORK/signal.1")" = "0 0 0 0 0 0 9 0 " ] && ok ||
    fail "signals: $(tr '\n' ' ' <"$WORK/signal.1")"
python3 - "$WORK/e2.json" "$WORK/cmds.txt" <<'PY' && ok || fail "report failures and result"
import json, sys
r = json.load(open(sys.argv[1]))
f = sys.argv[2]
assert r["tasks"] == 8 and r["tasks_failed"] == 3, r
assert r["failures"] == [
    {"task": 2, "reason": f + ":7: exit status 3"},
    {"task": 5, "reason": f + ":10: exit status 4: last-words"},
    {"task": 6, "reason": f + ":11: killed by signal 9 (Killed)"},
], r["failures"]
res = r["result"]
assert (res["commands"], res["succeeded"], res["failed"], res["timed_out"]) == (8, 5, 3, 0), res
assert res["peak_rss_kib_max"] > 0, res
PY
"$H5DUMP" -d /failures/reason "$WORK/e1.h5" | grep -q "cmds.txt:7: exit status 3" && ok ||
    fail "output lacks the failure table"

# Timeout: the whole process group goes, grandchildren included, long
# before the commands would end; a command ignoring SIGTERM gets SIGKILL
# after --grace.
cat >"$WORK/slow.txt" <<EOF
sleep 100 & echo \$! >"$WORK/grandchild.pid"; sleep 100
trap '' TERM; sleep 100
echo quick
EOF
mb 2 exec --commands "$WORK/slow.txt" --timeout 1 --grace 0.5 --chunk 1 \
    --out "$WORK/t.h5" --report "$WORK/t.json" --quiet 2>/dev/null
[ $? -eq 1 ] && ok || fail "timeouts: exit status"
python3 - "$WORK/t.json" "$WORK/slow.txt" <<'PY' && ok || fail "timeout reasons"
import json, sys
r = json.load(open(sys.argv[1]))
f = sys.argv[2]
assert r["failures"] == [{"task": 0, "reason": f + ":1: timed out after 1 s"},
                         {"task": 1, "reason": f + ":2: timed out after 1 s"}], r["failures"]
assert r["result"]["timed_out"] == 2, r["result"]
PY
[ "$(field "$WORK/t.h5" signal | tr '\n' ' ')" = "15 9 0 " ] && ok ||
    fail "timeout signals: $(field "$WORK/t.h5" signal | tr '\n' ' ')"
[ "$(field "$WORK/t.h5" timed_out | tr '\n' ' ')" = "1 1 0 " ] && ok || fail "timed_out field"
# Killed at the timeout (well under the commands' 100 s), not run out.
field "$WORK/t.h5" wall_seconds | awk '$1 >= 50 {bad = 1} END {exit bad}' && ok ||
    fail "timed-out tasks ran on: $(field "$WORK/t.h5" wall_seconds | tr '\n' ' ')"
pid=$(cat "$WORK/grandchild.pid")
if alive "$pid"; then
    fail "grandchild $pid survived the timeout"
    kill "$pid"
else
    ok
fi

# A command's end is seen when its shell exits, even though a process that
# left its group still holds its output pipe (for 300 s, far longer than
# this test may take); the output written before the end is kept.
cat >"$WORK/held.txt" <<EOF
setsid sleep 300 & echo \$! >"$WORK/held.pid"; echo before-end
echo second
EOF
mb 1 exec --commands "$WORK/held.txt" --out "$WORK/held.h5" --quiet
[ $? -eq 0 ] && ok || fail "a command whose pipe stays held"
[ "$(field "$WORK/held.h5" stdout | tr -d ' \n')" = '"before-end""second"' ] && ok ||
    fail "held pipe output: $(field "$WORK/held.h5" stdout | tr '\n' ' ')"
kill "$(cat "$WORK/held.pid")" 2>/dev/null

# A rank killed outright (SIGKILL: no clean-up of its own) leaves no
# command running: its helper sees the socket close and kills the group.
printf 'echo $$ >"%s/victim.pid"; exec sleep 100\n' "$WORK" >"$WORK/victim.txt"
"$MPIBATCH" exec --commands "$WORK/victim.txt" --out "$WORK/victim.h5" --quiet 2>/dev/null &
runner=$!
i=0
while [ ! -s "$WORK/victim.pid" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
kill -9 "$runner"
wait "$runner" 2>/dev/null
victim=$(cat "$WORK/victim.pid")
i=0
while alive "$victim" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if alive "$victim"; then
    fail "command $victim outlived its killed rank"
    kill "$victim"
else
    ok
fi

# Progress goes on during a long command (no task ends for 3 s): plain
# lines at the interval say it is running, on 1 rank and on 2.
echo "sleep 3" >"$WORK/long.txt"
for n in 1 2; do
    mb "$n" exec --commands "$WORK/long.txt" --out "$WORK/long.h5" --progress plain \
        --progress-interval 0.5 >/dev/null 2>"$WORK/long.err"
    [ $? -eq 0 ] && ok || fail "$n ranks: long command failed"
    # (1 rank has read only the first line yet: the total is not known.)
    [ "$(grep -c '^mpibatch: 0\(/1\)\{0,1\} tasks done.*, 0 failed, 1 running' "$WORK/long.err")" -ge 2 ] &&
        ok || fail "$n ranks: progress during a long command: $(cat "$WORK/long.err")"
done

# peak_rss_kib is the command's own: a small command is not charged with
# mpibatch's memory (tens of MiB), and one that touches 64 MiB shows it.
cat >"$WORK/rss.txt" <<'EOF'
cat /dev/null
python3 -c 'b = bytearray(64 << 20); b[::4096] = b"x" * (16 << 10)'
EOF
mb 1 exec --commands "$WORK/rss.txt" --out "$WORK/rss.h5" --quiet
[ $? -eq 0 ] && ok || fail "rss commands failed"
field "$WORK/rss.h5" peak_rss_kib | tr '\n' ' ' >"$WORK/rss.got"
awk '{exit !($1 > 0 && $1 < 8192 && $2 >= 65536)}' "$WORK/rss.got" && ok ||
    fail "peak_rss_kib (small command, 64 MiB command): $(cat "$WORK/rss.got")"

# Logs with --log-mode files: one file per task and stream, in directories
# created as needed; {} replaced by each argument line (tests/integration/
# logs.sh tests the default, streamed logs).
printf 'alpha\n# skipped\n\nbeta gamma\n3\n' >"$WORK/args.txt"
mb 2 exec --command 'echo "<{}>"; echo "err {}" >&2; test "{}" != 3' --args "$WORK/args.txt" \
    --logs "$WORK/logs/deep/er" --log-mode files --out "$WORK/l.h5" --report "$WORK/l.json" --quiet 2>/dev/null
[ $? -eq 1 ] && ok || fail "logs: exit status"
[ "$(cat "$WORK/logs/deep/er/task-000001.out")" = "<beta gamma>" ] && ok || fail "stdout log"
[ "$(cat "$WORK/logs/deep/er/task-000001.err")" = "err beta gamma" ] && ok || fail "stderr log"
[ "$(ls "$WORK/logs/deep/er" | tr '\n' ' ')" = "task-000000.err task-000000.out \
task-000001.err task-000001.out task-000002.err task-000002.out " ] && ok ||
    fail "log files: $(ls "$WORK/logs/deep/er")"
[ "$(json_get "$WORK/l.json" failures.0.reason)" = "$WORK/args.txt:5: exit status 1: err 3" ] &&
    ok || fail "args failure reason: $(json_get "$WORK/l.json" failures.0.reason)"

# A job file runs the same job.
printf '{"kernel": "exec", "commands": "%s", "chunk": 1}\n' "$WORK/cmds.txt" >"$WORK/job.json"
mb 2 run "$WORK/job.json" --out "$WORK/j.h5" --quiet 2>/dev/null
field "$WORK/j.h5" exit_status | cmp -s - "$WORK/exit_status.1" && ok || fail "job file run"

# Bad commands files and options: documented exit status, clear message,
# no output left behind.
OUT="$WORK/o"
mkdir "$OUT"
# Long tasks: one command per chunk, every rank runs commands (rank 0
# between its turns at serving the others), and a failed command is
# retried on another rank.
seq 1 6 | sed 's/.*/printf %s "$MB_RANK"/' >"$WORK/ranks.txt"
mb 3 exec --commands "$WORK/ranks.txt" --out "$WORK/ranks.h5" --report "$WORK/ranks.json" --quiet
[ $? -eq 0 ] && ok || fail "exec on 3 ranks failed"
field "$WORK/ranks.h5" stdout | tr -d '"' | sort -u | tr '\n' ' ' >"$WORK/ranks.used"
[ "$(cat "$WORK/ranks.used")" = "0 1 2 " ] && ok || fail "ranks that ran commands: $(cat "$WORK/ranks.used")"
# The report agrees: every rank ran tasks, so the load imbalance is not the
# 100 % of a rank 0 that ran none.
python3 - "$WORK/ranks.json" <<'PY' && ok || fail "per-rank tasks in the report"
import json, sys
r = json.load(open(sys.argv[1]))
assert [p["tasks"] > 0 for p in r["per_rank"]] == [True] * 3, r["per_rank"]
assert sum(p["tasks"] for p in r["per_rank"]) == 6, r["per_rank"]
PY

# No holes: three commands of 3, 3 and 2 s on 3 ranks run on three ranks
# at once; none waits in a busy rank's queue (each starts before any ends).
printf 'sleep 3\nsleep 3\nsleep 2\n' >"$WORK/holes.txt"
mb 3 exec --commands "$WORK/holes.txt" --chunk 1 --out "$WORK/holes.h5" --quiet
[ $? -eq 0 ] && ok || fail "3 commands on 3 ranks failed"
[ "$(field "$WORK/holes.h5" /tasks/rank | sort -u | wc -l)" -eq 3 ] && ok ||
    fail "3 commands on 3 ranks ran on ranks $(field "$WORK/holes.h5" /tasks/rank | tr '\n' ' ')"
field "$WORK/holes.h5" /tasks/start >"$WORK/holes.start"
field "$WORK/holes.h5" /tasks/seconds | paste -d ' ' "$WORK/holes.start" - |
    awk '{s = $1; e = $1 + $2; if (NR == 1 || s > ms) ms = s; if (NR == 1 || e < me) me = e}
         END {exit !(ms < me)}' && ok || fail "a command waited for another to end"
printf '[ -e "%s/flag" ] || { touch "%s/flag"; exit 5; }\n' "$WORK" "$WORK" >"$WORK/once.txt"
for n in 2 3; do
    rm -f "$WORK/flag"
    mb "$n" exec --commands "$WORK/once.txt" --retries 1 --out "$WORK/once$n.h5" \
        --report "$WORK/once$n.json" --quiet
    [ $? -eq 0 ] && ok || fail "$n ranks: a command failing once was not retried"
    [ "$(json_get "$WORK/once$n.json" tasks_retried)" = 1 ] && ok || fail "$n ranks: tasks_retried"
done

o="--out $OUT/r.h5 --report $OUT/r.json"
expect_exit 3 "cannot read '$WORK/none.txt'" 2 exec --commands "$WORK/none.txt" $o
printf '# nothing\n\n   \n' >"$WORK/empty.txt"
expect_exit 3 "'$WORK/empty.txt' holds no commands" 2 exec --commands "$WORK/empty.txt" $o
: >"$WORK/zero.txt"
expect_exit 3 "'$WORK/zero.txt' holds no arguments" 1 exec --command 'echo {}' \
    --args "$WORK/zero.txt" $o
expect_exit 2 "'commands' (a file of commands) or 'command' with 'args' is required" 1 exec $o
expect_exit 2 "not both" 1 exec --commands "$WORK/cmds.txt" --command 'echo {}' $o
expect_exit 2 "'command' needs 'args'" 1 exec --command 'echo {}' $o
expect_exit 2 "'args' needs 'command'" 1 exec --args "$WORK/args.txt" $o
expect_exit 2 "'command' has no {}" 1 exec --command 'echo' --args "$WORK/args.txt" $o
expect_exit 2 "'timeout' must be between" 1 exec --commands "$WORK/cmds.txt" --timeout -1 $o
no_outputs "$OUT"
finish
