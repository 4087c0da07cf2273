#!/bin/sh
# mpibatch export: CSV, TSV and JSON lines, one row per task, read back
# and compared with what h5py reads from the HDF5 output itself.
. "$top_srcdir/tests/integration/lib.sh"

PY=/usr/bin/python3
"$PY" -c 'import h5py' 2>/dev/null || { echo "SKIP: no python3-h5py"; exit 77; }

# exec: some tasks fail (their reasons go to the export), 2 ranks.
printf 'echo one\nexit 3\necho "a, \\"quoted\\" one"\n\nsh -c "kill -9 $$"\necho last\n' \
    >"$WORK/cmds.txt"
mb 2 exec --commands "$WORK/cmds.txt" --out "$WORK/x.h5" --quiet 2>/dev/null
[ $? -eq 1 ] && ok || fail "exec with failures: exit status"
mb 1 corpus --docs 300 --seed 1 --out "$WORK/c.jsonl" >/dev/null || fail "corpus"
mb 1 train --input "$WORK/c.jsonl" --out "$WORK/m.h5" --quiet || fail "train"
head -40 "$WORK/c.jsonl" >"$WORK/few.jsonl"
echo 'not json' >>"$WORK/few.jsonl"
mb 2 classify --model "$WORK/m.h5" --input "$WORK/few.jsonl" --levels 2 --out "$WORK/c.h5" \
    --quiet 2>/dev/null
[ $? -eq 1 ] && ok || fail "classify with a bad record: exit status"
mb 2 euler --terms 100000 --blocks 7 --out "$WORK/e.h5" --quiet || fail "euler"

for f in x c e; do
    for fmt in csv tsv jsonl; do
        mb 1 export "$WORK/$f.h5" --format $fmt --out "$WORK/$f.$fmt" || fail "export $f $fmt"
    done
    mb 1 export "$WORK/$f.h5" >"$WORK/$f.stdout.csv" || fail "export $f to standard output"
    cmp -s "$WORK/$f.csv" "$WORK/$f.stdout.csv" && ok || fail "$f: --out and standard output differ"
    "$PY" - "$WORK/$f" <<'PY' && ok || fail "$f: export differs from the HDF5 content"
import csv, json, math, sys
import h5py
base = sys.argv[1]
h = h5py.File(base + ".h5", "r")
T = h["tasks/rank"].shape[0]
hosts = [s.decode() if isinstance(s, bytes) else s for s in h["ranks/host"][()]]
fails = dict(zip(h["failures/task"][()].tolist(),
                 [s.decode() if isinstance(s, bytes) else s for s in h["failures/reason"][()]]))

def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)

def expected(i):
    row = {"task": i}
    for name, d in h["results"].items():
        v = d[i]
        if d.ndim == 2:
            labels = [text(l) for l in d.attrs["labels"]] if "labels" in d.attrs else \
                json.loads(text(h.attrs["result"]))["labels"]
            for l, x in zip(labels, v):
                row[name + "_" + l] = float(x)
        elif d.dtype.kind in "SOU":
            row[name] = text(v).rstrip("\0")
        else:
            row[name] = v.item()
    st = h["tasks/status"]
    code = int(st[i])
    enum = h5py.check_enum_dtype(st.dtype)
    row["status"] = {v: k for k, v in enum.items()}[code] if enum else ("ok" if code == 0 else None)
    rank = int(h["tasks/rank"][i])
    row.update(rank=rank, host=hosts[rank], start=float(h["tasks/start"][i]),
               seconds=float(h["tasks/seconds"][i]), reason=fails.get(i, ""))
    return row

def same(want, got, key):
    if isinstance(want, float):
        return float(got) == want or (math.isnan(want) and math.isnan(float(got)))
    if isinstance(want, int):
        return int(got) == want
    if want is None:   # a failure's code name: any but ok
        return got not in ("", "ok")
    return got == want

def tsv_unescape(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            out.append({"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}[s[i + 1]])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)

with open(base + ".csv", newline="") as f:
    csv_rows = list(csv.DictReader(f))
with open(base + ".tsv") as f:
    lines = f.read().split("\n")[:-1]
    head = lines[0].split("\t")
    tsv_rows = [dict(zip(head, map(tsv_unescape, l.split("\t")))) for l in lines[1:]]
with open(base + ".jsonl") as f:
    json_rows = [json.loads(l) for l in f]
for rows, kind in ((csv_rows, "csv"), (tsv_rows, "tsv"), (json_rows, "jsonl")):
    assert len(rows) == T, (kind, len(rows), T)
    for i in range(T):
        want = expected(i)
        assert list(rows[i].keys()) == list(want.keys()) or kind == "jsonl" and \
            set(rows[i]) == set(want), (kind, list(rows[i]), list(want))
        for k, v in want.items():
            assert same(v, rows[i][k], k), (kind, i, k, v, rows[i][k])
assert any(r["reason"] for r in csv_rows) == bool(fails), "failure reasons"
PY
done
# The failed exec tasks and their reasons are in the export.
grep -q '^1,.*,failed,.*exit status 3' "$WORK/x.csv" && ok || fail "exec failure row: $(sed -n 3p "$WORK/x.csv")"
grep -q '"a, ""quoted"" one' "$WORK/x.csv" && ok || fail "CSV quoting: $(cat "$WORK/x.csv")"

expect_exit 3 "cannot read '.*nothere.h5'" 1 export "$WORK/nothere.h5"
expect_exit 3 "is not an mpibatch output" 1 export "$WORK/m.h5"
expect_exit 2 "'xml' is not one of csv|tsv|jsonl" 1 export "$WORK/x.h5" --format xml
expect_exit 2 "export needs the output file" 1 export
finish
