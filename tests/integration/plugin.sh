#!/bin/sh
# Plug-in kernels: the example library (examples/, built by make check)
# runs like a built-in at 1 and 2 ranks, by flags and by job file; bad
# libraries are refused with exit 2.
. "$top_srcdir/tests/integration/lib.sh"

build=$(dirname "$MPIBATCH")
lib="$build/examples/libmbexample.so"
badabi="$build/tests/integration/libmbbadabi.so"
[ -f "$lib" ] && [ -f "$badabi" ] || { fail "plug-ins not built (make check builds them)"; finish; exit 1; }

for n in 1 2; do
    mb "$n" --kernel-lib "$lib" --kernel mcpi --tasks 12 --samples 20000 --chunk 2 \
        --out "$WORK/p$n.h5" --report "$WORK/p$n.json" >"$WORK/stdout$n.txt" ||
        fail "$n ranks: run failed"
    [ "$(json_get "$WORK/p$n.json" tasks)" = 12 ] && ok || fail "$n ranks: task count"
    [ "$(json_get "$WORK/p$n.json" kernel)" = mcpi ] && ok || fail "$n ranks: kernel name"
    grep -q "mcpi, 12 tasks on $n ranks" "$WORK/stdout$n.txt" && ok || fail "$n ranks: summary"
done
results "$WORK/p1.h5" >"$WORK/r1.txt"
results "$WORK/p2.h5" | cmp -s "$WORK/r1.txt" - && ok || fail "1 and 2 ranks differ"
grep -q '"splitmix64"' "$WORK/r1.txt" && ok || fail "string field (mb_record_set_str) missing"
python3 - "$WORK/p1.json" "$WORK/p2.json" <<'PY' && ok || fail "reduced result"
import json, sys
a, b = (json.load(open(f))["result"] for f in sys.argv[1:])
assert a == b, (a, b)
assert a["samples"] == 12 * 20000, a
assert 0 < a["hits"] < a["samples"] and a["error"] < 0.05, a
PY

# The job-spec keys "kernel-lib" and "kernel" run the same job.
printf '{"kernel": "mcpi", "kernel-lib": "%s", "tasks": 12, "samples": 20000}\n' "$lib" \
    >"$WORK/job.json"
mb 2 run "$WORK/job.json" --out "$WORK/j.h5" --quiet || fail "job file run failed"
results "$WORK/j.h5" | cmp -s "$WORK/r1.txt" - && ok || fail "job file result differs"
"$H5DUMP" -a /job "$WORK/j.h5" | grep -q 'kernel-lib' && ok || fail "output's job lacks kernel-lib"

# Its own options in its help.
"$MPIBATCH" --kernel-lib "$lib" --kernel mcpi --help >"$WORK/help.txt" 2>&1 &&
    grep -q -- '--samples N' "$WORK/help.txt" && ok || fail "plug-in help: $(head -3 "$WORK/help.txt")"

OUT="$WORK/o"
mkdir "$OUT"
o="--out $OUT/r.h5 --report $OUT/r.json"
expect_exit 2 "cannot load kernel library: $WORK/none.so" 2 --kernel-lib "$WORK/none.so" \
    --kernel mcpi $o
expect_exit 2 "has no kernel 'pi' (symbol mb_kernel_pi)" 2 --kernel-lib "$lib" --kernel pi $o
expect_exit 2 "built for kernel ABI version 3, this mpibatch has version 2" 2 \
    --kernel-lib "$badabi" --kernel future $o
libm=$(find /lib /usr/lib -name 'libm.so.6' 2>/dev/null | head -1)
if [ -n "$libm" ]; then
    expect_exit 2 "is not an mpibatch kernel library" 1 --kernel-lib "$libm" --kernel mcpi $o
fi
expect_exit 2 "needs both --kernel-lib LIB and --kernel NAME" 1 --kernel-lib "$lib" $o
expect_exit 2 "not a C identifier" 1 --kernel-lib "$lib" --kernel 'mc-pi' $o
expect_exit 2 "unknown option --terms for 'mcpi'" 1 --kernel-lib "$lib" --kernel mcpi --terms 3 $o
printf '{"kernel": "mcpi", "kernel-lib": 7}\n' >"$WORK/bad.json"
expect_exit 2 "key 'kernel-lib' must be a string" 1 run "$WORK/bad.json"
no_outputs "$OUT"
finish
