#!/bin/sh
# Euler results are identical at 1-4 ranks, both schedules, several chunks.
. "$top_srcdir/tests/integration/lib.sh"

mb 1 euler --terms 10000000 --blocks 37 --schedule static --chunk 37 \
    --out "$WORK/ref.h5" --report "$WORK/ref.json" --quiet || fail "reference run"
results "$WORK/ref.h5" >"$WORK/ref.txt"
ref_total=$(json_get "$WORK/ref.json" result.total)
[ "$(json_get "$WORK/ref.json" tasks)" = 37 ] && ok || fail "reference task count"
# The total is within one ulp of the exact value pi^2/6 - psi1(n+1).
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["result"]
sys.exit(0 if abs(r["error"]) <= 2.5e-16 else 1)' "$WORK/ref.json" && ok || fail "error above one ulp"

for n in 1 2 3 4; do
    for sched in static dynamic; do
        for k in 1 3 7; do
            tag="n$n-$sched-k$k"
            if ! mb "$n" euler --terms 10000000 --blocks 37 --schedule "$sched" --chunk "$k" \
                    --out "$WORK/$tag.h5" --report "$WORK/$tag.json" --quiet; then
                fail "$tag: run failed"
                continue
            fi
            results "$WORK/$tag.h5" | cmp -s - "$WORK/ref.txt" && ok || fail "$tag: results differ"
            [ "$(json_get "$WORK/$tag.json" result.total)" = "$ref_total" ] && ok ||
                fail "$tag: total differs from 1 rank"
            [ "$(json_get "$WORK/$tag.json" ranks)" = "$n" ] && ok || fail "$tag: rank count"
        done
    done
done

# Every rank ran tasks at 4 ranks: the tasks dataset names ranks 0..3.
"$H5DUMP" -d /tasks/rank "$WORK/n4-dynamic-k1.h5" | grep -q ' 3' && ok || fail "rank 3 ran nothing"
finish
