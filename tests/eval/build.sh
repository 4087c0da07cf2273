#!/bin/sh
# Build the classifier's evaluation tool against an autotools build's
# library (sh tools/bootstrap.sh BUILDDIR first).
# Usage: tests/eval/build.sh [BUILDDIR]   (run from the repository root)
set -eu
build=${1:-build-ml}
CC=${CC:-mpicc}
# No -ffast-math: training must give the same bits everywhere.
CFLAGS="-O2 -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
-Wmissing-prototypes -Werror -Iinclude -I$build"
LIBS="$build/libmpibatch.a $(pkg-config --libs hdf5-openmpi) -lcjson -lcurl \
-lcrypto -lm"
$CC $CFLAGS $(pkg-config --cflags hdf5-openmpi) -o "$build/arxiv_eval" \
    tests/eval/arxiv_eval.c $LIBS
