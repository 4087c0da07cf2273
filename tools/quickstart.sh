#!/bin/sh
# quickstart.sh - install what is missing, build, and run the main job
# (tools/main-job.sh) on every core.  Outputs and reports go to results/.
set -eu
cd "$(dirname "$0")/.."
sh tools/bootstrap.sh build
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPIBATCH="$(pwd)/build/mpibatch" sh tools/main-job.sh results mpirun -n "$(nproc)"
echo "quickstart: outputs and reports in results/"
