#!/bin/sh
# Friendlier input (issue 19): records outside the five topics classified
# with an unknown true label, long ids, the format detected from the
# content with a note when the name disagrees, blank lines skipped in
# text, "did you mean" for options and job-spec keys, job-file paths
# relative to the job file, the sub-topic accuracy in the summary.
. "$top_srcdir/tests/integration/lib.sh"

mb 1 corpus --docs 1500 --seed 1 --out "$WORK/train.jsonl" >/dev/null || fail "corpus"
mb 1 train --input "$WORK/train.jsonl" --out "$WORK/m.h5" --quiet || fail "train"
long="10.1000/$(printf "%0200d" 7)"
python3 - "$WORK" "$long" <<'PY'
import json, sys
w, long = sys.argv[1], sys.argv[2]
with open(w + "/in.jsonl", "w") as f:
    for r in [{"id": long, "abstract": "We prove a theorem about groups.", "categories": "math.GR"},
              {"id": "s1", "abstract": "A kernel regression learns.", "categories": "stat.ML cs.LG"},
              {"id": "n1", "abstract": "Quarks and gluons on a lattice."}]:
        f.write(json.dumps(r) + "\n")
PY

# Outside the five topics: classified, counted as unknown, not as a failure.
mb 2 classify --model "$WORK/m.h5" --input "$WORK/in.jsonl" --out "$WORK/o.h5" \
    --report "$WORK/r.json" --quiet || fail "classify with stat.ML: exit $?"
python3 - "$WORK/r.json" <<'PY' && ok || fail "unknown topic in the report"
import json, sys
r = json.load(open(sys.argv[1]))["result"]
assert (r["documents"], r["bad_records"], r["labelled"], r["unknown_topic"]) == (3, 0, 1, 1), r
assert sum(map(sum, r["confusion"])) == 1, r["confusion"]
PY
"$H5DUMP" -d /results/true_label "$WORK/o.h5" | grep -q '(0): 1, -2, -1' && ok ||
    fail "true_label codes: $("$H5DUMP" -d /results/true_label "$WORK/o.h5" | grep '(0)')"
# A 207-byte id (a DOI-like one) is kept whole; one over 255 bytes fails
# its record with its length.
"$H5DUMP" -d /results/id -c 1 "$WORK/o.h5" | grep -q "$long" && ok || fail "long id not kept"
printf '{"id": "%0300d", "abstract": "x y z"}\n' 1 >"$WORK/huge.jsonl"
mb 1 classify --model "$WORK/m.h5" --input "$WORK/huge.jsonl" --report "$WORK/h.json" --quiet
python3 -c 'import json,sys; f=json.load(open(sys.argv[1]))["failures"]
assert "is 300 bytes, longer than 255" in f[0]["reason"], f' "$WORK/h.json" && ok ||
    fail "over-long id: $(cat "$WORK/h.json")"

# Plain text under any name: detected from the content; blank lines are
# not documents, ids are line numbers; a note when the name says JSON.
printf 'We prove a theorem about groups.\n\n  \t\nStock prices and option pricing.\n' >"$WORK/docs.text"
mb 1 classify --model "$WORK/m.h5" --input "$WORK/docs.text" --out "$WORK/t.h5" --quiet \
    2>"$WORK/err.txt" && ok || fail "docs.text: exit $?: $(cat "$WORK/err.txt")"
[ ! -s "$WORK/err.txt" ] && ok || fail "docs.text: unexpected note: $(cat "$WORK/err.txt")"
"$H5DUMP" -d /results/id "$WORK/t.h5" | grep -q '(0): "1", "4"' && ok ||
    fail "text ids: $("$H5DUMP" -d /results/id "$WORK/t.h5" | grep '(0)')"
cp "$WORK/docs.text" "$WORK/docs.jsonl"
expect_exit 0 "'.*docs.jsonl' holds plain text despite its name.*--format jsonl" \
    1 classify --model "$WORK/m.h5" --input "$WORK/docs.jsonl" --quiet
cp "$WORK/in.jsonl" "$WORK/in.txt"
expect_exit 0 "holds JSON lines despite its name.*--format text" \
    1 classify --model "$WORK/m.h5" --input "$WORK/in.txt" --quiet
# Forced JSON lines on text: each failure says what to do.
mb 1 classify --model "$WORK/m.h5" --input "$WORK/docs.text" --format jsonl \
    --report "$WORK/f.json" --quiet 2>/dev/null
python3 -c 'import json,sys; f=json.load(open(sys.argv[1]))["failures"]
assert len(f) == 4 and "use --format text" in f[0]["reason"], f' "$WORK/f.json" && ok ||
    fail "no --format text hint: $(head -c 400 "$WORK/f.json")"

# Did you mean: flags and job-spec keys.
expect_exit 2 "unknown option --comands for 'exec' (did you mean --commands?" 1 exec --comands x
expect_exit 2 "unknown option --taks .*did you mean --tasks?" 1 sleep --taks 3
echo '{"kernel": "sleep", "retry": 2}' >"$WORK/typo.json"
expect_exit 2 "unknown key 'retry' (did you mean 'retries'?)" 1 run "$WORK/typo.json"
expect_exit 2 "unknown option --zzzzzz for 'sleep' (see" 1 sleep --zzzzzz 3

# Paths in a job file are relative to the job file; flags to the current
# directory.
mkdir "$WORK/t6"
cp "$WORK/docs.text" "$WORK/t6/small.txt"
cp "$WORK/m.h5" "$WORK/t6/model.h5"
echo '{"kernel": "classify", "model": "model.h5", "input": "small.txt", "out": "labels.h5",
 "report": "r.json", "quiet": true}' >"$WORK/t6/job.json"
(cd "$WORK" && mb 1 run t6/job.json) && [ -f "$WORK/t6/labels.h5" ] && [ -f "$WORK/t6/r.json" ] &&
    ok || fail "job-relative paths: $(ls "$WORK/t6")"
(cd "$WORK" && mb 1 run t6/job.json --report here.json) && [ -f "$WORK/here.json" ] && ok ||
    fail "a flag's path is relative to the current directory"

# --levels 2: the summary line has the sub-topic accuracy.
mb 1 classify --model "$WORK/m.h5" --input "$WORK/train.jsonl" --levels 2 >"$WORK/sum.txt" ||
    fail "levels 2"
grep -Eq 'subtopics\.accuracy=[0-9.]+ subtopics\.accuracy_within_topic=' "$WORK/sum.txt" && ok ||
    fail "levels 2 summary: $(cat "$WORK/sum.txt")"
finish
