#!/bin/sh
# Build the classifier's unit tests and evaluation tool outside autotools.
# Usage: tests/eval/build.sh [OUTDIR]   (run from the repository root)
set -eu
out=${1:-build-ml}
mkdir -p "$out"
CC=${CC:-gcc}
# No -ffast-math: training must give the same bits everywhere.
CFLAGS="-O2 -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
-Wmissing-prototypes -Werror -Iinclude"
ML="src/error.c src/ml/tokenize.c src/ml/model.c src/ml/jsonl.c"
CHECK=$(pkg-config --cflags --libs check)
$CC $CFLAGS -o "$out/arxiv_eval" tests/eval/arxiv_eval.c $ML -lcjson -lm
for t in tokenize model jsonl; do
    $CC $CFLAGS -o "$out/test_$t" "tests/unit/test_$t.c" $ML -lcjson -lm \
        $CHECK
done
