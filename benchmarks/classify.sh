#!/bin/sh
# classify.sh [--data DIR] [--build DIR] [--big-gb G] [--pairs N]
#             [--only fasttext|ranks|chunks|memory] [--model FILE] - the classifier's
# measurements, side by side in one run: whole-process time to classify
# the arXiv test file repeated 20 times on one core against `fasttext
# predict` with a default fastText model; 2 ranks against 1, in N pairs
# (default 10) that alternate the two, so that drift in the machine's load
# hits both sides alike; throughput for chunk sizes K = 1..100; and peak
# resident memory per rank classifying a generated JSON-lines file of G
# GiB (default 4; 0 skips it).  Other times are medians of 3.  --only runs
# one section.  --model uses FILE instead of training a model on the
# data's train.jsonl first.  The fastText section needs Debian's fasttext
# package.
set -eu
data=../shared/data/arxiv
b=build
big=4
pairs=10
only=
model=
while [ $# -gt 0 ]; do
    case $1 in
    --data) data=$2; shift 2 ;;
    --build) b=$2; shift 2 ;;
    --big-gb) big=$2; shift 2 ;;
    --pairs) pairs=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --model) model=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
    *) echo "classify.sh: unknown option '$1'" >&2
       echo "usage: classify.sh [--data DIR] [--build DIR] [--big-gb G] [--pairs N] [--only fasttext|ranks|chunks|memory] [--model FILE]" >&2
       exit 2 ;;
    esac
done
case $only in
'' | fasttext | ranks | chunks | memory) ;;
*) echo "classify.sh: --only takes fasttext, ranks, chunks or memory, not '$only'" >&2; exit 2 ;;
esac
case $pairs in
'' | *[!0-9]* | 0) echo "classify.sh: --pairs takes a positive whole number, not '$pairs'" >&2; exit 2 ;;
esac
# want SECTION: whether this run measures SECTION.
want() { [ -z "$only" ] || [ "$only" = "$1" ]; }
mb="$(cd "$b" && pwd)/mpibatch"
if want fasttext; then
    command -v fasttext >/dev/null || { echo "classify.sh: install Debian's fasttext" >&2; exit 1; }
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
w=$(mktemp -d "${TMPDIR:-/tmp}/mb-classify-bench.XXXXXX")
trap 'rm -rf "$w"' EXIT

# median3 CMD...: median wall seconds of 3 runs of CMD.
median3() {
    for i in 1 2 3; do
        s=$(date +%s.%N)
        "$@" >/dev/null 2>&1
        e=$(date +%s.%N)
        awk "BEGIN { print $e - $s }"
    done | sort -g | sed -n 2p
}

# job CMD...: the report's wall_seconds of one run (the job without MPI
# start-up).
job() {
    "$@" --report "$w/r.json" >/dev/null
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["wall_seconds"])' "$w/r.json"
}

# job3 CMD...: median of 3 such runs.
job3() {
    for i in 1 2 3; do job "$@"; done | sort -g | sed -n 2p
}

# fastText's format: __label__TOPIC title abstract, one line each.
to_fasttext() {
    python3 -c 'import json, sys
for line in sys.stdin:
    r = json.loads(line)
    print("__label__%s %s %s" % (r["label"], r["title"], r["abstract"]))'
}

for i in $(seq 20); do cat "$data/test.jsonl"; done >"$w/x20.jsonl"
if want fasttext; then
    to_fasttext <"$data/train.jsonl" >"$w/train.ft"
    to_fasttext <"$w/x20.jsonl" >"$w/x20.ft"
    fasttext supervised -input "$w/train.ft" -output "$w/ft" -thread 1 >/dev/null 2>&1
fi
if [ -n "$model" ]; then
    ln -s "$model" "$w/model.h5"
else
    mpirun -n 2 "$mb" train --input "$data/train.jsonl" --out "$w/model.h5" --quiet
fi

if want fasttext; then
    echo "## Classify 123,000 documents (test.jsonl x 20), one core, whole process"
    echo
    ft=$(median3 fasttext predict "$w/ft.bin" "$w/x20.ft")
    mbt=$(median3 "$mb" classify --model "$w/model.h5" --input "$w/x20.jsonl" --quiet)
    # The same with Open MPI's own singleton start-up, as before main.c chose
    # isolated mode and the ob1 PML for unlaunched runs: a helper daemon and
    # probes of every transport (docs/benchmarks.md).
    mbo=$(median3 env OMPI_MCA_pml=ob1,cm,ucx OMPI_MCA_ess_singleton_isolated=0 \
        "$mb" classify --model "$w/model.h5" --input "$w/x20.jsonl" --quiet)
    echo "| program | seconds |"
    echo "|---|---|"
    echo "| fasttext predict (default model, 1 thread) | $ft |"
    echo "| mpibatch classify, 1 rank | $mbt |"
    echo "| mpibatch classify, 1 rank, Open MPI's singleton defaults (OMPI_MCA_pml=ob1,cm,ucx OMPI_MCA_ess_singleton_isolated=0) | $mbo |"
    echo
    echo "mpibatch / fastText: $(awk "BEGIN { printf \"%.3f\", $mbt / $ft }")"
    echo "mpibatch with Open MPI's singleton defaults / fastText: $(awk "BEGIN { printf \"%.3f\", $mbo / $ft }")"
    echo
fi
if want ranks; then
    echo "## Ranks: $pairs pairs of 1 then 2 ranks (job time, report wall_seconds)"
    echo
    for i in $(seq "$pairs"); do
        one=$(job mpirun -n 1 "$mb" classify --model "$w/model.h5" --input "$w/x20.jsonl" --quiet)
        two=$(job mpirun -n 2 "$mb" classify --model "$w/model.h5" --input "$w/x20.jsonl" --quiet)
        echo "$one $two"
    done >"$w/pairs.txt"
    # Speedup of the medians, and the spread of the pairs' own ratios.
    awk '{ a[NR] = $1; b[NR] = $2; r[NR] = $1 / $2 }
    function median(v, n,   i, j, t) {
        for (i = 2; i <= n; i++)
            for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
        return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    END {
        n = NR; m1 = median(a, n); m2 = median(b, n); mr = median(r, n)
        printf "1 rank %.3f s, 2 ranks %.3f s (medians): speedup %.3f\n", m1, m2, m1 / m2
        printf "ratios of the %d pairs: min %.3f, median %.3f, max %.3f\n", n, r[1], mr, r[n]
    }' "$w/pairs.txt"
    echo
fi
if want chunks; then
    echo "## Chunk size K, 2 ranks, dynamic (job time)"
    echo
    echo "| K | seconds | documents/s |"
    echo "|---|---|---|"
    for k in 1 2 5 10 20 50 100; do
        t=$(job3 mpirun -n 2 "$mb" classify --model "$w/model.h5" --input "$w/x20.jsonl" --chunk $k --quiet)
        echo "| $k | $t | $(awk "BEGIN { printf \"%.0f\", 123000 / $t }") |"
    done
    echo
fi
if [ "$big" != 0 ] && want memory; then
    echo "## Memory: a generated ${big} GiB JSON-lines file, 2 ranks"
    echo
    docs=$(awk "BEGIN { printf \"%d\", $big * 1073741824 / 560 }")
    "$mb" corpus --docs "$docs" --seed 7 --out "$w/big.jsonl"
    ls -l "$w/big.jsonl" | awk '{ printf "file: %.2f GiB, ", $5 / 1073741824 }'
    echo "$docs documents"
    mpirun -n 2 /usr/bin/time -f "peak resident memory of a rank: %M KiB" "$mb" classify \
        --model "$w/model.h5" --input "$w/big.jsonl" --report "$w/big.json" --quiet 2>&1 |
        grep "peak resident"
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("classified %d documents in %.1f s" % (r["tasks"], r["wall_seconds"]))' "$w/big.json"
fi
