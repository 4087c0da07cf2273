#!/bin/sh
# Every path option at a URL: train, import and classify with input, model,
# output and report on the object server, under mpirun -n 2.  Rank 0
# transfers once (the server counts requests), the results equal a local
# run's, and a secret in the URLs reaches no output, report or message.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/io/lib.sh"

start_objserver urls
base="http://127.0.0.1:$PORT/bucket"
secret="s3cr3tS1gnatureValue"
q="?X-Amz-Expires=600&X-Amz-Signature=$secret"  # a presigned URL

mb 1 corpus --docs 1500 --seed 1 --out "$WORK/train.jsonl" || fail "corpus"
mb 1 corpus --docs 300 --seed 2 --first-id 1500 --out "$WORK/test.jsonl" || fail "corpus"
cp_ok 1 "$WORK/train.jsonl" "$base/train.jsonl"
cp_ok 1 "$WORK/test.jsonl" "$base/test.jsonl"

# train: input and model at URLs; the model equals one trained locally.
mb 2 train --input "$base/train.jsonl$q" --out "$base/model.h5$q" --report "$base/train.json$q" \
    --quiet 2>"$WORK/err.txt" || fail "train at URLs: $(cat "$WORK/err.txt")"
mb 2 train --input "$WORK/train.jsonl" --out "$WORK/local-model.h5" --quiet || fail "local train"
cp_ok 1 "$base/model.h5" "$WORK/model.h5"
# The same model (its train_file attribute names where the data came from).
for d in /labels /buckets /idf /weights /bias; do
    h5diff "$WORK/model.h5" "$WORK/local-model.h5" "$d" >/dev/null && ok || fail "model $d differs"
done

# classify: everything at URLs; each object is fetched once, by rank 0.
puts=$(requests PUT)
gets=$(requests GET)
mb 2 classify --model "$base/model.h5$q" --input "$base/test.jsonl$q" --out "$base/labels.h5$q" \
    --report "$base/report.json$q" >"$WORK/stdout.txt" 2>"$WORK/err.txt" ||
    fail "classify at URLs: $(cat "$WORK/err.txt")"
is "output and report uploaded once" "$(($(requests PUT) - puts))" 2
# One GET for the model, one range for the 300 documents (under 8 MiB).
is "downloads" "$(($(requests GET) - gets))" 2
cp_ok 1 "$base/labels.h5" "$WORK/labels.h5"
cp_ok 1 "$base/report.json" "$WORK/report.json"
mb 1 classify --model "$WORK/local-model.h5" --input "$WORK/test.jsonl" --out "$WORK/local.h5" \
    --quiet || fail "local classify"
results "$WORK/local.h5" >"$WORK/l.txt"
results "$WORK/labels.h5" | cmp -s - "$WORK/l.txt" && ok || fail "results from URLs differ"
[ "$(json_get "$WORK/report.json" result.documents)" = 300 ] && ok || fail "report documents"

# import to a store at a URL, and classify that store.
mb 1 import --input "$base/test.jsonl$q" --out "$base/docs.h5$q" --quiet || fail "import at URLs"
mb 2 classify --model "$base/model.h5$q" --input "$base/docs.h5$q" --out "$WORK/fromstore.h5" \
    --quiet || fail "classify a store at a URL"
results "$WORK/fromstore.h5" | cmp -s - "$WORK/l.txt" && ok || fail "store at a URL differs"

# A job file at a URL.
printf '{"kernel": "euler", "terms": 100000, "blocks": 4, "report": "%s"}' "$WORK/job.json" \
    >"$WORK/spec.json"
cp_ok 1 "$WORK/spec.json" "$base/spec.json"
mb 2 run "$base/spec.json$q" --quiet || fail "run a job file at a URL"
[ "$(json_get "$WORK/job.json" tasks)" = 4 ] && ok || fail "job file at a URL"

# A permanent failure: exit 3, the URL named, the secret not.
expect_exit 3 "bucket/nothing.h5" 2 classify --model "$base/nothing.h5$q" --input "$base/test.jsonl"
# A bad output URL fails before any work.
expect_exit 2 "" 1 euler --terms 1000 --blocks 2 --out "nosuch://x/y.h5"

# The secret is nowhere: outputs, reports, messages.
cp_ok 1 "$base/train.json" "$WORK/train.json"
for f in "$WORK/labels.h5" "$WORK/report.json" "$WORK/train.json" "$WORK/model.h5" \
         "$WORK/stdout.txt" "$WORK/err.txt" "$WORK/fromstore.h5"; do
    if grep -a -q "$secret" "$f" || { [ "${f%.h5}" != "$f" ] && "$H5DUMP" -A "$f" | grep -q "$secret"; }; then
        fail "secret in $f"
    else
        ok
    fi
done
finish
