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

# wall5 CMD...: median of 5 report wall_seconds (the job's own time).
wall5() {
    for i in 1 2 3 4 5; do
        "$@" --report /tmp/mb-bench.json >/dev/null
        sed -n 's/^[[:space:]]*"wall_seconds":[[:space:]]*\([0-9.e+-]*\),*$/\1/p' /tmp/mb-bench.json
    done | sort -g | sed -n 3p
}

echo "## Machine"
echo
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores," \
    "$(mpirun --version | head -1), $(gcc --version | head -1)"
echo
echo "## Euler n = 1e9, 100 blocks"
echo
echo "Job time is the report's wall_seconds (start-up to output complete, without"
echo "the launcher's MPI start-up, which the last table measures on its own)."
echo
echo "| what | seconds (median of 5) |"
echo "|---|---|"
plain=$(median5 "$b/benchmarks/euler_plain" 1000000000)
echo "| plain -O2 loop, 1 core, whole process | $plain |"
for what in "1 generic" "1 avx512" "2 avx512"; do
    set -- $what
    t=$(calc "$(wall5 mpirun -n "$1" "$mb" euler --impl "$2" --quiet)")
    echo "| mpibatch euler --impl $2, $1 rank(s), job time | $t |"
    eval "t_$1_$2=$t"
done
echo
echo "plain loop / mpibatch at 1 rank: generic $(calc "$plain / $t_1_generic")x," \
    "avx512 $(calc "$plain / $t_1_avx512")x; speedup 2 ranks vs 1: $(calc "$t_1_avx512 / $t_2_avx512")"
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
rm -f /tmp/mb-bench.h5 /tmp/mb-bench.json
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
