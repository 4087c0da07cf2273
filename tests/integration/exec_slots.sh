#!/bin/sh
# exec --slots, --cores-per-task, --gpus-per-task and "#mpibatch" lines:
# never more commands at once on a rank than its slots, cores or devices
# allow; the same results at 1..4 ranks, 1..4 slots and both schedules;
# timeouts among many commands in flight.
. "$top_srcdir/tests/integration/lib.sh"

# field FILE NAME: one result dataset's values, one per line.
field() {
    "$H5DUMP" -A 0 -y -w 0 -d "/results/$2" "$1" | sed -n '/DATA {/,/}/p' | sed '1d;$d' |
        tr ',' '\n' | sed 's/^ *//; /^$/d'
}

# Each task writes "RANK START END [WHAT]" to spans/TASK: START and END are
# taken inside the command, so the spans lie within the commands' lives.
span() {
    printf '%s\n' "s=\$(date +%s.%N); $1; printf '%s %s %s %s\\n' \"\$MB_RANK\" \"\$s\" \"\$(date +%s.%N)\" \"$2\" >\"$WORK/spans/\$MB_TASK_ID\""
}

# most DIR: the most spans of one rank that overlap, over all ranks.
most() {
    python3 - "$1" <<'EOF'
import os, sys
spans = {}
for f in os.listdir(sys.argv[1]):
    r, s, e = open(os.path.join(sys.argv[1], f)).read().split()[:3]
    spans.setdefault(r, []).append((float(s), float(e)))
print(max(max(sum(1 for s2, e2 in v if s2 <= s < e2) for s, e in v) for v in spans.values()))
EOF
}

# The commands: short sleeps, output that names the task, a failure.
: >"$WORK/cmds.txt"
for i in 0 1 2 3 4 5 6 7 8 9 10 11; do
    span "sleep 0.0$((i % 3 + 3)); echo line-$i" "" >>"$WORK/cmds.txt"
done
echo 'echo no >&2; exit 5' >>"$WORK/cmds.txt"

for sched in dynamic static; do
    for n in 1 2 3 4; do
        for slots in 1 2 3 4; do
            rm -rf "$WORK/spans"
            mkdir "$WORK/spans"
            mb "$n" exec --commands "$WORK/cmds.txt" --slots "$slots" --schedule "$sched" \
                --retries 1 --out "$WORK/o.h5" --quiet 2>"$WORK/err.txt"
            rc=$?
            [ "$rc" -eq 1 ] && ok || fail "$sched $n ranks $slots slots: exit $rc: $(cat "$WORK/err.txt")"
            for f in stdout exit_status signal timed_out; do
                field "$WORK/o.h5" "$f" >"$WORK/$f.now"
            done
            if [ -f "$WORK/stdout.first" ]; then
                for f in stdout exit_status signal timed_out; do
                    cmp -s "$WORK/$f.first" "$WORK/$f.now" && ok ||
                        fail "$sched $n ranks $slots slots: $f differs from 1 rank 1 slot"
                done
            else
                for f in stdout exit_status signal timed_out; do
                    mv "$WORK/$f.now" "$WORK/$f.first"
                done
            fi
            m=$(most "$WORK/spans")
            [ "$m" -le "$slots" ] && ok || fail "$sched $n ranks $slots slots: $m commands at once"
        done
    done
done
grep -q '"line-11' "$WORK/stdout.first" && ok || fail "stdout: $(cat "$WORK/stdout.first")"
[ "$(tail -1 "$WORK/exit_status.first")" = 5 ] && ok || fail "exit statuses"

# A timeout among commands in flight: only that one is killed.
printf '%s\n' 'sleep 0.3; printf a' 'sleep 60; printf never' 'sleep 0.3; printf b' 'printf c' \
    >"$WORK/to.txt"
mb 1 exec --commands "$WORK/to.txt" --slots 4 --timeout 2 --grace 1 --out "$WORK/to.h5" \
    --report "$WORK/to.json" --quiet 2>"$WORK/err.txt"
[ "$(field "$WORK/to.h5" timed_out | tr '\n' ' ')" = "0 1 0 0 " ] && ok ||
    fail "timeouts: $(field "$WORK/to.h5" timed_out | tr '\n' ' ')"
[ "$(field "$WORK/to.h5" stdout | tr '\n' ' ')" = '"a" "" "b" "c" ' ] && ok ||
    fail "timeout's neighbours: $(field "$WORK/to.h5" stdout | tr '\n' ' ')"
json_get "$WORK/to.json" failures.0.reason | grep -q 'to.txt:2: timed out after 2 s' && ok ||
    fail "timeout: $(cat "$WORK/to.json")"

# --cores-per-task: each command is pinned to cores of its own and told so.
# No binding by mpirun, so the rank may use every core here.
ncores=$(nproc)
rm -rf "$WORK/spans"
mkdir "$WORK/spans"
: >"$WORK/cores.txt"
for i in 0 1 2 3 4 5; do
    span 'sleep 0.2' "\$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)/\$MB_CPUS/\$OMP_NUM_THREADS" >>"$WORK/cores.txt"
done
"$MPIEXEC" --oversubscribe --bind-to none -n 1 "$MPIBATCH" exec --commands "$WORK/cores.txt" \
    --cores-per-task 1 --slots auto --out "$WORK/c.h5" --quiet 2>"$WORK/err.txt" && ok ||
    fail "cores: $(cat "$WORK/err.txt")"
python3 - "$WORK/spans" "$ncores" >"$WORK/check.txt" <<'EOF' && ok || fail "cores: $(cat "$WORK/check.txt")"
import os, sys
rows = [open(os.path.join(sys.argv[1], f)).read().split() for f in os.listdir(sys.argv[1])]
bad = []
for r in rows:
    allowed, cpus, omp = r[3].split("/")
    if allowed != cpus or omp != "1" or int(cpus) >= int(sys.argv[2]):
        bad.append(r[3])
for a in rows:
    for b in rows:
        if a is not b and float(a[1]) <= float(b[1]) < float(a[2]) and a[3] == b[3]:
            bad.append("shared " + a[3])
print(len(rows), bad)
sys.exit(1 if bad or len(rows) != 6 else 0)
EOF

# --gpus-per-task with a device list: each command's devices are its own.
rm -rf "$WORK/spans"
mkdir "$WORK/spans"
: >"$WORK/gpus.txt"
for i in 0 1 2 3 4 5; do
    span 'sleep 0.2' '$CUDA_VISIBLE_DEVICES' >>"$WORK/gpus.txt"
done
echo '#mpibatch gpus=3' >>"$WORK/gpus.txt"
span 'sleep 0.2' '$CUDA_VISIBLE_DEVICES' >>"$WORK/gpus.txt"
mb 1 exec --commands "$WORK/gpus.txt" --gpus 0,1,2,3 --gpus-per-task 2 --slots 4 \
    --out "$WORK/g.h5" --quiet 2>"$WORK/err.txt" && ok || fail "gpus: $(cat "$WORK/err.txt")"
python3 - "$WORK/spans" >"$WORK/check.txt" <<'EOF' && ok || fail "gpus: $(cat "$WORK/check.txt")"
import os, sys
rows = {int(f): open(os.path.join(sys.argv[1], f)).read().split() for f in os.listdir(sys.argv[1])}
bad = [t for t, r in rows.items() if len(r[3].split(",")) != (3 if t == 6 else 2)]
for a in rows.values():
    for b in rows.values():
        if a is not b and float(a[1]) <= float(b[1]) < float(a[2]) and \
                set(a[3].split(",")) & set(b[3].split(",")):
            bad.append("shared " + a[3] + " " + b[3])
print(len(rows), bad)
sys.exit(1 if bad or len(rows) != 7 else 0)
EOF

# Asking for more than the rank has: a usage error (exit 2) for the
# options, a failed task naming its line for a directive.
expect_exit 2 "'cores-per-task' 60000 is more than" 1 exec --commands "$WORK/to.txt" \
    --cores-per-task 60000 --out "$WORK/x.h5"
expect_exit 2 "'gpus-per-task' 5 is more than the 4 devices" 1 exec --commands "$WORK/to.txt" \
    --gpus 0,1,2,3 --gpus-per-task 5 --out "$WORK/x.h5"
expect_exit 2 "'slots' must be 'auto' or a whole number" 1 exec --commands "$WORK/to.txt" \
    --slots 0 --out "$WORK/x.h5"
printf '%s\n' 'echo a' '#mpibatch cores=60000' 'echo b' >"$WORK/big.txt"
mb 1 exec --commands "$WORK/big.txt" --out "$WORK/x.h5" --report "$WORK/big.json" --quiet \
    2>/dev/null
json_get "$WORK/big.json" failures.0.reason | grep -q "big.txt:3: asks for 60000 cores" && ok ||
    fail "a directive asking too much: $(cat "$WORK/big.json")"
printf '%s\n' 'echo a' '#mpibatch cores=2 colour=red' 'echo b' >"$WORK/bad.txt"
expect_exit 3 "bad.txt:2: unknown directive '#mpibatch colour=red'" 1 exec \
    --commands "$WORK/bad.txt" --out "$WORK/x.h5"

# Logs with four commands in flight on a rank: each task's output whole
# and in order, though in stream mode the records of the commands running
# at once interleave in one log; the failed tasks' commands from the logs;
# and --rerun-failed runs just those lines again, in slots too (a
# "#mpibatch" line before one of them still applies).
: >"$WORK/log.txt"
for i in 0 1 2 3 4 5 6 7; do
    [ "$i" -eq 5 ] && echo '#mpibatch cores=1' >>"$WORK/log.txt"
    printf 'for k in 1 2 3; do echo t%s-$k; echo e%s-$k >&2; sleep 0.05; done; ' "$i" "$i" \
        >>"$WORK/log.txt"
    case $i in
        2 | 5) echo "test -e $WORK/fixed" >>"$WORK/log.txt" ;;
        *) echo true >>"$WORK/log.txt" ;;
    esac
done
rm -f "$WORK/fixed"
for mode in stream files; do
    L="$WORK/logs-$mode"
    mb 2 exec --commands "$WORK/log.txt" --slots 4 --logs "$L" --log-mode "$mode" \
        --out "$WORK/l-$mode.h5" --quiet 2>"$WORK/err.txt"
    rc=$?
    [ "$rc" -eq 1 ] && ok || fail "logs $mode: exit $rc: $(cat "$WORK/err.txt")"
    for i in 0 1 2 3 4 5 6 7; do
        if [ "$mode" = stream ]; then
            "$MPIBATCH" logs "$L" "$i" >"$WORK/got.txt"
        else
            cat "$L/task-00000$i.out" "$L/task-00000$i.err" >"$WORK/got.txt"
        fi
        printf 't%s-1\nt%s-2\nt%s-3\ne%s-1\ne%s-2\ne%s-3\n' "$i" "$i" "$i" "$i" "$i" "$i" |
            cmp -s - "$WORK/got.txt" && ok || fail "logs $mode: task $i: $(cat "$WORK/got.txt")"
    done
    [ "$(field "$WORK/l-$mode.h5" line | tr '\n' ' ')" = "1 2 3 4 5 7 8 9 " ] && ok ||
        fail "logs $mode: lines $(field "$WORK/l-$mode.h5" line | tr '\n' ' ')"
done
"$MPIBATCH" logs "$WORK/logs-stream" --failed --commands >"$WORK/failed.txt"
sed -n '3p; 7p' "$WORK/log.txt" | cmp -s - "$WORK/failed.txt" && ok ||
    fail "logs --failed --commands: $(cat "$WORK/failed.txt")"
"$MPIBATCH" logs "$WORK/logs-stream" >"$WORK/list.txt"
[ "$(sed 1d "$WORK/list.txt" | wc -l)" -eq 8 ] && ok || fail "logs: $(cat "$WORK/list.txt")"
touch "$WORK/fixed"
mb 2 exec --rerun-failed "$WORK/l-stream.h5" --commands "$WORK/log.txt" --slots 4 \
    --logs "$WORK/logs-stream" --out "$WORK/r.h5" --quiet 2>"$WORK/err.txt" && ok ||
    fail "rerun-failed with slots: $(cat "$WORK/err.txt")"
[ "$(field "$WORK/r.h5" line | tr '\n' ' ')" = "3 7 " ] && ok ||
    fail "rerun-failed with slots: lines $(field "$WORK/r.h5" line | tr '\n' ' ')"
"$MPIBATCH" logs "$WORK/logs-stream" 1 >"$WORK/got.txt"
printf 't5-1\nt5-2\nt5-3\ne5-1\ne5-2\ne5-3\n' | cmp -s - "$WORK/got.txt" && ok ||
    fail "the rerun's task 1 (line 7): $(cat "$WORK/got.txt")"

finish
