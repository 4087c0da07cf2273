#!/bin/sh
# paths.sh - the program's main MPI paths at sizes valgrind runs in
# seconds (tests/valgrind/run.sh runs it with every rank under memcheck;
# it also passes, faster, as an ordinary integration test): every kernel,
# both schedules, 1 to 3 ranks, training, import, bad records, --strict,
# set-up errors and the output and report writers.
. "$top_srcdir/tests/integration/lib.sh"

"$MPIBATCH" corpus --docs 200 --seed 3 --out "$WORK/c.jsonl" >/dev/null || fail "corpus"
# The same total, to the bit, at every rank count and schedule.
first=
for n in 1 3; do
    for sched in static dynamic; do
        mb "$n" euler --terms 100000 --blocks 12 --schedule "$sched" --chunk 2 \
            --out "$WORK/e.h5" --report "$WORK/e.json" --quiet || fail "euler $n ranks $sched"
        total=$(json_get "$WORK/e.json" result.total)
        : "${first:=$total}"
        [ "$total" = "$first" ] && ok || fail "euler $n ranks $sched: $total, not $first"
    done
done
mb 2 sleep --tasks 40 --seconds 0 --out "$WORK/s.h5" --report "$WORK/s.json" --quiet &&
    [ "$(json_get "$WORK/s.json" tasks)" = 40 ] && ok || fail "sleep"
mb 2 train --input "$WORK/c.jsonl" --out "$WORK/m.h5" --hash-bits 12 --quiet && ok || fail "train"
mb 1 import --input "$WORK/c.jsonl" --out "$WORK/d.h5" --quiet && ok || fail "import"
mb 2 classify --model "$WORK/m.h5" --input "$WORK/d.h5" --out "$WORK/k.h5" --report "$WORK/k.json" \
    --quiet && [ "$(json_get "$WORK/k.json" tasks)" = 200 ] && ok || fail "classify a store"
{ head -n 5 "$WORK/c.jsonl"; echo 'not json'; printf '{"id": "x", "abstract": "\377"}\n'; } >"$WORK/bad.jsonl"
mb 3 classify --model "$WORK/m.h5" --input "$WORK/bad.jsonl" --out "$WORK/b.h5" --report "$WORK/b.json" --quiet
[ $? -eq 1 ] && [ "$(json_get "$WORK/b.json" tasks_failed)" = 2 ] && ok || fail "bad records"
expect_exit 3 "line 6: malformed JSON" 2 classify --model "$WORK/m.h5" --input "$WORK/bad.jsonl" \
    --strict --out "$WORK/strict.h5"
expect_exit 3 "$WORK/c.jsonl" 2 classify --model "$WORK/c.jsonl" --input "$WORK/c.jsonl"
expect_exit 2 "'terms' must be between" 2 euler --terms 0
[ ! -e "$WORK/strict.h5" ] && ok || fail "--strict left an output"
finish
