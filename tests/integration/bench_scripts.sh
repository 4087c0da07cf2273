#!/bin/sh
# benchmarks/speedup, granularity, overhead, latency and exec on tiny
# workloads: the CSV, JSON and PNG they write, and their usage errors.  No
# timings are checked.
. "$top_srcdir/tests/integration/lib.sh"
B=$top_srcdir/benchmarks
export MPIBATCH MPIEXEC

# check_outputs DIR NAME ROWS COLUMNS: NAME.csv has this header and ROWS
# data rows, NAME.json the same points, NAME.png is a PNG (with gnuplot).
check_outputs() {
    python3 - "$@" <<'PY' && ok || fail "$2 outputs"
import csv, json, sys
d, name, rows, columns = sys.argv[1:]
table = list(csv.DictReader(open(f"{d}/{name}.csv")))
assert list(table[0]) == columns.split(","), list(table[0])
assert len(table) == int(rows), len(table)
j = json.load(open(f"{d}/{name}.json"))
assert set(j) == {"what", "machine", "command", "points"}, set(j)
assert [str(p[columns.split(",")[0]]) for p in j["points"]] == [r[columns.split(",")[0]] for r in table]
assert all(isinstance(p["wall_seconds"], float) and p["wall_seconds"] > 0 for p in j["points"])
PY
    if command -v gnuplot >/dev/null 2>&1; then
        [ "$(head -c 4 "$1/$2.png" | tail -c 3)" = PNG ] && ok || fail "$2.png is not a PNG"
    fi
}

sh "$B/speedup" --max-ranks 2 --repeats 3 --euler "--terms 1e5 --blocks 10" \
    --sleep "--tasks 4 --seconds 0" --out "$WORK/sp" >"$WORK/sp.txt" || fail "speedup"
# classify needs a model and documents: without --classify it is skipped.
grep -q "^classify: .*, skipped$" "$WORK/sp.txt" && ok || fail "classify skip message"
n=4
check_outputs "$WORK/sp" speedup $n workload,ranks,wall_seconds,wall_min,wall_max,process_seconds,speedup,efficiency
python3 - "$WORK/sp" $n <<'PY' && ok || fail "speedup values"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1] + "/speedup.csv")))
assert [r["ranks"] for r in rows if r["workload"] == "euler"] == ["1", "2"]
for r in rows:
    assert float(r["wall_min"]) <= float(r["wall_seconds"]) <= float(r["wall_max"]), r
    if r["ranks"] == "1":
        assert float(r["speedup"]) == 1.0, r
    assert abs(float(r["efficiency"]) - float(r["speedup"]) / int(r["ranks"])) < 1e-3, r
runs = list(csv.DictReader(open(sys.argv[1] + "/speedup-runs.csv")))
assert len(runs) == 3 * int(sys.argv[2]), len(runs)     # every repeat kept
PY

sh "$B/granularity" --ranks 2 --chunks 1,3 --repeats 1 --kernel sleep \
    --workload "--tasks 6 --seconds 0" --out "$WORK/gr" >/dev/null || fail "granularity"
check_outputs "$WORK/gr" granularity 2 chunk,wall_seconds,wall_min,wall_max,process_seconds,tasks_per_second,load_imbalance

sh "$B/overhead" --ranks 2 --chunks 1,10 --tasks 100 --schedules static,dynamic --repeats 1 \
    --out "$WORK/ov" >/dev/null || fail "overhead"
check_outputs "$WORK/ov" overhead 4 schedule,chunk,wall_seconds,process_seconds,tasks_per_second,usec_per_task,tasks_per_second_end_to_end

sh "$B/latency" --rounds 2 --iterations 20 --sizes 0,1K --sweep-seconds 0.01 --out "$WORK/lat" \
    >/dev/null || fail "latency"
python3 - "$WORK/lat" <<'PY' && ok || fail "latency outputs"
import csv, sys
small = list(csv.DictReader(open(sys.argv[1] + "/latency-small.csv")))
assert [(r["pattern"], r["bytes"]) for r in small] == [
    (p, b) for p in ("pingpong", "ring", "bidirectional") for b in ("0", "8")], small
assert all(r["over_pingpong"] == "1.00" for r in small if r["pattern"] == "pingpong")
sweep = list(csv.DictReader(open(sys.argv[1] + "/latency-sweep.csv")))
assert [r["bytes"] for r in sweep] == ["0", "1024"], sweep
assert all(float(r["ring_forward_usec"]) > 0 for r in sweep)
PY
if command -v gnuplot >/dev/null 2>&1; then
    [ "$(head -c 4 "$WORK/lat/latency.png" | tail -c 3)" = PNG ] && ok || fail "latency.png is not a PNG"
fi

# exec against xargs and GNU parallel (when installed): every workload, N
# and runner has a row, each runner's ratio to xargs and cost beyond
# start-up, and every run kept.
if command -v parallel >/dev/null 2>&1 && parallel --version 2>/dev/null | grep -q "GNU parallel"; then
    sh "$B/exec" --ns 1,2 --commands 4 --workloads true,out1mb --repeats 2 --out "$WORK/ex" \
        >"$WORK/ex.txt" || fail "exec benchmark"
    python3 - "$WORK/ex" <<'PY' && ok || fail "exec benchmark outputs"
import csv, json, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(d + "/exec.csv")))
assert sorted((r["workload"], r["n"], r["runner"]) for r in rows) == sorted(
    (w, n, r) for w in ("true", "out1mb") for n in ("1", "2")
    for r in ("xargs", "parallel", "mpibatch", "slots")), rows
for r in rows:
    assert float(r["process_seconds"]) > 0 and float(r["job_seconds"]) > 0, r
    float(r["ms_per_command_beyond_startup"])
    if r["runner"] == "xargs":
        assert r["vs_xargs"] == "1.00", r
# Every run kept, the one-command runs (each runner's start-up) with them.
runs = list(csv.DictReader(open(d + "/exec-runs.csv")))
assert len(runs) == 2 * (len(rows) + 2 * 4), len(runs)
assert sum(r["workload"] == "startup" for r in runs) == 2 * 2 * 4
assert len(json.load(open(d + "/exec.json"))["points"]) == len(rows)
PY
    grep -q "^| out1mb | 2 | " "$WORK/ex.txt" && ok || fail "exec benchmark table: $(cat "$WORK/ex.txt")"
    if command -v gnuplot >/dev/null 2>&1; then
        [ "$(head -c 4 "$WORK/ex/exec.png" | tail -c 3)" = PNG ] && ok || fail "exec.png is not a PNG"
    fi
fi

# classify.sh's ranks section on a generated corpus (a stand-in for the
# arXiv directory): alternating pairs, the medians' speedup and the ratios.
mkdir -p "$WORK/cd"
"$MPIBATCH" corpus --docs 400 --seed 3 --out "$WORK/cd/train.jsonl" || fail "corpus"
"$MPIBATCH" corpus --docs 100 --seed 4 --out "$WORK/cd/test.jsonl" || fail "corpus"
sh "$B/classify.sh" --data "$WORK/cd" --build "$(dirname "$MPIBATCH")" --only ranks --pairs 3 \
    >"$WORK/cl.txt" 2>&1 || fail "classify.sh --only ranks: $(cat "$WORK/cl.txt")"
grep -q "^## Ranks: 3 pairs of 1 then 2 ranks" "$WORK/cl.txt" &&
    grep -Eq "^1 rank [0-9.]+ s, 2 ranks [0-9.]+ s \(medians\): speedup [0-9.]+$" "$WORK/cl.txt" &&
    grep -Eq "^ratios of the 3 pairs: min [0-9.]+, median [0-9.]+, max [0-9.]+$" "$WORK/cl.txt" &&
    ! grep -q "fastText\|Chunk size" "$WORK/cl.txt" && ok || fail "classify.sh ranks: $(cat "$WORK/cl.txt")"
for args in "--only speed" "--pairs 0" "--pairs x" "--bogus"; do
    # shellcheck disable=SC2086  # options as words
    sh "$B/classify.sh" $args >/dev/null 2>"$WORK/err.txt"
    code=$?
    [ $code = 2 ] && grep -q -- "${args%% *}" "$WORK/err.txt" && ok ||
        fail "classify.sh $args: exit $code, $(cat "$WORK/err.txt")"
done

# Usage errors exit 2 and name the option.
for args in "speedup --ranks 2,4" "speedup --repeats 0" "granularity --kernel nope" \
    "overhead --chunks 1,,2" "overhead --schedules fast" "speedup --bogus 1" "granularity --ranks" \
    "latency --rounds x" "exec --ns 1,x" "exec --workloads nope"; do
    # shellcheck disable=SC2086  # a script name and its arguments
    set -- $args
    script=$1
    shift
    sh "$B/$script" --out "$WORK/bad" "$@" >/dev/null 2>"$WORK/err.txt"
    code=$?
    [ $code = 2 ] && grep -q -- "$1" "$WORK/err.txt" && ok ||
        fail "$script $*: exit $code, $(cat "$WORK/err.txt")"
done
sh "$B/speedup" --help | grep -q -- "--max-ranks N" && ok || fail "speedup --help"
finish
