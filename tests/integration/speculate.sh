#!/bin/sh
# Stragglers: with --speculate-after, an idle rank re-runs the chunks of a
# slow rank at the tail of a dynamic job; the first result is kept, the
# duplicate dropped, and the report counts the speculative runs.  Rank 1
# is made slow with the sleep kernel's --slow-rank.
. "$top_srcdir/tests/integration/lib.sh"

mb 3 sleep --tasks 40 --seconds 0.01 --chunk 1 --slow-rank 1 --slow-seconds 4 \
    --speculate-after 3 --out "$WORK/s.h5" --report "$WORK/s.json" --quiet ||
    fail "speculative run failed"
python3 - "$WORK/s.json" <<'PY' && ok || fail "report: $(head -c 400 "$WORK/s.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["tasks"] == 40 and r["tasks_failed"] == 0, r
# Rank 1 held two chunks (one running, one queued): both were copied (on a
# loaded machine a fast rank's chunk may be copied too).
assert r["speculative_runs"] >= 2, r["speculative_runs"]
# Every task once: the copies' results were kept, rank 1's dropped.
assert sum(p["tasks"] for p in r["per_rank"]) == 40
assert r["per_rank"][1]["tasks"] == 0, r["per_rank"]
PY
"$H5DUMP" -H -d /tasks/rank "$WORK/s.h5" | grep -q "( 40 )" && ok || fail "/tasks rows"

# Off by default: the slow rank's results are kept, nothing is copied.
mb 3 sleep --tasks 12 --seconds 0.01 --chunk 1 --slow-rank 1 --slow-seconds 0.3 \
    --report "$WORK/off.json" --quiet || fail "run without speculation failed"
[ "$(json_get "$WORK/off.json" speculative_runs)" = 0 ] && ok || fail "speculated while off"
[ "$(json_get "$WORK/off.json" per_rank.1.tasks)" -gt 0 ] && ok || fail "slow rank kept nothing"

# Speculation with retries and a journal together still sees each task once.
mb 3 sleep --tasks 40 --seconds 0.01 --chunk 2 --slow-rank 2 --slow-seconds 2 --fail-rank 1 \
    --retries 2 --speculate-after 3 --journal "$WORK/j.journal" --report "$WORK/m.json" \
    --quiet || fail "speculation with retries failed"
python3 - "$WORK/m.json" <<'PY' && ok || fail "mixed report: $(head -c 400 "$WORK/m.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["tasks"] == 40 and r["tasks_failed"] == 0, r
assert r["tasks_retried"] > 0 and r["speculative_runs"] > 0, r
assert sum(p["tasks"] for p in r["per_rank"]) == 40
PY

# Static schedules have no stragglers to copy: the option is accepted, unused.
mb 2 sleep --tasks 8 --seconds 0 --schedule static --speculate-after 2 \
    --report "$WORK/st.json" --quiet || fail "static with --speculate-after"
[ "$(json_get "$WORK/st.json" speculative_runs)" = 0 ] && ok || fail "static speculated"

finish
