#!/bin/sh
# The classifier end to end on generated data: corpus determinism, the same
# model at 1, 2 and 4 ranks, the same predictions at any rank count,
# schedule and chunk size, bad records, --strict, plain text input.
. "$top_srcdir/tests/integration/lib.sh"

mb 1 corpus --docs 3000 --seed 1 --out "$WORK/train.jsonl" || fail "corpus"
mb 1 corpus --docs 3000 --seed 1 --out "$WORK/again.jsonl" || fail "corpus again"
cmp -s "$WORK/train.jsonl" "$WORK/again.jsonl" && ok || fail "same seed, different corpus"
mb 1 corpus --docs 600 --seed 2 --first-id 3000 --out "$WORK/test.jsonl" || fail "test corpus"
cmp -s "$WORK/train.jsonl" "$WORK/test.jsonl" && fail "seeds ignored" || ok
[ "$(wc -l <"$WORK/test.jsonl")" -eq 600 ] && ok || fail "corpus line count"

for n in 1 2 4; do
    mb $n train --input "$WORK/train.jsonl" --out "$WORK/m$n.h5" --report "$WORK/t$n.json" \
        --quiet || fail "train at $n ranks"
done
# Bit-identical models: h5diff finds no difference at all.
h5diff "$WORK/m1.h5" "$WORK/m2.h5" >"$WORK/diff.txt" && ok || fail "1 vs 2 ranks: $(head -3 "$WORK/diff.txt")"
h5diff "$WORK/m1.h5" "$WORK/m4.h5" >"$WORK/diff.txt" && ok || fail "1 vs 4 ranks: $(head -3 "$WORK/diff.txt")"
# The sub-topic models are in the same files, so h5diff covered them too.
[ "$("$H5DUMP" -n "$WORK/m1.h5" | grep -c ' group      /sub/')" = 5 ] && ok || fail "sub-topic models"
[ "$(json_get "$WORK/t4.json" documents)" = 3000 ] && ok || fail "trained document count"
[ "$(json_get "$WORK/t4.json" ranks)" = 4 ] && ok || fail "train report ranks"

mb 1 classify --model "$WORK/m1.h5" --input "$WORK/test.jsonl" --schedule static \
    --out "$WORK/ref.h5" --report "$WORK/ref.json" --quiet || fail "reference classify"
results "$WORK/ref.h5" >"$WORK/ref.txt"
python3 - "$WORK/ref.json" <<'PY' && ok || fail "classify report"
import json, sys
r = json.load(open(sys.argv[1]))["result"]
assert r["labels"] == ["physics", "math", "cs", "q-bio", "q-fin"], r["labels"]
assert r["documents"] == 600 and r["labelled"] == 600 and r["bad_records"] == 0
assert 0.75 <= r["accuracy"] <= 1.0, r["accuracy"]
assert 0.6 <= r["macro_f1"] <= r["accuracy"] + 0.05, r["macro_f1"]
assert sum(map(sum, r["confusion"])) == 600
assert sum(r["confusion"][i][i] for i in range(5)) == round(r["accuracy"] * 600)
PY
for n in 1 2 3 4; do
    for sched in static dynamic; do
        for k in 1 7 64; do
            tag="n$n-$sched-k$k"
            mb "$n" classify --model "$WORK/m1.h5" --input "$WORK/test.jsonl" --schedule "$sched" \
                --chunk "$k" --out "$WORK/$tag.h5" --quiet || { fail "$tag: run"; continue; }
            results "$WORK/$tag.h5" | cmp -s - "$WORK/ref.txt" && ok || fail "$tag: results differ"
        done
    done
done
# Every rank a node of its own: the table goes between "nodes" by the
# leaders' broadcast instead of being shared (mpibatch/shm.h).
for levels in 1 2; do
    mb 1 classify --model "$WORK/m1.h5" --input "$WORK/test.jsonl" --levels $levels \
        --out "$WORK/one-$levels.h5" --quiet || fail "levels $levels at 1 rank"
    for ranks in 2 3; do
        MPIBATCH_SHM_PER_RANK=1 mb $ranks classify --model "$WORK/m1.h5" --input "$WORK/test.jsonl" \
            --levels $levels --out "$WORK/pr$ranks-$levels.h5" --quiet ||
            { fail "per-rank $ranks: run"; continue; }
        h5diff "$WORK/one-$levels.h5" "$WORK/pr$ranks-$levels.h5" /results >/dev/null && ok ||
            fail "per-rank segments, $ranks ranks, levels $levels: results differ"
    done
done
"$H5DUMP" -d /results/id -s 5 -c 1 "$WORK/ref.h5" | grep -q '"gen.3005"' && ok || fail "ids in output"

# Bad records: counted with their line numbers; the rest classified.
{
    head -2 "$WORK/test.jsonl"
    echo '{"id": "cut", "title": "t"'
    echo 'not json'
    echo '{"id": "x", "title": "no abstract"}'
    printf '{"id": "u", "title": "bad \377", "abstract": "a"}\n'
    echo
    sed -n 3p "$WORK/test.jsonl"
} >"$WORK/bad.jsonl"
mb 2 classify --model "$WORK/m1.h5" --input "$WORK/bad.jsonl" --out "$WORK/bad.h5" \
    --report "$WORK/bad.json" --quiet
[ $? -eq 1 ] && ok || fail "bad records: exit status"
python3 - "$WORK/bad.json" <<'PY' && ok || fail "bad records: report"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["tasks"] == 8 and r["tasks_failed"] == 5, (r["tasks"], r["tasks_failed"])
assert r["result"]["documents"] == 3 and r["result"]["bad_records"] == 5
reasons = [f["reason"] for f in r["failures"]]
assert [f["task"] for f in r["failures"]] == [2, 3, 4, 5, 6]
for line, word in zip(range(3, 8), ["malformed JSON", "malformed JSON", "abstract", "UTF-8", "empty"]):
    assert reasons[line - 3].startswith("line %d: " % line) and word in reasons[line - 3], reasons
PY
"$H5DUMP" -d /failures/task "$WORK/bad.h5" | grep -q '(0): 2, 3, 4, 5, 6' && ok || fail "failure table"
mb 2 classify --model "$WORK/m1.h5" --input "$WORK/bad.jsonl" --out "$WORK/strict.h5" --strict \
    >/dev/null 2>"$WORK/err.txt"
[ $? -eq 3 ] && ok || fail "--strict: exit status"
grep -q "line 3: malformed JSON.*(--strict)" "$WORK/err.txt" && ok || fail "--strict: message"
no_outputs_named() { [ -z "$(find "$WORK" -name "$1*")" ] && ok || fail "left behind: $1"; }
no_outputs_named strict.h5
no_outputs_named .strict.h5

# Plain text: one document per line, ids are line numbers, no accuracy.
sed -n 's/.*"abstract": "\([^"]*\)".*/\1/p' "$WORK/test.jsonl" | head -20 >"$WORK/docs.txt"
mb 2 classify --model "$WORK/m1.h5" --input "$WORK/docs.txt" --out "$WORK/txt.h5" \
    --report "$WORK/txt.json" --quiet || fail "text input"
[ "$(json_get "$WORK/txt.json" result.documents)" = 20 ] && ok || fail "text documents"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["result"]; sys.exit("accuracy" in r)' \
    "$WORK/txt.json" && ok || fail "accuracy without labels"
"$H5DUMP" -d /results/id -s 19 -c 1 "$WORK/txt.h5" | grep -q '"20"' && ok || fail "line-number ids"

# The document store: import skips bad records (exit 1) and classifying the
# store gives exactly what classifying the JSON lines gives.
mb 1 import --input "$WORK/bad.jsonl" --out "$WORK/badstore.h5" --report "$WORK/imp.json" \
    >/dev/null 2>&1
[ $? -eq 1 ] && ok || fail "import of bad records: exit status"
python3 - "$WORK/imp.json" <<'PY' && ok || fail "import report"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["documents"] == 3 and r["bad_records"] == 5 and r["lines"] == 8
assert [f["line"] for f in r["failures"]] == [3, 4, 5, 6, 7]
PY
mb 1 import --input "$WORK/test.jsonl" --out "$WORK/store.h5" --quiet || fail "import"
mb 3 classify --model "$WORK/m1.h5" --input "$WORK/store.h5" --out "$WORK/fromstore.h5" --quiet ||
    fail "classify a store"
results "$WORK/fromstore.h5" | cmp -s - "$WORK/ref.txt" && ok || fail "store and JSON lines differ"
expect_exit 3 "not an mpibatch document store" 2 classify --model "$WORK/m1.h5" --input "$WORK/m1.h5"
head -c 4000 "$WORK/store.h5" >"$WORK/cut.h5"
expect_exit 3 "cut.h5" 2 classify --model "$WORK/m1.h5" --input "$WORK/cut.h5" --format store
expect_exit 3 "malformed JSON.*(--strict)" 1 import --input "$WORK/bad.jsonl" --out "$WORK/s.h5" --strict
[ ! -e "$WORK/s.h5" ] && ok || fail "store written under --strict"

# Model and usage errors.
expect_exit 2 "'model' is required" 1 classify --input "$WORK/test.jsonl"
expect_exit 3 "$WORK/none.h5" 2 classify --model "$WORK/none.h5" --input "$WORK/test.jsonl"
expect_exit 3 "$WORK/test.jsonl" 2 classify --model "$WORK/test.jsonl" --input "$WORK/test.jsonl"
expect_exit 3 "cannot read '$WORK/nope.jsonl'" 2 classify --model "$WORK/m1.h5" --input "$WORK/nope.jsonl"
expect_exit 2 "'out' is required" 1 train --input "$WORK/train.jsonl"
sed 's/"categories": "[^"]*", //; s/, "label": "[^"]*"//' "$WORK/test.jsonl" >"$WORK/unlabelled.jsonl"
expect_exit 3 "no labelled documents" 2 train --input "$WORK/unlabelled.jsonl" --out "$WORK/u.h5"
[ ! -e "$WORK/u.h5" ] && ok || fail "model written from nothing"
finish
