#!/bin/sh
# exec --rerun-failed OLD.h5: exactly the failed and timed-out tasks of an
# earlier run again, with other options (a longer --timeout), at 1..4
# ranks, into a new output or the same one; a changed or shorter commands
# file and an output without failures are refused.
. "$top_srcdir/tests/integration/lib.sh"

# field FILE NAME: a /results dataset's values on one line.
field() {
    "$H5DUMP" -A 0 -y -w 0 -d "/results/$2" "$1" | sed -n '/DATA {/,/}/p' | sed '1d;$d' |
        tr ',' '\n' | sed 's/^ *//; /^$/d' | tr '\n' ' '
}

# Line 3 sleeps past the timeout until nap says 0; line 5 fails until
# fixed exists.
cat >"$WORK/cmds.txt" <<EOF
echo a
# a comment
sleep \$(cat $WORK/nap)
echo b
test -e $WORK/fixed || exit 4
echo c
EOF
for n in 1 2 3 4; do
    echo 30 >"$WORK/nap"
    rm -f "$WORK/fixed"
    mb "$n" exec --commands "$WORK/cmds.txt" --timeout 1 --grace 1 --out "$WORK/o$n.h5" \
        --quiet 2>/dev/null
    [ $? -eq 1 ] && ok || fail "$n ranks: first run's exit status"
    [ "$(field "$WORK/o$n.h5" timed_out)" = "0 1 0 0 0 " ] && ok ||
        fail "$n ranks: timed out: $(field "$WORK/o$n.h5" timed_out)"
    echo 0 >"$WORK/nap"
    touch "$WORK/fixed"
    mb "$n" exec --rerun-failed "$WORK/o$n.h5" --commands "$WORK/cmds.txt" --timeout 60 \
        --out "$WORK/r$n.h5" --quiet && ok || fail "$n ranks: the rerun failed"
    [ "$(field "$WORK/r$n.h5" line)" = "3 5 " ] && ok ||
        fail "$n ranks: rerun lines $(field "$WORK/r$n.h5" line)"
    [ "$(field "$WORK/r$n.h5" exit_status)" = "0 0 " ] && ok ||
        fail "$n ranks: rerun exits $(field "$WORK/r$n.h5" exit_status)"
done
# --dry-run prints just the commands a rerun would run.
echo 30 >"$WORK/nap"
rm -f "$WORK/fixed"
mb 2 exec --commands "$WORK/cmds.txt" --timeout 1 --grace 1 --out "$WORK/d.h5" --quiet 2>/dev/null
mb 2 exec --dry-run --rerun-failed "$WORK/d.h5" --commands "$WORK/cmds.txt" >"$WORK/dry.txt" &&
    sed -n '3p;5p' "$WORK/cmds.txt" | cmp -s - "$WORK/dry.txt" && ok ||
    fail "dry run of a rerun: $(cat "$WORK/dry.txt")"
echo 0 >"$WORK/nap"
touch "$WORK/fixed"

# Into the same output: it then holds the rerun's tasks.
cp "$WORK/o2.h5" "$WORK/same.h5"
mb 2 exec --rerun-failed "$WORK/same.h5" --commands "$WORK/cmds.txt" --out "$WORK/same.h5" \
    --quiet && ok || fail "rerun into the same output"
[ "$(field "$WORK/same.h5" line)" = "3 5 " ] && ok || fail "same output: $(field "$WORK/same.h5" line)"

# A --command template: its failed argument lines, checked by expansion.
printf 'x\ny\nz\n' >"$WORK/args.txt"
mb 2 exec --command 'test {} != y' --args "$WORK/args.txt" --out "$WORK/t.h5" --quiet 2>/dev/null
[ $? -eq 1 ] && ok || fail "template run's exit status"
mb 2 exec --command 'echo {}' --args "$WORK/args.txt" --rerun-failed "$WORK/t.h5" \
    --out "$WORK/t2.h5" --quiet 2>"$WORK/e"
[ $? -eq 3 ] && grep -q "args.txt:2: not the command 'test y != y' that failed there" "$WORK/e" &&
    ok || fail "changed template: $(cat "$WORK/e")"

# Refusals: a changed line, a shorter file, nothing failed, not exec's.
sed 's/^test -e/test -f/' "$WORK/cmds.txt" >"$WORK/changed.txt"
expect_exit 3 "changed.txt:5: not the command 'test -e $WORK/fixed || exit 4' that failed there" 2 \
    exec --rerun-failed "$WORK/o2.h5" --commands "$WORK/changed.txt" --out "$WORK/x.h5" --quiet
head -3 "$WORK/cmds.txt" >"$WORK/short.txt"
expect_exit 3 "'$WORK/short.txt' ends at line 3, before line 5 where a task failed" 2 \
    exec --rerun-failed "$WORK/o2.h5" --commands "$WORK/short.txt" --out "$WORK/x.h5" --quiet
expect_exit 3 "records no failed tasks: nothing to run again" 2 \
    exec --rerun-failed "$WORK/r2.h5" --commands "$WORK/cmds.txt" --out "$WORK/x.h5" --quiet
mb 1 sleep --tasks 2 --seconds 0 --out "$WORK/sleep.h5" --quiet
expect_exit 3 "has no /results/line and /results/command" 2 \
    exec --rerun-failed "$WORK/sleep.h5" --commands "$WORK/cmds.txt" --out "$WORK/x.h5" --quiet
[ ! -e "$WORK/x.h5" ] && ok || fail "a refused rerun left an output"
finish
