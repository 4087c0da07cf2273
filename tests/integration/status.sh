#!/bin/sh
# Progress and status: --status documents while a job runs and at its end,
# `mpibatch status` as text and HTML, the progress lines, and bad files.
. "$top_srcdir/tests/integration/lib.sh"

st="$WORK/run.status.json"

# 40 tasks of 0.05 s on 2 ranks (about 1 s), a document every 0.05 s.
# Snapshots are copied while it runs: each must be whole, valid JSON.
mb 2 sleep --tasks 40 --seconds 0.05 --chunk 1 --status "$st" --status-interval 0.05 \
    --quiet >"$WORK/out.txt" 2>"$WORK/err.txt" &
pid=$!
i=0
while kill -0 "$pid" 2>/dev/null; do
    [ -f "$st" ] && cp "$st" "$WORK/snap.$i.json" 2>/dev/null && i=$((i + 1))
    sleep 0.05
done
wait "$pid" && ok || fail "status run failed: $(head -c 400 "$WORK/err.txt")"
[ -s "$WORK/err.txt" ] && fail "a run without a terminal printed: $(head -c 200 "$WORK/err.txt")" || ok
[ -s "$WORK/out.txt" ] && fail "--quiet printed: $(head -c 200 "$WORK/out.txt")" || ok
python3 - "$WORK" <<'PY' && ok || fail "snapshots taken while running"
import glob, json, sys
snaps = sorted(glob.glob(sys.argv[1] + "/snap.*.json"))
docs = [json.load(open(f)) for f in snaps]          # every copy parses: atomic
running = [d for d in docs if d["state"] == "running"]
assert running, "no document said running (%d snapshots)" % len(docs)
for d in running:
    assert d["total"] == 40 and d["done"] <= 40, d
    assert d["done"] + d["running"] + d["pending"] == 40, d
assert any(0 < d["done"] < 40 for d in running), [d["done"] for d in running]
PY
python3 - "$st" <<'PY' && ok || fail "final status document"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["program"] == "mpibatch" and d["kernel"] == "sleep", d
assert d["state"] == "finished", d["state"]
assert d["total"] == 40 and d["done"] == 40, d
assert d["failed"] == 0 and d["running"] == 0 and d["pending"] == 0, d
assert d["retried"] == 0 and d["speculated"] == 0, d
assert d["eta_seconds"] == 0 and d["tasks_per_second"] > 0, d
assert d["elapsed_seconds"] >= 40 * 0.05 / 2, d["elapsed_seconds"]
per = d["per_rank"]
assert [p["rank"] for p in per] == [0, 1], per
assert sum(p["tasks"] for p in per) == 40, per
assert all(p["busy_seconds"] >= 0.05 * p["tasks"] for p in per), per
slow = d["slowest"]
assert len(slow) == 10 and all(s["seconds"] >= 0.05 for s in slow), slow
assert all(a["seconds"] >= b["seconds"] for a, b in zip(slow, slow[1:])), slow
assert d["job"]["kernel"] == "sleep" and d["job"]["tasks"] == 40, d["job"]
PY
ls -a "$WORK" | grep -q '\.part$' && fail "temporary status file left" || ok

# mpibatch status: the counts as text.
"$MPIBATCH" status "$st" >"$WORK/text.txt" 2>"$WORK/err.txt" && ok || fail "status: $(cat "$WORK/err.txt")"
grep -q "40 done of 40 (100.0%), 0 running, 0 pending, 0 failed" "$WORK/text.txt" && ok ||
    fail "status text lacks the counts: $(cat "$WORK/text.txt")"
grep -q "state finished" "$WORK/text.txt" && ok || fail "status text lacks the state"
[ "$(grep -c '^ *[01]  [^ ]' "$WORK/text.txt")" -ge 2 ] && ok || fail "status text lacks the rank table"

# --html FILE: a self-contained page with the counts and a bar per rank.
"$MPIBATCH" status "$st" --html "$WORK/page.html" && ok || fail "status --html failed"
grep -q '^<!DOCTYPE html>' "$WORK/page.html" && ok || fail "not an HTML page"
grep -q '<td class="host">40 of 40</td>' "$WORK/page.html" && ok || fail "page lacks the counts"
[ "$(grep -c '<div class="bar">' "$WORK/page.html")" -eq 2 ] && ok || fail "page lacks the rank bars"
grep -Eq 'src=|href=|@import|url\(' "$WORK/page.html" && fail "page loads something from elsewhere" || ok
"$MPIBATCH" status --html - "$st" >"$WORK/stdout.html" && cmp -s "$WORK/stdout.html" "$WORK/page.html" &&
    ok || fail "--html - differs from --html FILE"

# Bad status files: exit 2, the file named.
check_bad() {
    "$MPIBATCH" status "$1" >"$WORK/out.txt" 2>"$WORK/err.txt"
    got=$?
    [ "$got" -eq 2 ] && grep -q "$1" "$WORK/err.txt" && grep -q "$2" "$WORK/err.txt" && ok ||
        fail "status $1: exit $got, stderr: $(cat "$WORK/err.txt")"
    [ -s "$WORK/out.txt" ] && fail "status $1 printed: $(cat "$WORK/out.txt")" || ok
}
check_bad "$WORK/missing.json" "No such file"
printf '{"program": "mpibatch", "done": ' >"$WORK/cut.json"
check_bad "$WORK/cut.json" "malformed JSON"
mb 1 sleep --tasks 2 --seconds 0 --report "$WORK/report.json" --quiet
check_bad "$WORK/report.json" "not an mpibatch status document"
"$MPIBATCH" status >/dev/null 2>"$WORK/err.txt"
[ $? -eq 2 ] && grep -q "status needs the FILE" "$WORK/err.txt" && ok || fail "status without FILE"

# Static schedule: the same final counts.  Not --quiet: by default a job
# without a terminal that ends within the progress interval prints nothing
# on stderr (mpirun gives ranks a terminal for stdout only: no matter).
mb 2 sleep --tasks 12 --seconds 0.01 --schedule static --status "$WORK/s.json" \
    >/dev/null 2>"$WORK/err.txt" || fail "static run failed"
[ "$(json_get "$WORK/s.json" done)" = 12 ] && [ "$(json_get "$WORK/s.json" state)" = finished ] &&
    ok || fail "static status document"
[ -s "$WORK/err.txt" ] && fail "default progress printed: $(cat "$WORK/err.txt")" || ok

# Rank 0 killed (SIGKILL: no last word): its document still says
# "running", but `mpibatch status` on its host sees the process gone, shows
# the state "gone", and --watch ends.
"$MPIBATCH" sleep --tasks 4 --seconds 60 --status "$WORK/k.json" --quiet &
kpid=$!
w=0
while [ "$(json_get "$WORK/k.json" state 2>/dev/null)" != running ] && [ $w -lt 600 ]; do
    sleep 0.05
    w=$((w + 1))
done
"$MPIBATCH" status "$WORK/k.json" >"$WORK/text.txt" && grep -q "state running" "$WORK/text.txt" &&
    ok || fail "a live job is not shown running: $(cat "$WORK/text.txt")"
kill -KILL $kpid
wait $kpid 2>/dev/null
[ "$(json_get "$WORK/k.json" state)" = running ] && ok || fail "the killed job's document changed"
timeout 60 "$MPIBATCH" status --watch --interval 0.1 "$WORK/k.json" >"$WORK/text.txt" && ok ||
    fail "status --watch of a killed job did not end"
grep -q "state gone" "$WORK/text.txt" && grep -q "ending: rank 0 (process $kpid on .*) is gone" \
    "$WORK/text.txt" && ok || fail "a killed job is not shown gone: $(cat "$WORK/text.txt")"

# A drain is in the document at once, not at the next interval (a rank 0
# killed soon after still leaves word); a second signal ends the job and
# the document says how.
printf 'echo >>%s/started; sleep 30\n' "$WORK" "$WORK" >"$WORK/long.txt"
"$MPIBATCH" exec --commands "$WORK/long.txt" --slots 2 --drain-grace 60 --status "$WORK/d.json" \
    --status-interval 3600 --quiet 2>/dev/null &
dpid=$!
w=0
while [ "$(cat "$WORK/started" 2>/dev/null | wc -l)" -lt 2 ] && [ $w -lt 600 ]; do
    sleep 0.05
    w=$((w + 1))
done
kill -USR1 $dpid
w=0
while ! json_get "$WORK/d.json" ending 2>/dev/null | grep -q "^draining (SIGUSR1) since " &&
    [ $w -lt 600 ]; do
    sleep 0.05
    w=$((w + 1))
done
[ "$(json_get "$WORK/d.json" state)" = running ] &&
    json_get "$WORK/d.json" ending | grep -q "^draining (SIGUSR1) since 20" && ok ||
    fail "the drain is not in the status document: $(json_get "$WORK/d.json" ending)"
kill -TERM $dpid
wait $dpid
code=$?
[ $code = 75 ] && [ "$(json_get "$WORK/d.json" state)" = stopped ] && ok ||
    fail "second signal: exit $code, state $(json_get "$WORK/d.json" state)"
json_get "$WORK/d.json" ending |
    grep -q "^stopped at once by a second signal while draining (SIGUSR1) since 20" && ok ||
    fail "second signal: ending $(json_get "$WORK/d.json" ending)"
ls "$WORK" | grep -q '\.last$' && fail "the last word's temporary file was left" || ok

# A status file that cannot be written fails at once (exit 3), naming it.
expect_exit 3 "$WORK/none/st.json" 2 sleep --tasks 4 --seconds 0 --status "$WORK/none/st.json"
expect_exit 2 "must be a local file" 1 sleep --tasks 4 --status "https://example.org/st.json?sig=S3CR3T"
grep -q S3CR3T "$WORK/err.txt" && fail "a URL secret was printed" || ok

# Progress lines on stderr: plain lines at the interval and a last one;
# live redraws with \r; --quiet silences both.
mb 2 sleep --tasks 20 --seconds 0.05 --progress plain --progress-interval 0.1 \
    >/dev/null 2>"$WORK/err.txt" || fail "plain progress run failed"
[ "$(grep -c '^mpibatch: [0-9]*/20 tasks done' "$WORK/err.txt")" -ge 2 ] && ok ||
    fail "plain progress lines: $(cat "$WORK/err.txt")"
tail -n 1 "$WORK/err.txt" | grep -q '^mpibatch: 20/20 tasks done (100.0%), 0 failed' && ok ||
    fail "last plain line: $(tail -n 1 "$WORK/err.txt")"
mb 2 sleep --tasks 20 --seconds 0.02 --progress live >/dev/null 2>"$WORK/err.txt" ||
    fail "live progress run failed"
tr '\r' '\n' <"$WORK/err.txt" | grep -q '^mpibatch: 20/20 tasks done' && ok || fail "live line"
[ "$(wc -l <"$WORK/err.txt")" -eq 1 ] && grep -q "$(printf '\r')" "$WORK/err.txt" && ok ||
    fail "live line not redrawn in place"
mb 2 sleep --tasks 20 --seconds 0.02 --progress live --quiet >/dev/null 2>"$WORK/err.txt"
[ -s "$WORK/err.txt" ] && fail "--quiet printed progress: $(cat "$WORK/err.txt")" || ok
finish
