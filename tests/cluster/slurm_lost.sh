#!/bin/sh
# A host lost under Slurm, carried on without it in the same allocation:
# slurm/mpibatch.sbatch runs an exec job spec of 2-second commands on 3
# simulated hosts (tests/cluster/cluster.sh, slurmctld on the head, a
# slurmd on each node); node3 freezes in mid-run (SIGSTOP of every process
# on it, its slurmd included).  mpibatch names the host after --heartbeat;
# the script ends the launcher that waits for the frozen host, relaunches
# on node1 and node2 and the job resumes there and completes: the output
# is identical to an uninterrupted run, no task the journal held runs
# again, the journal is gone, and Slurm says COMPLETED.  Once with srun
# (srun --exclude), once with MPIBATCH_LAUNCHER=mpirun (mpirun --host).
# Skips (77) where the namespaces cannot be made or Slurm is not installed
# and cannot be.
# shellcheck disable=SC1091,SC2015,SC2154,SC2086 # ok never fails; make check sets top_srcdir; pid lists are words
. "$top_srcdir/tests/integration/lib.sh"
"$MPIBATCH" --help | grep -q '^  exec ' || { echo "no exec kernel: skipped"; exit 77; }
. "$top_srcdir/tests/cluster/testlib.sh"
. "$top_srcdir/tests/deploy/slurmlib.sh"
slurm_install ||
    cluster_skip "Slurm is not installed and cannot be (apt-get install slurm-wlm munge needs root)"
FROZEN=
trap '[ -z "$FROZEN" ] || kill -CONT $FROZEN 2>/dev/null; slurm_stop; cluster_down "$C"; rm -rf "$WORK"' EXIT
trap 'exit 1' INT TERM
RUN="$WORK/run"
N=12
mkdir -p "$RUN"

# prepare L: the commands and job spec of case L, and its uninterrupted
# run on one host (in the background, while the cluster comes up).
prepare() {
    M="$RUN/marks-$1"
    mkdir -p "$M"
    i=1
    while [ $i -le $N ]; do
        echo "echo \$MB_HOST >>$M/start.$i; sleep 2; echo line-$i"
        i=$((i + 1))
    done >"$RUN/cmds-$1.txt"
    cat >"$RUN/job-$1.json" <<JSON
{"kernel": "exec", "commands": "cmds-$1.txt", "out": "lost-$1.h5", "report": "lost-$1.json",
 "heartbeat": 10}
JSON
    mb 2 exec --commands "$RUN/cmds-$1.txt" --out "$WORK/ref-$1.h5" --quiet
}
prepare srun &
ref_srun=$!
prepare mpirun &
ref_mpirun=$!

t0=$(date +%s)
cluster_up "$C" 3 || { fail "the cluster did not come up"; finish; exit 1; }
if ! slurm_start_cluster "$WORK/slurm" "$C"; then
    fail "Slurm did not come up on the cluster"
    slurm_logs
    finish
    exit 1
fi
sbatch() { cluster_head "$C" sbatch "$@"; }
scontrol() { cluster_head "$C" scontrol "$@"; }
scancel() { cluster_head "$C" scancel "$@"; }

# lost_case LAUNCHER: the job under LAUNCHER (srun or mpirun), node3 frozen
# in mid-run; then node3 thaws and is idle again for the next case.
lost_case() {
    L=$1
    M="$RUN/marks-$L"
    rm -f "$M"/*
    id=$(slurm_submit --chdir="$RUN" --time=5 -N 3 -n 3 \
        --export=ALL,MPIBATCH_LAUNCHER_GRACE=3,MPIBATCH_LAUNCHER="$L" \
        "$top_srcdir/slurm/mpibatch.sbatch" "job-$L.json") || fail "$L: sbatch"
    # Six commands started: three done, node3 running its second.
    w=0
    while [ "$(cat "$M"/start.* 2>/dev/null | wc -l)" -lt 6 ] && [ $w -lt 1800 ]; do
        sleep 0.1
        w=$((w + 1))
    done
    FROZEN=$(cluster_procs node3)
    kill -STOP $FROZEN
    echo "slurm_lost: $L: node3 frozen at $(($(date +%s) - t0)) s"
    state=$(slurm_wait $(($(date +%s) + 240)) "$id")
    log="$RUN/mpibatch-$id.out"
    echo "slurm_lost: $L: job $id $state at $(($(date +%s) - t0)) s"
    [ "$state" = COMPLETED ] && ok ||
        { fail "$L: job $id: $state; log: $(tail -n 30 "$log")"; slurm_logs; }
    grep -q "lost rank 2 on host node3" "$log" && ok ||
        fail "$L: node3 not named: $(tail -n 30 "$log")"
    grep -q "lost node3: relaunching on the 2 other hosts" "$log" && ok ||
        fail "$L: no relaunch: $(tail -n 30 "$log")"
    h5diff --exclude-path /wall_seconds --exclude-path /peak_rss_kib "$WORK/ref-$L.h5" \
        "$RUN/lost-$L.h5" /results >"$WORK/diff.txt" 2>&1 && ok ||
        fail "$L: results differ from the uninterrupted run: $(head -c 300 "$WORK/diff.txt")"
    # Every task ran, and at most once more than once: those the journal
    # did not hold when node3 was lost (at most one in flight on each of
    # the 3 ranks) ran again, the others were replayed.
    twice=0
    i=1
    while [ $i -le $N ]; do
        n=$(wc -l <"$M/start.$i" 2>/dev/null || echo 0)
        [ "$n" -ge 1 ] && [ "$n" -le 2 ] && ok || fail "$L: command $i ran $n times"
        [ "$n" = 2 ] && twice=$((twice + 1))
        i=$((i + 1))
    done
    [ $twice -le 3 ] && ok || fail "$L: $twice commands ran twice"
    [ "$(json_get "$RUN/lost-$L.json" tasks_resumed)" -ge 3 ] && ok || fail "$L: too few resumed"
    hosts=$(json_get "$RUN/lost-$L.json" hosts)
    [ "$hosts" = "['node1', 'node2']" ] && ok || fail "$L: the relaunch ran on $hosts"
    [ "$(json_get "$RUN/lost-$L.json" state)" = complete ] && ok || fail "$L: report state"
    [ -e "$RUN/lost-$L.h5.journal" ] && fail "$L: the journal outlived the output" || ok
    # node3 thaws; Slurm may have marked it down meanwhile.
    kill -CONT $FROZEN 2>/dev/null
    FROZEN=
    scontrol update nodename=node3 state=resume 2>/dev/null
    w=0
    until scontrol show node node3 -o | grep -q "State=IDLE " || [ $w -ge 600 ]; do
        sleep 0.1
        w=$((w + 1))
    done
    echo "slurm_lost: $L: node3 idle again at $(($(date +%s) - t0)) s"
}

echo "slurm_lost: Slurm up at $(($(date +%s) - t0)) s"
wait $ref_srun && wait $ref_mpirun && ok || fail "the uninterrupted runs"
lost_case srun
lost_case mpirun
finish
