#!/bin/sh
# exec's GNU parallel conveniences ({.} {/} {//} {/.} {#}, --colsep and
# {1} {2}, --dry-run), '#mpibatch barrier' lines under both schedules with
# retries, and the total of a commands file known before any task ends.
. "$top_srcdir/tests/integration/lib.sh"

printf '%s\n' 'dir/a.tar.gz,1' '# a comment' '' 'b.txt,two words' '#mpibatch barrier' \
    '/x/c,3' >"$WORK/args.txt"
cat >"$WORK/want.txt" <<'EOF2'
run 1 [dir/a.tar] [a.tar.gz] [dir] [a.tar] [dir/a.tar.gz] [1] [dir/a.tar.gz 1]
run 2 [b] [b.txt] [.] [b] [b.txt] [two words] [b.txt two words]
run 3 [/x/c] [c] [/x] [c] [/x/c] [3] [/x/c 3]
EOF2
tmpl='printf %s "run {#} [{1.}] [{1/}] [{1//}] [{1/.}] [{1}] [{2}] [{}]"'

# --dry-run: the commands, in task order, once, at any rank count; nothing
# runs and nothing is written.
sed 's/^.*$/printf %s "&"/' "$WORK/want.txt" >"$WORK/want-dry.txt"
for n in 1 2 3 4; do
    mb "$n" exec --command "$tmpl" --args "$WORK/args.txt" --colsep , --dry-run \
        --out "$WORK/dry.h5" >"$WORK/dry$n.txt" 2>"$WORK/err.txt"
    rc=$?
    [ "$rc" -eq 0 ] && ok || fail "dry run on $n ranks: exit $rc: $(cat "$WORK/err.txt")"
    cmp -s "$WORK/want-dry.txt" "$WORK/dry$n.txt" && ok ||
        fail "dry run on $n ranks printed: $(cat "$WORK/dry$n.txt")"
    [ ! -e "$WORK/dry.h5" ] && [ ! -e "$WORK/dry.h5.journal" ] && ok ||
        fail "dry run on $n ranks wrote output"
done
printf 'echo one\n\n  # skipped\necho two\n' >"$WORK/plain.txt"
mb 2 exec --commands "$WORK/plain.txt" --dry-run >"$WORK/dry.txt" 2>&1
printf 'echo one\necho two\n' | cmp -s - "$WORK/dry.txt" && ok ||
    fail "dry run of a commands file: $(cat "$WORK/dry.txt")"

# The same commands really run: their output is the expansion, the same at
# every rank count and schedule.
for n in 1 3; do
    for schedule in dynamic static; do
        rm -f "$WORK/t.h5" "$WORK/t.h5.journal"
        mb "$n" exec --command "$tmpl" --args "$WORK/args.txt" --colsep , \
            --schedule "$schedule" --out "$WORK/t.h5" --quiet 2>"$WORK/err.txt" && ok ||
            fail "$n ranks $schedule: $(cat "$WORK/err.txt")"
        "$H5DUMP" -A 0 -y -w 0 -d /results/stdout "$WORK/t.h5" | sed -n '/DATA {/,/}/p' |
            sed '1d;$d' | tr ',' '\n' | sed 's/^ *"//; s/" *$//; /^$/d' >"$WORK/got.txt"
        cmp -s "$WORK/want.txt" "$WORK/got.txt" && ok ||
            fail "$n ranks $schedule: outputs $(cat "$WORK/got.txt")"
    done
done

# A column a line lacks fails that task, naming the file and line.
printf 'a,b\nc\n' >"$WORK/short.txt"
expect_exit 1 "1 of 2 tasks failed" 2 exec --command 'echo {1} {2}' --args "$WORK/short.txt" \
    --colsep , --quiet --report "$WORK/short.json"
grep -q "short.txt:2: the line has 1 column but the command uses {2}" "$WORK/short.json" && ok ||
    fail "no reason for the missing column: $(cat "$WORK/short.json")"
expect_exit 1 "short.txt:2: the line has 1 column" \
    1 exec --command 'echo {2}' --args "$WORK/short.txt" --colsep , --dry-run
expect_exit 2 "matches the empty string" \
    1 exec --command 'echo {1}' --args "$WORK/short.txt" --colsep 'x*'
expect_exit 2 "'command' has no {}" 1 exec --command 'echo' --args "$WORK/short.txt"

# Directives: a typo is an error naming the line, before anything runs.
printf 'echo a\n#mpibatch barier\necho b\n' >"$WORK/typo.txt"
expect_exit 3 "typo.txt:2: unknown directive '#mpibatch barier'" \
    2 exec --commands "$WORK/typo.txt" --out "$WORK/typo.h5"
[ ! -e "$WORK/typo.h5" ] && ok || fail "a bad directive left output"

# A barrier: every task before it ends before any task after it starts.
# The tasks before it take different times, so without the barrier the
# tasks after it would start while the long one runs; one of them fails
# once and succeeds when retried, which the barrier waits for too.
{
    echo '# first phase'
    for t in 0.6 0.1 0.1 0.2; do
        echo "s=\$(date +%s.%N); sleep $t; echo A \$s \$(date +%s.%N) >>\"$WORK/times\""
    done
    echo "s=\$(date +%s.%N); sleep 0.2; echo A \$s \$(date +%s.%N) >>\"$WORK/times\";" \
        "test -e \"$WORK/failed-once\" || { touch \"$WORK/failed-once\"; exit 1; }"
    echo '#mpibatch barrier'
    echo '#mpibatch barrier'
    for t in 1 2 3 4 5; do
        echo "s=\$(date +%s.%N); echo B \$s \$(date +%s.%N) >>\"$WORK/times\""
    done
    echo '  #mpibatch barrier  '
    echo "echo C \$(date +%s.%N) \$(date +%s.%N) >>\"$WORK/times\""
} >"$WORK/phases.txt"
for n in 1 2 3 4; do
    for schedule in dynamic static; do
        rm -f "$WORK/times" "$WORK/failed-once"
        mb "$n" exec --commands "$WORK/phases.txt" --schedule "$schedule" --chunk 1 \
            --retries 1 --quiet 2>"$WORK/err.txt" && ok ||
            fail "barrier, $n ranks $schedule: $(cat "$WORK/err.txt")"
        # Each phase's last end is no later than the next phase's first start.
        awk '{n[$1]++} $1 == "A" && $3 > a {a = $3} $1 == "B" && (b == "" || $2 < b) {b = $2}
             $1 == "B" && $3 > be {be = $3} $1 == "C" {c = $2}
             END {exit !(n["A"] == 6 && n["B"] == 5 && n["C"] == 1 && a <= b && be <= c)}' \
            "$WORK/times" && ok || fail "barrier, $n ranks $schedule: $(sort -k2 "$WORK/times")"
    done
done

# A stopped job resumes with its barriers kept: the second task of each of
# the first two phases drains the job (SIGTERM to its own rank) the first
# time it runs; each rerun replays what was done, across a barrier the
# second time, and runs each phase's tasks before the next phase's.
stopper() {
    echo "s=\$(date +%s.%N); test -e \"$WORK/stop$1\" || { touch \"$WORK/stop$1\";" \
        "kill -TERM \$(awk '{print \$4}' /proc/\$PPID/stat); }; echo $2 \$s \$(date +%s.%N) >>\"$WORK/times\""
}
{
    echo "s=\$(date +%s.%N); echo A \$s \$(date +%s.%N) >>\"$WORK/times\""
    stopper 1 A
    echo "s=\$(date +%s.%N); sleep 0.5; echo A \$s \$(date +%s.%N) >>\"$WORK/times\""
    echo '#mpibatch barrier'
    echo "s=\$(date +%s.%N); echo B \$s \$(date +%s.%N) >>\"$WORK/times\""
    stopper 2 B
    echo "s=\$(date +%s.%N); sleep 0.5; echo B \$s \$(date +%s.%N) >>\"$WORK/times\""
    echo '#mpibatch barrier'
    for t in 1 2 3; do
        echo "s=\$(date +%s.%N); echo C \$s \$(date +%s.%N) >>\"$WORK/times\""
    done
} >"$WORK/resume.txt"
rm -f "$WORK/times" "$WORK/r.h5" "$WORK/r.h5.journal"
for run in 1 2; do
    mb 1 exec --commands "$WORK/resume.txt" --out "$WORK/r.h5" --quiet 2>"$WORK/err.txt"
    rc=$?
    [ "$rc" -eq 75 ] && [ -e "$WORK/r.h5.journal" ] && ok ||
        fail "run $run did not stop with a journal (exit $rc): $(cat "$WORK/err.txt")"
done
mb 3 exec --commands "$WORK/resume.txt" --out "$WORK/r.h5" --quiet 2>"$WORK/err.txt" && ok ||
    fail "the last resumed run: $(cat "$WORK/err.txt")"
[ "$(grep -c '^C' "$WORK/times")" -eq 3 ] && ok || fail "resumed tasks: $(cat "$WORK/times")"
awk '{n[$1]++} $1 == "A" && $3 > a {a = $3} $1 == "B" && (b == "" || $2 < b) {b = $2}
     $1 == "B" && $3 > be {be = $3} $1 == "C" && (c == "" || $2 < c) {c = $2}
     END {exit !(n["A"] >= 3 && n["B"] >= 3 && a <= b && be <= c)}' "$WORK/times" && ok ||
    fail "a resumed run broke a barrier: $(sort -k2 "$WORK/times")"

# The total of a commands file is known at once: the status document that
# the first task copies already says 4 tasks.
printf '%s\n' "cp \"$WORK/status.json\" \"$WORK/early.json\"" 'true' '# no task' 'true' 'true' \
    >"$WORK/four.txt"
mb 2 exec --commands "$WORK/four.txt" --status "$WORK/status.json" --quiet 2>"$WORK/err.txt" &&
    ok || fail "status run: $(cat "$WORK/err.txt")"
[ "$(json_get "$WORK/early.json" total)" = 4 ] && ok ||
    fail "the total was not known early: $(cat "$WORK/early.json")"
finish
