#!/bin/sh
# Outputs read naturally from Python: the user guide's h5py + pandas
# example ("Reading outputs from Python"), run as written with Debian's
# python3-h5py and python3-pandas on every kernel's output, gives the same
# table as `mpibatch export` read back with pandas.read_csv; and a 2-task
# job's output is small.
. "$top_srcdir/tests/integration/lib.sh"

PY=/usr/bin/python3
"$PY" -c 'import h5py, pandas' 2>/dev/null || { echo "SKIP: no python3-h5py or python3-pandas"; exit 77; }

# The example, exactly as the guide shows it.
awk '/^### Reading outputs from Python/ {on = 1} on && /^```python/ {code = 1; next}
     code && /^```/ {exit} code' "$top_srcdir/docs/user-guide.md" >"$WORK/example.py"
grep -q '^def load(path):' "$WORK/example.py" && ok || fail "no example in the guide"

mb 1 corpus --docs 300 --seed 1 --out "$WORK/c.jsonl" >/dev/null || fail "corpus"
mb 1 train --input "$WORK/c.jsonl" --out "$WORK/m.h5" --quiet || fail "train"
{ head -30 "$WORK/c.jsonl"; echo '{"id": "broken"'; } >"$WORK/docs.jsonl"
mb 2 classify --model "$WORK/m.h5" --input "$WORK/docs.jsonl" --out "$WORK/labels.h5" \
    --quiet 2>/dev/null
[ $? -eq 1 ] && ok || fail "classify with a bad record: exit status"
mb 2 euler --terms 100000 --blocks 5 --out "$WORK/euler.h5" --quiet || fail "euler"
mb 2 sleep --tasks 9 --seconds 0 --fail-rank 1 --out "$WORK/sleep.h5" --quiet 2>/dev/null
printf 'echo one\nexit 4\nprintf "two\\nlines"\n' >"$WORK/cmds.txt"
mb 2 exec --commands "$WORK/cmds.txt" --out "$WORK/exec.h5" --quiet 2>/dev/null
mb 2 exec --commands "$WORK/cmds.txt" --out "$WORK/two.h5" --quiet 2>/dev/null
for f in labels euler sleep exec; do
    mb 1 export "$WORK/$f.h5" --out "$WORK/$f.csv" || fail "export $f"
done

# The example's own last lines run on labels.h5 (in WORK).
(cd "$WORK" && "$PY" example.py >"$WORK/example.out" 2>&1) && ok ||
    fail "the guide's example: $(tail -5 "$WORK/example.out")"
grep -q "label_name" "$WORK/example.out" && ok || fail "example output: $(cat "$WORK/example.out")"

(cd "$WORK" && "$PY" - <<'PY') && ok || fail "h5py + pandas against export"
import numpy as np
import pandas as pd
src = open("example.py").read().split("\ndf = load(")[0]
exec(src)
for name in ["labels", "euler", "sleep", "exec"]:
    df = load(name + ".h5")
    csv = pd.read_csv(name + ".csv", dtype=str, keep_default_na=False)
    assert list(df.columns) == list(csv.columns), (name, list(df.columns), list(csv.columns))
    assert len(df) == len(csv) > 0, (name, len(df), len(csv))
    for c in df.columns:
        kind = df[c].dtype.kind
        if kind == "f":
            ok = np.array_equal(csv[c].astype(float).to_numpy(), df[c].to_numpy(), equal_nan=True)
        elif kind in "iu":
            ok = (csv[c].astype(np.int64).to_numpy() == df[c].to_numpy()).all()
        else:
            ok = list(csv[c]) == [str(v) for v in df[c]]
        assert ok, (name, c, list(df[c])[:5], list(csv[c])[:5])
    # Strings come back as str, not padded bytes.
    for c in df.columns:
        if df[c].dtype.kind == "O":
            assert all(isinstance(v, str) for v in df[c]), (name, c)
labels = load("labels.h5")
assert labels["scores_physics"].between(0, 1).all()
assert (labels["status"] == "bad_input").sum() == 1, labels["status"].value_counts()
assert labels.loc[labels["status"] == "bad_input", "reason"].str.contains("line 31").all()
ex = load("exec.h5")
assert list(ex["status"]) == ["ok", "failed", "ok"], list(ex["status"])
assert list(ex["stdout"]) == ["one\n", "", "two\nlines"], list(ex["stdout"])
PY
size=$(wc -c <"$WORK/two.h5")
[ "$size" -lt 100000 ] && ok || fail "a 3-task exec output is $size bytes, not under 100 KB"
mb 1 sleep --tasks 2 --seconds 0 --out "$WORK/s2.h5" --quiet || fail "sleep 2"
size=$(wc -c <"$WORK/s2.h5")
[ "$size" -lt 100000 ] && ok || fail "a 2-task output is $size bytes, not under 100 KB"
finish
