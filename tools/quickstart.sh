#!/bin/sh
# quickstart.sh - install what is missing, build, and run the main job on
# every core: the Euler sum n = 1e9 in 100 blocks, then the sleeper.
# Outputs go to results/.
set -eu
cd "$(dirname "$0")/.."
sh tools/bootstrap.sh build
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ranks=$(nproc)
mkdir -p results
mpirun -n "$ranks" build/mpibatch euler --terms 1000000000 --blocks 100 \
    --out results/euler.h5 --report results/euler.json
mpirun -n "$ranks" build/mpibatch sleep --tasks $((8 * ranks)) --seconds 0.25 \
    --out results/sleep.h5 --report results/sleep.json
echo "quickstart: outputs and reports in results/"
