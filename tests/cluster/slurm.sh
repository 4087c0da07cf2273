#!/bin/sh
# Slurm across 4 simulated hosts (tests/cluster/cluster.sh): slurmctld on the
# head, one slurmd on each node.  srun -N 4 --mpi=pmix runs every kernel
# (euler, classify, sleep, the plug-in, exec, train) with the 1-host
# results and the 4 hosts named; every slurm/
# script runs with -N 4 to completion (the main job by srun, a job spec by
# mpirun inside the allocation, the ring, the speedup sweep) and its outputs
# are checked.  Skips (77) where the namespaces cannot be made or Slurm is
# not installed and cannot be.
# shellcheck disable=SC1091,SC2015,SC2154 # ok never fails; make check sets top_srcdir
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/cluster/testlib.sh"
. "$top_srcdir/tests/deploy/slurmlib.sh"
slurm_install ||
    cluster_skip "Slurm is not installed and cannot be (apt-get install slurm-wlm munge needs root)"
trap 'slurm_stop; cluster_down "$C"; rm -rf "$WORK"' EXIT
trap 'exit 1' INT TERM
S="$top_srcdir/slurm"
RUN="$WORK/run"
mkdir -p "$RUN"
cluster_up "$C" 4 || { fail "the cluster did not come up"; finish; exit 1; }
t0=$(date +%s)
if ! slurm_start_cluster "$WORK/slurm" "$C"; then
    fail "Slurm did not come up on the cluster"
    slurm_logs
    finish
    exit 1
fi
echo "slurm: 4 nodes idle after $(($(date +%s) - t0)) s"

# Slurm's commands talk to slurmctld on the head; jobs get the cluster's
# Open MPI settings (DIR/env) through sbatch's and srun's --export=ALL.
sbatch() { cluster_head "$C" sbatch "$@"; }
srun() { cluster_head "$C" srun "$@"; }
scontrol() { cluster_head "$C" scontrol "$@"; }
scancel() { cluster_head "$C" scancel "$@"; }

# check NAME PYTHON-EXPRESSION FILE: the report in FILE (as r) satisfies it.
check() {
    python3 -c 'import json, sys
r = json.load(open(sys.argv[2]))
if not eval("(%s)" % sys.argv[1]):
    sys.exit("%s: not %s" % (sys.argv[2], sys.argv[1]))' "$2" "$3" && ok || fail "$1"
}
FOUR="['node1', 'node2', 'node3', 'node4']"

# srun -N 4 --mpi=pmix against a 1-host run: euler to the bit, classify
# at level 2 (the model table sent to every host).
mb 2 euler --terms 2e7 --blocks 40 --out "$WORK/e1.h5" --report "$WORK/e1.json" --quiet ||
    fail "euler at 1 host"
srun -N 4 --ntasks-per-node=2 --mpi=pmix --time=5 "$MPIBATCH" euler --terms 2e7 --blocks 40 \
    --out "$WORK/e4.h5" --report "$WORK/e4.json" --quiet || fail "srun euler"
h5diff "$WORK/e1.h5" "$WORK/e4.h5" /results >/dev/null && ok || fail "srun euler: results differ"
[ "$(json_get "$WORK/e4.json" result.total)" = "$(json_get "$WORK/e1.json" result.total)" ] && ok ||
    fail "srun euler: total differs"
check "srun euler: hosts" "r['hosts'] == $FOUR and r['ranks'] == 8" "$WORK/e4.json"
mb 1 corpus --docs 1000 --seed 1 --out "$WORK/train.jsonl" &&
    mb 1 corpus --docs 300 --seed 2 --first-id 1000 --out "$WORK/test.jsonl" &&
    mb 1 train --input "$WORK/train.jsonl" --out "$WORK/m.h5" --quiet &&
    mb 2 classify --model "$WORK/m.h5" --input "$WORK/test.jsonl" --levels 2 \
        --out "$WORK/c1.h5" --quiet || fail "classify at 1 host"
srun -N 4 --ntasks-per-node=2 --mpi=pmix --time=5 "$MPIBATCH" classify --model "$WORK/m.h5" \
    --input "$WORK/test.jsonl" --levels 2 --out "$WORK/c4.h5" --report "$WORK/c4.json" --quiet ||
    fail "srun classify"
h5diff "$WORK/c1.h5" "$WORK/c4.h5" /results >/dev/null && ok || fail "srun classify: results differ"
check "srun classify: hosts" "r['hosts'] == $FOUR" "$WORK/c4.json"

# The other kernels under srun too, each against its 1-host run: sleep,
# the plug-in example, exec (each task sees its own host), train (the model
# to the bit).  Measurements (sleep's overslept, exec's time and memory)
# are left out of the comparison.
sr() { srun -N 4 --ntasks-per-node=2 --mpi=pmix --time=5 "$MPIBATCH" "$@"; }
both() {
    name=$1
    shift
    mb 2 "$@" --out "$WORK/$name-1.h5" --quiet || { fail "$name at 1 host"; return; }
    sr "$@" --out "$WORK/$name-4.h5" --report "$WORK/$name-4.json" --quiet ||
        { fail "srun $name"; return; }
    h5diff --exclude-path /overslept --exclude-path /wall_seconds --exclude-path /peak_rss_kib \
        "$WORK/$name-1.h5" "$WORK/$name-4.h5" /results >/dev/null && ok ||
        fail "srun $name: results differ"
    check "srun $name: hosts" "r['hosts'] == $FOUR and r['tasks_failed'] == 0" "$WORK/$name-4.json"
}
both sleep sleep --tasks 16 --seconds 0.01
both plugin --kernel-lib "$(dirname "$MPIBATCH")/examples/libmbexample.so" --kernel mcpi \
    --tasks 16 --samples 20000
seq 1 16 | awk '{ printf "echo %d\n", $1 * $1 }' >"$WORK/cmds.txt"
both exec exec --commands "$WORK/cmds.txt"
# shellcheck disable=SC2016 # the task's shell expands them
printf '%s\n' 'printf "%s %s" "$MB_HOST" "$(hostname)"' |
    awk '{for (i = 0; i < 16; i++) print}' >"$WORK/hosts.txt"
sr exec --commands "$WORK/hosts.txt" --schedule static --chunk 1 --out "$WORK/host.h5" --quiet ||
    fail "srun exec MB_HOST"
h5dump -A 0 -y -w 0 -d /results/stdout "$WORK/host.h5" | tr ',' '\n' | tr -d '"{}' |
    awk 'NF == 2 && $1 == $2 && $1 ~ /^node[1-4]$/ {n[$1]++} END {exit !(length(n) == 4)}' && ok ||
    fail "srun exec: MB_HOST is not each task's own host on all 4 nodes"
sr train --input "$WORK/train.jsonl" --out "$WORK/m4.h5" --quiet || fail "srun train"
h5diff "$WORK/m.h5" "$WORK/m4.h5" >/dev/null && ok || fail "srun train: the model differs"

# Every slurm/ script with -N 4, submitted at once and run one after
# another (one job name, --dependency=singleton), as in a user's
# allocation, rather than four jobs of 8 ranks sharing the 2-core machine.
sb() {
    slurm_submit --chdir="$RUN" --time=5 --job-name=mb-cluster-test --dependency=singleton \
        "$@" || fail "sbatch $*"
}
main=$(sb -N 4 -n 8 --export=ALL,MPIBATCH_SRC="$top_srcdir" "$S/mpibatch.sbatch")
cat >"$RUN/euler.json" <<'JSON'
{"kernel": "euler", "terms": 1000000, "blocks": 16, "report": "mpirun.json"}
JSON
viampirun=$(sb -N 4 -n 8 --export=ALL,MPIBATCH_LAUNCHER=mpirun "$S/mpibatch.sbatch" euler.json)
ring=$(sb -N 4 --ntasks-per-node=1 "$S/ring.sbatch" --iterations 50 --sizes 0:64K)
speedup=$(sb -N 4 -n 8 --export=ALL,MPIBATCH_SRC="$top_srcdir" "$S/speedup.sbatch" \
    --repeats 1 --euler "--terms 1e7 --blocks 20" --sleep "--tasks 8 --seconds 0.05")

# wait_ok NAME ID: job ID completes within the test's budget (a guard
# against hangs, not a speed check).
deadline=$(($(date +%s) + 400))
wait_ok() {
    st=$(slurm_wait "$deadline" "$2")
    if [ "$st" = COMPLETED ]; then ok; else
        fail "$1 job $2: $st; log: $(tail -n 40 "$RUN"/*-"$2".out 2>/dev/null)"
        slurm_logs
    fi
}

wait_ok main "$main"
d="$RUN/results/$main"
check "main: euler" "r['ranks'] == 8 and r['hosts'] == $FOUR and r['tasks_failed'] == 0
    and abs(r['result']['error']) < 1e-12" "$d/euler.json"
check "main: sleep" "r['ranks'] == 8 and r['hosts'] == $FOUR and r['tasks'] == 16" "$d/sleep.json"
check "main: classify" "r['ranks'] == 8 and r['hosts'] == $FOUR and r['tasks_failed'] == 0
    and r['result']['accuracy'] > 0.5" "$d/classify.json"
grep -q "8 ranks via srun on node\[1-4\]" "$RUN/mpibatch-$main.out" && ok ||
    fail "main: log lacks the launch line"

wait_ok mpirun "$viampirun"
check "mpirun in the allocation" "r['ranks'] == 8 and r['hosts'] == $FOUR
    and r['result']['terms'] == 10**6" "$RUN/mpirun.json"

wait_ok ring "$ring"
check "ring across 4 hosts" "r['ranks'] == 4 and r['rank_hosts'] == $FOUR
    and r['sizes'][-1]['bytes'] == 65536
    and all(s['usec_per_hop_median'] > 0 for s in r['sizes'])" "$RUN/results/ring-$ring.json"

wait_ok speedup "$speedup"
check "speedup points" '{("euler", 1), ("euler", 8), ("sleep", 8)}
    <= {(p["workload"], p["ranks"]) for p in r["points"]}
    and all(p["speedup"] > 0 for p in r["points"])' "$RUN/results/speedup-$speedup/speedup.json"
echo "slurm: all jobs done $(($(date +%s) - t0)) s after start"
finish
