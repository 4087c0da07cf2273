#!/bin/sh
# Bad input: documented exit code, a message naming the problem, no output left.
. "$top_srcdir/tests/integration/lib.sh"

OUT="$WORK/o"
mkdir "$OUT"
o="--out $OUT/r.h5 --report $OUT/r.json"

expect_exit 2 "unknown option --bogus" 1 euler --bogus 3 $o
expect_exit 2 "unknown option --terms for 'sleep'" 1 sleep --terms 3 $o
expect_exit 2 "'terms' must be between" 2 euler --terms -5 $o
expect_exit 2 "'terms' must be between" 2 euler --terms 0 $o
expect_exit 2 "'blocks' must be between" 1 euler --blocks 0 $o
expect_exit 2 "'tasks' must be between" 1 sleep --tasks 0 $o
expect_exit 2 "'seconds' must be between" 1 sleep --seconds -1 $o
expect_exit 2 "expected a number, got 'ten'" 1 euler --terms ten $o
expect_exit 2 "'terms' must be a whole number" 1 euler --terms 2.5 $o
expect_exit 2 "out of range" 1 euler --terms 1e400 $o
expect_exit 2 "'blocks' (11) must not exceed 'terms' (10)" 2 euler --terms 10 --blocks 11 $o
expect_exit 2 "'chunk' must be between" 1 euler --chunk -1 $o
expect_exit 2 "option --schedule: 'guided' is not one of static|dynamic" 1 euler --schedule guided $o
expect_exit 2 "option --terms needs a value" 1 euler --terms
expect_exit 2 "unexpected argument 'extra'" 1 euler extra
expect_exit 2 "unknown kernel or command 'frobnicate'" 1 frobnicate
expect_exit 2 "no kernel or command given" 1
expect_exit 3 "cannot read job file '$WORK/none.json'" 2 run "$WORK/none.json"

printf '{"kernel": "euler",\n "terms": 100,,\n}\n' >"$WORK/malformed.json"
expect_exit 2 "malformed.json:2:" 2 run "$WORK/malformed.json"
printf '{"kernel": "euler", "termz": 100}' >"$WORK/unknown.json"
expect_exit 2 "unknown.json: unknown key 'termz'" 2 run "$WORK/unknown.json"
printf '{"kernel": "euler", "terms": "many"}' >"$WORK/type.json"
expect_exit 2 "'terms' must be an integer" 2 run "$WORK/type.json"
printf '{"kernel": "euler", "terms": 1e400}' >"$WORK/huge.json"
expect_exit 2 "'terms'" 1 run "$WORK/huge.json"
printf '' >"$WORK/empty.json"
expect_exit 2 "empty.json:1:" 1 run "$WORK/empty.json"

expect_exit 3 "cannot create output '$WORK/missing/r.h5': No such file or directory" \
    2 euler --terms 1000 --blocks 4 --out "$WORK/missing/r.h5"
expect_exit 3 "cannot create report '$WORK/missing/r.json'" \
    2 euler --terms 1000 --blocks 4 --out "$OUT/r.h5" --report "$WORK/missing/r.json"
no_outputs "$OUT"
[ ! -d "$WORK/missing" ] && ok || fail "missing directory was created"
finish
