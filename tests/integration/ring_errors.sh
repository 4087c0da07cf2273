#!/bin/sh
# mpibatch ring: usage errors exit 2 and name the option; a bad report path
# exits 3 before any timing; one message, from rank 0.
. "$top_srcdir/tests/integration/lib.sh"

# alone CODE PATTERN ARGS...: as expect_exit, on one rank without a launcher
# (a failing mpirun takes seconds to wind down); options are checked before
# the rank count, so these errors are the ones any rank count gets.
alone() {
    code=$1 pattern=$2
    shift 2
    "$MPIBATCH" "$@" >"$WORK/out.txt" 2>"$WORK/err.txt"
    got=$?
    if [ "$got" -ne "$code" ]; then
        fail "mpibatch $*: exit $got, expected $code; stderr: $(head -c 400 "$WORK/err.txt")"
    elif ! grep -q -- "$pattern" "$WORK/err.txt"; then
        fail "mpibatch $*: stderr lacks '$pattern': $(head -c 400 "$WORK/err.txt")"
    else
        ok
    fi
}

alone 2 "option --pattern ring needs at least 2 ranks, got 1" ring
alone 2 "option --pattern pingpong needs at least 2 ranks" ring --pattern pingpong
alone 2 "option --pattern: 'star' is not one of" ring --pattern star
alone 2 "option --buffer: 'dirty' is not one of" ring --buffer dirty
alone 2 "option --sizes: range '3:16' needs A <= B" ring --sizes 3:16
alone 2 "option --sizes: '8x' is not a size" ring --sizes 8x
alone 2 "option --sizes: '2G' is larger than 1G" ring --sizes 2G
alone 2 "'repeats' must be between 1 and 1000" ring --repeats 0
alone 2 "option --iterations (2) must be at least --repeats (5)" ring --iterations 2
alone 2 "option --max-seconds: expected a number" ring --max-seconds soon
alone 2 "unknown option --bogus for 'ring'" ring --bogus 1
alone 2 "unexpected argument 'extra'" ring extra
alone 2 "option --sizes needs a value" ring --sizes
grep -q "Try 'mpibatch help ring'" "$WORK/err.txt" && ok || fail "usage hint"
[ ! -s "$WORK/out.txt" ] && ok || fail "output despite a usage error"

# Every rank finds the error; rank 0 alone reports it.
expect_exit 2 "is not one of" 3 ring --pattern star
[ "$(grep -c '^mpibatch:' "$WORK/err.txt")" = 1 ] && ok || fail "message printed more than once"

mkdir "$WORK/out"
expect_exit 3 "cannot create report '$WORK/out/missing/r.json'" 2 ring --report "$WORK/out/missing/r.json"
[ ! -s "$WORK/out.txt" ] && ok || fail "timed although the report path is bad"
no_outputs "$WORK/out"
finish
