#!/bin/sh
# Help, version, and the job-file form running the same job as the flags.
. "$top_srcdir/tests/integration/lib.sh"

"$MPIBATCH" --help | grep -q "Usage: mpirun -n RANKS mpibatch KERNEL" && ok || fail "--help"
"$MPIBATCH" euler --help | grep -q -- "--terms N" && ok || fail "euler --help"
"$MPIBATCH" help sleep | grep -q -- "--seconds S" && ok || fail "help sleep"
"$MPIBATCH" --version | grep -Eq "^mpibatch [0-9]+\.[0-9]+\.[0-9]+$" && ok || fail "--version"

cat >"$WORK/job.json" <<JSON
{"kernel": "euler", "terms": 1000000, "blocks": 9, "schedule": "static",
 "out": "$WORK/file.h5", "report": "$WORK/file.json", "quiet": true}
JSON
mb 2 run "$WORK/job.json" || fail "run job.json"
mb 2 euler --terms 1000000 --blocks 9 --schedule static --out "$WORK/flags.h5" \
    --report "$WORK/flags.json" --quiet || fail "flag form"
results "$WORK/file.h5" >"$WORK/a.txt"
results "$WORK/flags.h5" | cmp -s - "$WORK/a.txt" && ok || fail "job file and flags differ"
[ "$(json_get "$WORK/file.json" result.total)" = "$(json_get "$WORK/flags.json" result.total)" ] &&
    ok || fail "totals differ"
# The stored spec is the canonical job: defaults filled, chunk resolved.
"$H5DUMP" -a /job "$WORK/file.h5" | grep -q '"chunk":5' && ok || fail "spec attribute"

# Flags after the job file override its keys.
mb 1 run "$WORK/job.json" --blocks 3 --report "$WORK/over.json" || fail "override"
[ "$(json_get "$WORK/over.json" tasks)" = 3 ] && ok || fail "override not applied"

# --name=value form and the last of a repeated flag win.
mb 1 sleep --tasks=5 --tasks 4 --seconds=0 --report "$WORK/eq.json" --quiet || fail "--x=y"
[ "$(json_get "$WORK/eq.json" tasks)" = 4 ] && ok || fail "repeated flag"
finish
