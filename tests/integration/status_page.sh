#!/bin/sh
# The live status page in a real browser (headless Chromium): the failures
# count and table with reasons, a finished job with failures coloured apart
# from a clean one, an unknown total, the page reloading itself while the
# job runs and not after, `status --watch` ending with the job.  The
# screenshot of the finished page is kept as status-page.png in the
# directory the test runs in (build/ under make check).
. "$top_srcdir/tests/integration/lib.sh"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || { echo "SKIP: no chromium"; exit 77; }
# dom PAGE: what the browser made of PAGE, as HTML.
dom() {
    "$CHROMIUM" --headless --no-sandbox --disable-gpu --user-data-dir="$WORK/chrome" \
        --dump-dom "file://$1" 2>/dev/null
}
st="$WORK/run.status.json"

# 40 tasks of 0.05 s on 2 ranks, those on rank 0 failing; `status --html
# --watch` rewrites the page until the job ends, then stops by itself.
mb 2 sleep --tasks 40 --seconds 0.05 --chunk 1 --fail-rank 0 --status "$st" \
    --status-interval 0.05 --quiet 2>/dev/null &
pid=$!
i=0
while kill -0 "$pid" 2>/dev/null; do
    [ -f "$st" ] && cp "$st" "$WORK/snap.$i.json" 2>/dev/null && i=$((i + 1))
    sleep 0.05
done
wait "$pid"
[ $? -eq 1 ] && ok || fail "job with failing tasks: exit status"
running=$(grep -l '"state":[[:space:]]*"running"' "$WORK"/snap.*.json | tail -1)
[ -n "$running" ] && ok || fail "no snapshot of the running job"
# Its rank 0 has ended since: shown "gone", no reload.  As a job still
# running, the snapshot names a live process (this shell) as its writer.
"$MPIBATCH" status "$running" --html "$WORK/gone.html" || fail "status --html gone"
grep -q 'class="state-failed">gone<' "$WORK/gone.html" && ! grep -q 'http-equiv="refresh"' \
    "$WORK/gone.html" && ok || fail "the page of a job whose rank 0 is gone"
sed "s/\"pid\":[[:space:]]*[0-9]*/\"pid\": $$/" "$running" >"$WORK/live.json"
running="$WORK/live.json"
"$MPIBATCH" status "$st" --html "$WORK/done.html" || fail "status --html"

# Finished with failures: its own colour, the count, a row per listed
# failure with its reason, and no reload.
dom "$WORK/done.html" >"$WORK/done.dom"
grep -q '<span id="state" class="state-finished-failures">finished, [0-9]* failed</span>' \
    "$WORK/done.dom" && ok || fail "finished state with failures: $(grep 'id="state"' "$WORK/done.dom")"
n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["failed"])' "$st")
grep -q "<p id=\"failures\" class=\"failures\">$n failed</p>" "$WORK/done.dom" && ok ||
    fail "failures count $n not shown"
rows=$(grep -c '<td class="reason">task [0-9]*: rank 0 is set to fail (--fail-rank)</td>' \
    "$WORK/done.dom")
[ "$rows" -ge 1 ] && [ "$rows" -le 20 ] && ok || fail "failed-tasks table: $rows rows"
[ "$n" -le 20 ] || grep -q "The first 20 of $n failures" "$WORK/done.dom" && ok ||
    fail "no note that the table lists only the first failures"
grep -q 'http-equiv="refresh"' "$WORK/done.dom" && fail "a finished job's page still reloads" || ok
"$CHROMIUM" --headless --no-sandbox --disable-gpu --user-data-dir="$WORK/chrome" \
    --window-size=1000,900 --screenshot="$PWD/status-page.png" "file://$WORK/done.html" \
    >/dev/null 2>&1
head -c 8 status-page.png | od -An -c | grep -q 'P   N   G' && ok || fail "no screenshot"

# A clean finish: green, no failures table.
mb 1 sleep --tasks 3 --seconds 0 --status "$WORK/clean.json" --quiet || fail "clean job"
"$MPIBATCH" status "$WORK/clean.json" --html "$WORK/clean.html" || fail "status --html clean"
dom "$WORK/clean.html" >"$WORK/clean.dom"
grep -q '<span id="state" class="state-finished">finished</span>' "$WORK/clean.dom" && ok ||
    fail "clean finish: $(grep 'id="state"' "$WORK/clean.dom")"
grep -q 'failed-tasks' "$WORK/clean.dom" && fail "failures table on a clean job" || ok

# Running: the page reloads itself (at the job's --status-interval, 1 s
# at least); with the total unknown (streamed input) a striped bar and
# what is known instead of an empty gauge.
"$MPIBATCH" status "$running" --html "$WORK/run.html" || fail "status --html running"
dom "$WORK/run.html" >"$WORK/run.dom"
grep -q '<meta http-equiv="refresh" content="1">' "$WORK/run.dom" && ok ||
    fail "running page does not reload: $(head -c 600 "$WORK/run.dom")"
grep -q 'class="state-running">running<' "$WORK/run.dom" && ok || fail "running state"
python3 - "$running" "$WORK/unknown.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d.update(total=None, pending=None, eta_seconds=None)
json.dump(d, open(sys.argv[2], "w"))
PY
"$MPIBATCH" status "$WORK/unknown.json" --html "$WORK/unknown.html" || fail "unknown total"
dom "$WORK/unknown.html" >"$WORK/unknown.dom"
grep -q '<div class="bar big unknown">' "$WORK/unknown.dom" &&
    grep -q 'the total is not known until the input has been read' "$WORK/unknown.dom" && ok ||
    fail "unknown total: $(grep -A2 'class="bar' "$WORK/unknown.dom" | head -5)"

# --watch: redraws until the job ends, then exits 0; the last view says
# how it ended and lists the failed tasks.
mb 2 sleep --tasks 20 --seconds 0.05 --chunk 1 --fail-rank 1 --status "$WORK/w.json" \
    --status-interval 0.05 --quiet 2>/dev/null &
pid=$!
while [ ! -f "$WORK/w.json" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
"$MPIBATCH" status "$WORK/w.json" --watch --interval 0.1 >"$WORK/watch.txt" 2>&1 &&
    ok || fail "status --watch: $(tail -5 "$WORK/watch.txt")"
wait "$pid"
# The last view: from the last header on (its list of failures can be long).
awk '/mpibatch status:/ { v = "" } { v = v $0 "\n" } END { printf "%s", v }' "$WORK/watch.txt" |
    grep -q "state finished, [0-9]* failed" && ok ||
    fail "--watch did not end on the finished state: $(tail -5 "$WORK/watch.txt")"
grep -q "rank 1 is set to fail" "$WORK/watch.txt" && ok || fail "--watch lists no failed tasks"
"$MPIBATCH" status "$WORK/w.json" --html "$WORK/w.html" --watch --interval 0.1 && ok ||
    fail "--html --watch on an ended job does not return"
finish
