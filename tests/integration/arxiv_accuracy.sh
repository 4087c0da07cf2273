#!/bin/sh
# Accuracy on real arXiv abstracts: train on shared/data/arxiv/train.jsonl at
# 2 ranks, score test.jsonl.  The thresholds sit just under what this
# build measured (accuracy 0.8919, macro-F1 0.8874 with label smoothing
# 0.05, docs/classifier.md), so a regression fails; the issue's target
# (0.895 / 0.89) is not yet reached.
# With --levels 2 it also checks the sub-topic (primary category) accuracy,
# measured 0.526 end to end and 0.591 where the topic is right.
# Skips when the data is absent.
. "$top_srcdir/tests/integration/lib.sh"

data=${MB_ARXIV_DIR:-$top_srcdir/../shared/data/arxiv}
if [ ! -r "$data/train.jsonl" ] || [ ! -r "$data/test.jsonl" ]; then
    echo "SKIP: arXiv data not found in $data (set MB_ARXIV_DIR)"
    exit 77
fi
mb 2 train --input "$data/train.jsonl" --out "$WORK/model.h5" --report "$WORK/train.json" \
    --quiet || fail "train"
mb 2 classify --model "$WORK/model.h5" --input "$data/test.jsonl" --report "$WORK/test.json" \
    --levels 2 --quiet || fail "classify"
python3 - "$WORK/train.json" "$WORK/test.json" <<'PY' && ok || fail "accuracy below the measured level"
import json, sys
t = json.load(open(sys.argv[1]))
r = json.load(open(sys.argv[2]))["result"]
print("accuracy %.4f macro-F1 %.4f" % (r["accuracy"], r["macro_f1"]))
assert t["documents"] == 28700 and t["bad_records"] == 0, t
assert r["documents"] == 6150 and r["labelled"] == 6150
assert r["accuracy"] >= 0.889, r["accuracy"]
assert r["macro_f1"] >= 0.885, r["macro_f1"]
assert min(c["f1"] for c in r["per_class"].values()) >= 0.81, r["per_class"]
s = r["subtopics"]
print("sub-topic accuracy %.4f, %.4f within the right topic" % (s["accuracy"],
                                                                 s["accuracy_within_topic"]))
assert s["labelled"] == 6150, s
assert s["accuracy"] >= 0.515 and s["accuracy_within_topic"] >= 0.58, s
PY
finish
