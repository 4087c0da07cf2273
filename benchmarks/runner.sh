#!/bin/sh
# runner.sh [BUILDDIR] - the runner's own measurements, side by side in one
# run: Euler speed against a plain loop, 1 vs 2 ranks, per-task overhead
# against the chunk size, and start-up cost against a trivial MPI program.
# Prints a markdown table per measurement; each time is the median of 5.
set -eu
b=${1:-build}
mb="$b/mpibatch"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# calc EXPR: arithmetic with awk (no bc needed).
calc() {
    awk "BEGIN { printf \"%.4g\", $1 }"
}

# median5 CMD...: median wall seconds of 5 runs.
median5() {
    for i in 1 2 3 4 5; do
        s=$(date +%s.%N)
        "$@" >/dev/null
        e=$(date +%s.%N)
        calc "$e - $s"; echo
    done | sort -g | sed -n 3p
}

echo "## Machine"
echo
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores," \
    "$(mpirun --version | head -1), $(gcc --version | head -1)"
echo
echo "## Euler n = 1e9, 100 blocks"
echo
echo "| what | seconds (median of 5) |"
echo "|---|---|"
plain=$(median5 "$b/benchmarks/euler_plain" 1000000000)
echo "| plain -O2 loop, 1 core | $plain |"
for impl in generic avx512; do
    t=$(median5 "$mb" euler --impl $impl --quiet)
    echo "| mpibatch euler --impl $impl, 1 rank (whole process) | $t |"
done
r1=$(median5 mpirun -n 1 "$mb" euler --quiet)
r2=$(median5 mpirun -n 2 "$mb" euler --quiet)
echo "| mpirun -n 1 mpibatch euler | $r1 |"
echo "| mpirun -n 2 mpibatch euler | $r2 |"
echo
echo "plain / avx512 kernel: $(calc "$plain / $t")x;" \
    "speedup 2 ranks vs 1: $(calc "$r1 / $r2")"
echo
echo "## Empty tasks: sleep --seconds 0, 10^6 tasks, 2 ranks, with --out"
echo
echo "| schedule | chunk K | seconds (whole mpirun) | tasks/s end to end |"
echo "|---|---|---|---|"
for sched in dynamic static; do
    for k in 1 2 10 100 1000; do
        t=$(median5 mpirun -n 2 "$mb" sleep --tasks 1000000 --seconds 0 --chunk $k \
            --schedule $sched --out /tmp/mb-bench.h5 --quiet)
        echo "| $sched | $k | $t | $(calc "1000000 / $t") |"
    done
done
rm -f /tmp/mb-bench.h5
echo
echo "## Start-up: mpirun -n 2"
echo
hello=$(median5 mpirun -n 2 "$b/benchmarks/mpi_hello")
one=$(median5 mpirun -n 2 "$mb" sleep --tasks 1 --seconds 0 --quiet)
echo "| program | seconds (median of 5) |"
echo "|---|---|"
echo "| trivial MPI program (MPI_Init + MPI_Finalize) | $hello |"
echo "| mpibatch sleep --tasks 1 --seconds 0 | $one |"
echo
echo "mpibatch adds $(calc "($one - $hello) * 1000") ms"
