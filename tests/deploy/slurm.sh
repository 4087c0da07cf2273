#!/bin/sh
# The slurm/ scripts on a real single-node Slurm cluster that this test starts
# on 127.0.0.1 and always stops: sbatch --test-only for every script, then
# every script runs a small job to completion (srun --mpi=pmix, and mpirun
# inside the allocation) and its outputs are checked. Skips (77) when Slurm
# cannot be installed or started.
# shellcheck disable=SC1091,SC2015,SC2154 # ok never fails; make check sets top_srcdir
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/deploy/slurmlib.sh"
trap 'slurm_stop; rm -rf "$WORK"' EXIT
trap 'exit 1' INT TERM
S="$top_srcdir/slurm"
RUN="$WORK/run"
mkdir -p "$RUN"
# Open MPI's session files stay in this test's directory, away from others'.
TMPDIR="$WORK/tmp"
export TMPDIR
mkdir -p "$TMPDIR"

# check NAME PYTHON-EXPRESSION FILE: the report in FILE (as r) satisfies it.
check() {
    python3 -c 'import json, sys
r = json.load(open(sys.argv[2]))
if not eval("(%s)" % sys.argv[1]):
    sys.exit("%s: not %s" % (sys.argv[2], sys.argv[1]))' "$2" "$3" && ok || fail "$1"
}

# Without Slurm the main script runs a job spec with mpirun on this host.
cat >"$RUN/local.json" <<'JSON'
{"kernel": "sleep", "tasks": 6, "seconds": 0.01, "report": "local-report.json"}
JSON
(cd "$RUN" && MPIBATCH_RANKS=2 sh "$S/mpibatch.sbatch" local.json >local.log 2>&1) ||
    fail "mpibatch.sbatch outside Slurm: $(tail -n 5 "$RUN/local.log")"
check "outside Slurm" 'r["ranks"] == 2 and r["tasks"] == 6 and r["tasks_failed"] == 0' "$RUN/local-report.json"

if ! slurm_install; then
    echo "SKIP: Slurm is not installed and cannot be (apt-get install slurm-wlm munge needs root and the Debian archive)"
    [ "$failures" -eq 0 ] && exit 77
    finish
    exit 1
fi
t0=$(date +%s)
if ! slurm_start "$WORK/slurm"; then
    echo "SKIP: the single-node Slurm cluster did not come up:"
    slurm_logs
    [ "$failures" -eq 0 ] && exit 77
    finish
    exit 1
fi
if ! srun --mpi=list 2>&1 | grep -q pmix; then
    echo "SKIP: this Slurm has no PMIx plugin (srun --mpi=list)"
    [ "$failures" -eq 0 ] && exit 77
    finish
    exit 1
fi
echo "slurm: node $SLURM_NODE idle after $(($(date +%s) - t0)) s ($(sinfo -V))"
ncpu=$(nproc)

# Every script's #SBATCH lines against the live cluster (node and task counts
# scaled down to this one node).
for spec in "mpibatch.sbatch -N 1 -n $ncpu" "ring.sbatch -N 1" "speedup.sbatch -n $ncpu"; do
    # shellcheck disable=SC2086
    set -- $spec
    script=$1
    shift
    if sbatch --test-only "$@" "$S/$script" >"$WORK/test-only.txt" 2>&1 &&
        grep -q "to start at" "$WORK/test-only.txt"; then ok; else
        fail "sbatch --test-only $script: $(cat "$WORK/test-only.txt")"
    fi
done
# ... and a request this node cannot hold is refused, so the check means something.
if sbatch --test-only -N 2 "$S/ring.sbatch" >/dev/null 2>&1; then
    fail "--test-only accepted 2 nodes on a 1-node cluster"
else ok; fi

# Submit everything, then wait: Slurm runs the jobs as CPUs free up.
# Every job is bounded (--time) and runs on the one node.
sb() {
    slurm_submit --chdir="$RUN" --time=5 -N 1 "$@" || fail "sbatch $*"
}
# The main job (tools/main-job.sh of the source tree), srun --mpi=pmix, 2 ranks.
main=$(sb -n 2 --export=ALL,MPIBATCH_SRC="$top_srcdir" "$S/mpibatch.sbatch")
# A job spec plus an overriding flag, 4 ranks overcommitted on the node's CPUs.
cat >"$RUN/spec.json" <<'JSON'
{"kernel": "sleep", "tasks": 12, "seconds": 0.01, "out": "spec.h5", "report": "spec.json"}
JSON
spec=$(sb -n 4 -O "$S/mpibatch.sbatch" spec.json --chunk 2)
# Open MPI's mpirun inside the allocation instead of srun.
cat >"$RUN/euler.json" <<'JSON'
{"kernel": "euler", "terms": 1000000, "blocks": 10, "report": "mpirun.json"}
JSON
viampirun=$(sb -n 2 --export=ALL,MPIBATCH_LAUNCHER=mpirun "$S/mpibatch.sbatch" euler.json)
# A missing binary fails the job with a message that says what to do.
missing=$(sb -n 1 --export=ALL,MPIBATCH=/nonexistent/mpibatch "$S/mpibatch.sbatch")
# So does the main job submitted away from the source tree without MPIBATCH_SRC.
nosrc=$(sb -n 1 "$S/mpibatch.sbatch")

have_ring=no
if "$MPIBATCH" help ring >/dev/null 2>&1; then
    have_ring=yes
    ring=$(sb --ntasks-per-node=2 "$S/ring.sbatch" --iterations 50 --sizes 0:64K)
else
    echo "NOTE: 'mpibatch help ring' fails (no ring command yet): ring.sbatch checked with --test-only only"
fi
have_speedup=no
if [ -f "$top_srcdir/benchmarks/speedup" ]; then
    have_speedup=yes
    speedup=$(sb -n 2 --export=ALL,MPIBATCH_SRC="$top_srcdir" "$S/speedup.sbatch" \
        --repeats 1 --euler "--terms 1e7 --blocks 20" --sleep "--tasks 8 --seconds 0.05")
else
    echo "NOTE: no benchmarks/speedup yet: speedup.sbatch checked with --test-only only"
fi

# wait_ok NAME ID WANT: job ID ends in state WANT within the test's budget
# (every job done 300 s after submission, or the test fails).  A guard
# against hangs, not a speed check: the sanitizer build on a loaded 2-core
# machine needs most of it (110 s once ran out there).
deadline=$(($(date +%s) + 300))
logged=no
wait_ok() {
    st=$(slurm_wait "$deadline" "$2")
    if [ "$st" = "$3" ]; then ok; else
        fail "$1 job $2: $st, expected $3; log: $(tail -n 8 "$RUN"/*-"$2".out 2>/dev/null)"
        [ "$logged" = yes ] || slurm_logs
        logged=yes
    fi
}

wait_ok main "$main" COMPLETED
d="$RUN/results/$main"
check "main: euler" 'r["ranks"] == 2 and r["tasks"] == 100 and r["tasks_failed"] == 0
    and r["result"]["terms"] == 10**9 and abs(r["result"]["error"]) < 1e-12
    and all(p["tasks"] > 0 for p in r["per_rank"])' "$d/euler.json"
check "main: hosts" "r['hosts'] == ['$SLURM_NODE']" "$d/euler.json"
check "main: sleep" 'r["ranks"] == 2 and r["tasks"] == 16 and r["tasks_failed"] == 0' "$d/sleep.json"
if [ -f "$d/classify.json" ]; then
    check "main: classify" 'r["ranks"] == 2 and r["tasks"] > 0 and r["tasks_failed"] == 0' "$d/classify.json"
fi
"$H5DUMP" -a /job "$d/euler.h5" 2>/dev/null | grep -q '"terms": *1000000000' && ok ||
    fail "main: euler.h5 lacks its job spec"
"$H5DUMP" -d /tasks/rank "$d/sleep.h5" >/dev/null 2>&1 && ok || fail "main: sleep.h5 unreadable"
grep -q "2 ranks via srun on $SLURM_NODE" "$RUN/mpibatch-$main.out" && ok ||
    fail "main: log lacks the launch line"
grep -q "euler, 100 tasks on 2 ranks" "$RUN/mpibatch-$main.out" && ok || fail "main: log lacks the summary"

wait_ok spec "$spec" COMPLETED
check "spec: 4 overcommitted ranks, flag over spec" \
    'r["ranks"] == 4 and r["tasks"] == 12 and r["chunk"] == 2 and r["tasks_failed"] == 0' "$RUN/spec.json"
[ -f "$RUN/spec.h5" ] && ok || fail "spec: no spec.h5"

wait_ok mpirun "$viampirun" COMPLETED
check "mpirun in the allocation" 'r["ranks"] == 2 and r["result"]["terms"] == 10**6' "$RUN/mpirun.json"
grep -q "2 ranks via mpirun" "$RUN/mpibatch-$viampirun.out" && ok || fail "mpirun: log"

wait_ok missing "$missing" FAILED
grep -q "not found: put mpibatch on PATH or set MPIBATCH" "$RUN/mpibatch-$missing.out" && ok ||
    fail "missing binary: no clear message"
wait_ok nosrc "$nosrc" FAILED
grep -q "tools/main-job.sh (the main job): submit from the source tree or set MPIBATCH_SRC" \
    "$RUN/mpibatch-$nosrc.out" && ok || fail "no source tree: no clear message"

if [ "$have_ring" = yes ]; then
    wait_ok ring "$ring" COMPLETED
    check "ring report" "r['ranks'] == 2 and r['rank_hosts'] == ['$SLURM_NODE'] * 2
        and r['sizes'][0]['bytes'] == 0 and r['sizes'][-1]['bytes'] == 65536
        and all(s['usec_per_hop_median'] > 0 for s in r['sizes'])" "$RUN/results/ring-$ring.json"
    grep -q "report in results/ring-$ring.json" "$RUN/ring-$ring.out" && ok || fail "ring: log"
fi
if [ "$have_speedup" = yes ]; then
    wait_ok speedup "$speedup" COMPLETED
    d="$RUN/results/speedup-$speedup"
    check "speedup points" '{("euler", 1), ("euler", 2), ("sleep", 1), ("sleep", 2)}
        <= {(p["workload"], p["ranks"]) for p in r["points"]}
        and all(p["speedup"] > 0 for p in r["points"])' "$d/speedup.json"
    [ -s "$d/speedup.csv" ] && ok || fail "speedup: no CSV"
fi
echo "slurm: all jobs done $(($(date +%s) - t0)) s after start"
finish
