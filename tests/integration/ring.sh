#!/bin/sh
# mpibatch ring: the table, the JSON report and the three patterns.
. "$top_srcdir/tests/integration/lib.sh"

# check_report FILE PATTERN BUFFER RANKS HOPS SIZES: the report's structure;
# SIZES is the expected byte list, comma-separated.
check_report() {
    python3 - "$@" <<'PY'
import json, sys
path, pattern, buffer, ranks, hops, sizes = sys.argv[1:]
r = json.load(open(path))
for key in ("program", "version", "command", "mpi", "pattern", "buffer", "ranks",
            "hops_per_iteration", "hosts", "rank_hosts", "repeats", "sizes"):
    assert key in r, key
assert r["program"] == "mpibatch" and r["command"] == "ring", r
assert r["pattern"] == pattern, r["pattern"]
assert r["buffer"] == buffer, r["buffer"]
assert r["ranks"] == int(ranks), r["ranks"]
assert r["hops_per_iteration"] == int(hops), r["hops_per_iteration"]
assert len(r["rank_hosts"]) == int(ranks)
assert r["hosts"] == sorted(set(r["rank_hosts"]), key=r["rank_hosts"].index)
assert [s["bytes"] for s in r["sizes"]] == [int(b) for b in sizes.split(",")], r["sizes"]
for s in r["sizes"]:
    assert sorted(s) == ["bytes", "iterations", "mb_per_s", "usec_per_hop_max",
                         "usec_per_hop_mean", "usec_per_hop_median", "usec_per_hop_min"], s
    assert s["iterations"] >= r["repeats"] and s["iterations"] % r["repeats"] == 0, s
    assert 0 < s["usec_per_hop_min"] <= s["usec_per_hop_median"] <= s["usec_per_hop_max"], s
    assert s["usec_per_hop_min"] <= s["usec_per_hop_mean"] <= s["usec_per_hop_max"], s
    assert abs(s["mb_per_s"] - s["bytes"] / s["usec_per_hop_median"]) <= 1e-9 * (1 + s["mb_per_s"])
PY
}

# The textbook ring on 2 and 4 ranks: a lap is P hops; 0:64 is 0 and 1..64;
# no time limit, so every size runs exactly the iterations asked for.
mb 2 ring --sizes 0:64 --iterations 300 --repeats 3 --warmup 5 --max-seconds 0 --report "$WORK/r2.json" \
    >"$WORK/r2.txt" || fail "ring on 2 ranks"
check_report "$WORK/r2.json" ring forward 2 2 0,1,2,4,8,16,32,64 && ok || fail "ring 2 report"
grep -q "^# mpibatch .* ring: pattern ring, 2 ranks" "$WORK/r2.txt" && ok || fail "ring header"
grep -q "^# buffer: forward" "$WORK/r2.txt" && ok || fail "buffer line"
grep -q "^# hosts: .*(2 ranks, [0-9]* cores)" "$WORK/r2.txt" && ok || fail "hosts line"
[ "$(grep -v '^#' "$WORK/r2.txt" | awk '{print $1}' | tr '\n' ,)" = "0,1,2,4,8,16,32,64," ] &&
    ok || fail "table rows: $(cat "$WORK/r2.txt")"
[ "$(grep -v '^#' "$WORK/r2.txt" | awk '{print $2}' | sort -u)" = 300 ] && ok || fail "iterations column"
find "$WORK" -name '*.part' | grep -q . && fail "temporary report left" || ok

mb 4 ring --sizes=8 --iterations=40 --repeats=2 --report="$WORK/r4.json" >/dev/null 2>"$WORK/r4.err" ||
    fail "ring on 4 ranks"
check_report "$WORK/r4.json" ring forward 4 4 8 && ok || fail "ring 4 report"
# More ranks than cores: a warning on standard error, and none otherwise.
if [ "$(getconf _NPROCESSORS_ONLN)" -lt 4 ]; then
    grep -q "warning: 4 ranks on .* cores" "$WORK/r4.err" && ok || fail "no oversubscription warning"
else
    grep -q "warning" "$WORK/r4.err" && fail "warning without oversubscription" || ok
fi

# Bidirectional shift with a constant buffer: a lap is one hop.
mb 3 ring --pattern bidirectional --buffer constant --sizes 0,8,1K --iterations 20 --repeats 2 \
    --report "$WORK/bi.json" >"$WORK/bi.txt" || fail "bidirectional"
check_report "$WORK/bi.json" bidirectional constant 3 1 0,8,1024 && ok || fail "bidirectional report"
grep -q "^# buffer: constant" "$WORK/bi.txt" && ok || fail "constant buffer line"
grep -q "MPI_Sendrecv" "$WORK/bi.txt" && ok || fail "bidirectional lap line"

# Ping-pong uses ranks 0 and 1; a third rank waits.
mb 3 ring --pattern pingpong --sizes 0:2 --iterations 20 --repeats 4 --report "$WORK/pp.json" \
    >"$WORK/pp.txt" || fail "pingpong on 3 ranks"
check_report "$WORK/pp.json" pingpong forward 3 2 0,1,2 && ok || fail "pingpong report"
grep -q "half a round trip" "$WORK/pp.txt" && ok || fail "pingpong lap line"

# Large messages, and the time limit cutting the lap count down.
mb 2 ring --sizes 4M --iterations 4 --repeats 2 --warmup 1 --buffer constant \
    --report "$WORK/big.json" >/dev/null || fail "4 MiB messages"
check_report "$WORK/big.json" ring constant 2 2 4194304 && ok || fail "4 MiB report"
mb 2 ring --sizes 0 --iterations 100000000 --max-seconds 0.05 --report "$WORK/cap.json" \
    >/dev/null || fail "--max-seconds"
[ "$(json_get "$WORK/cap.json" sizes.0.iterations)" -lt 100000000 ] && ok || fail "time limit ignored"

# Help lists every option, from both entry points.
"$MPIBATCH" help ring >"$WORK/help1.txt"
mb 2 ring --help >"$WORK/help2.txt"
for opt in pattern sizes iterations repeats warmup max-seconds buffer report; do
    grep -q -- "^  --$opt " "$WORK/help1.txt" && ok || fail "help ring lacks --$opt"
    grep -q -- "^  --$opt " "$WORK/help2.txt" && ok || fail "ring --help lacks --$opt"
done
finish
