#!/bin/sh
# classify --levels 2 on generated data: sub-topic models trained at 1 and
# 2 ranks are identical, every sub-topic predicted is one of its topic's
# primary categories, results agree at 1 and 2 ranks and chunk sizes, rare
# categories become "other", and one level neither loads nor writes them.
. "$top_srcdir/tests/integration/lib.sh"

mb 1 corpus --docs 2000 --seed 3 --out "$WORK/train.jsonl" || fail "corpus"
mb 1 corpus --docs 300 --seed 4 --first-id 2000 --out "$WORK/test.jsonl" || fail "test corpus"
for n in 1 2; do
    mb $n train --input "$WORK/train.jsonl" --out "$WORK/m$n.h5" --quiet || fail "train at $n ranks"
done
h5diff "$WORK/m1.h5" "$WORK/m2.h5" >"$WORK/diff.txt" && ok || fail "1 vs 2 ranks: $(head -3 "$WORK/diff.txt")"
"$H5DUMP" -a /levels "$WORK/m1.h5" | grep -q '(0): 2' && ok || fail "levels attribute"

mb 1 classify --model "$WORK/m1.h5" --input "$WORK/test.jsonl" --levels 2 --out "$WORK/ref.h5" \
    --report "$WORK/ref.json" --quiet || fail "classify --levels 2"
results "$WORK/ref.h5" >"$WORK/ref.txt"
for n in 1 2; do
    for k in 1 16; do
        mb $n classify --model "$WORK/m1.h5" --input "$WORK/test.jsonl" --levels 2 --chunk $k \
            --out "$WORK/n$n-k$k.h5" --quiet || { fail "n$n k$k: run"; continue; }
        results "$WORK/n$n-k$k.h5" | cmp -s - "$WORK/ref.txt" && ok || fail "n$n k$k: results differ"
    done
done
python3 - "$WORK/ref.json" <<'PY' && ok || fail "levels report"
import json, sys
s = json.load(open(sys.argv[1]))["result"]["subtopics"]
assert s["labelled"] == 300, s
assert 0 <= s["accuracy"] <= s["accuracy_within_topic"] <= 1, s
PY
"$H5DUMP" -d /results/subtopic "$WORK/ref.h5" | grep -q '"' && ok || fail "subtopic field"
"$H5DUMP" -d /results/subtopic_score "$WORK/ref.h5" >/dev/null && ok || fail "subtopic_score field"
python3 - "$WORK/train.jsonl" "$WORK/ref.h5" <<PY && ok || fail "sub-topics belong to their topics"
import json, subprocess, sys, re
codes = {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    codes.setdefault(d["label"], set()).add(d["categories"].split()[0])
def column(name):
    out = subprocess.run(["$H5DUMP", "-A", "0", "-d", "/results/" + name, sys.argv[2]],
                         capture_output=True, text=True, check=True).stdout
    return re.findall(r'"([^"]*)"', out.split("DATA {", 1)[1].split("}", 1)[0])
names, subs = column("label_name"), column("subtopic")
assert len(names) == len(subs) == 300, (len(names), len(subs))
for topic, sub in zip(names, subs):
    assert sub in codes[topic] or sub == "other", (topic, sub)
PY

# A category with fewer training documents than --subtopic-min-docs is
# "other": with the cap above every count, each topic has only "other",
# so no topic has a sub-model and every sub-topic is "".
mb 1 train --input "$WORK/train.jsonl" --out "$WORK/all.h5" --subtopic-min-docs 100000 --quiet ||
    fail "train with a high cap"
"$H5DUMP" -n "$WORK/all.h5" | grep -q ' group      /sub/' && fail "sub-models despite the cap" || ok
mb 2 classify --model "$WORK/all.h5" --input "$WORK/test.jsonl" --levels 2 --out "$WORK/all-out.h5" \
    --report "$WORK/all.json" --quiet || fail "classify without sub-models"
[ "$(json_get "$WORK/all.json" result.subtopics.labelled)" = 0 ] && ok || fail "no sub-topic to score"
"$H5DUMP" -A 0 -d /results/subtopic "$WORK/all-out.h5" | grep -q '"[a-z]' && fail "sub-topic without model" || ok
# Keep only the most frequent of a topic's categories: one named code plus
# "other" is still two labels, so those topics do get sub-models.
python3 - "$WORK/train.jsonl" >"$WORK/cap.txt" <<'PY' || fail "counting categories"
import json, sys, collections
c = collections.Counter(json.loads(l)["categories"].split()[0] for l in open(sys.argv[1]))
print(max(c.values()))
PY
cap=$(cat "$WORK/cap.txt")
mb 1 train --input "$WORK/train.jsonl" --out "$WORK/cap.h5" --subtopic-min-docs "$cap" --quiet ||
    fail "train with the top cap"
"$H5DUMP" -n "$WORK/cap.h5" | grep -q 'dataset    /sub/.*/labels' && ok || fail "top category kept"
"$H5DUMP" -n "$WORK/cap.h5" | grep 'dataset    /sub/.*/labels' | head -1 | awk '{ print $2 }' >"$WORK/lab.txt"
"$H5DUMP" -d "$(cat "$WORK/lab.txt")" "$WORK/cap.h5" | grep -q '"other"' && ok || fail "'other' label"

# One level: no sub-topic fields; and a model without level 2 is refused.
mb 1 classify --model "$WORK/m1.h5" --input "$WORK/test.jsonl" --out "$WORK/one.h5" --quiet ||
    fail "classify one level"
"$H5DUMP" -n "$WORK/one.h5" | grep -q subtopic && fail "sub-topic fields at one level" || ok
expect_exit 2 "must be 1 or 2\|outside\|between\|levels" 1 classify --model "$WORK/m1.h5" \
    --input "$WORK/test.jsonl" --levels 3 --quiet
finish
