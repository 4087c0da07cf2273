#!/bin/sh
# main-job.sh OUTDIR LAUNCHER... - the main job, defined once: the Euler sum
# n = 1e9 in 100 blocks, the sleeper, and the topic classifier trained and
# run on the embedded generated corpus.  LAUNCHER starts the ranks, e.g.
# `mpirun -n 4` or `srun --mpi=pmix`; MPIBATCH names the binary (default:
# build/mpibatch, else mpibatch on PATH).  Outputs and reports go to OUTDIR.
set -eu
[ $# -ge 2 ] || { echo "usage: main-job.sh OUTDIR LAUNCHER..." >&2; exit 2; }
out=$1
shift
here=$(cd "$(dirname "$0")/.." && pwd)
mb=${MPIBATCH:-}
if [ -z "$mb" ]; then
    if [ -x "$here/build/mpibatch" ]; then mb="$here/build/mpibatch"; else mb=mpibatch; fi
fi
mkdir -p "$out"

"$@" "$mb" euler --terms 1000000000 --blocks 100 --out "$out/euler.h5" --report "$out/euler.json"
"$@" "$mb" sleep --tasks 16 --seconds 0.25 --out "$out/sleep.h5" --report "$out/sleep.json"
# Generated text (see `mpibatch help corpus`): the same bytes on every run.
"$mb" corpus --docs 20000 --seed 1 --out "$out/corpus-train.jsonl"
"$mb" corpus --docs 10000 --seed 2 --first-id 20000 --out "$out/corpus-test.jsonl"
"$@" "$mb" train --input "$out/corpus-train.jsonl" --out "$out/model.h5" --report "$out/train.json"
"$@" "$mb" classify --model "$out/model.h5" --input "$out/corpus-test.jsonl" \
    --out "$out/labels.h5" --report "$out/classify.json"
