#!/bin/sh
# A host lost under Slurm, carried on without it in the same allocation:
# slurm/mpibatch.sbatch runs an exec job spec of 3-second commands on 3
# simulated hosts (tests/cluster/cluster.sh, slurmctld on the head, a
# slurmd on each node); node3 freezes in mid-run (SIGSTOP of every process
# on it, its slurmd included).  mpibatch names the host after --heartbeat;
# the script ends the launcher that waits for the frozen host, relaunches
# on node1 and node2 (srun --exclude) and the job resumes there and
# completes: the output is identical to an uninterrupted run, no task the
# journal held runs again, the journal is gone, and Slurm says COMPLETED.
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
M="$RUN/marks"
N=12
mkdir -p "$M"
i=1
while [ $i -le $N ]; do
    echo "echo \$MB_HOST >>$M/start.$i; sleep 3; echo line-$i" >>"$RUN/cmds.txt"
    i=$((i + 1))
done
cat >"$RUN/job.json" <<'JSON'
{"kernel": "exec", "commands": "cmds.txt", "out": "lost.h5", "report": "lost.json",
 "heartbeat": 10}
JSON
starts() {
    cat "$M"/start.* 2>/dev/null | wc -l
}

# The uninterrupted run, on one host.
mb 2 exec --commands "$RUN/cmds.txt" --out "$WORK/ref.h5" --quiet || fail "uninterrupted run"
rm -f "$M"/*

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

id=$(slurm_submit --chdir="$RUN" --time=5 -N 3 -n 3 \
    --export=ALL,MPIBATCH_LAUNCHER_GRACE=5 "$top_srcdir/slurm/mpibatch.sbatch" job.json) ||
    fail "sbatch"
# Six commands started: three done, node3 running its second.
w=0
while [ "$(starts)" -lt 6 ] && [ $w -lt 1800 ]; do
    sleep 0.1
    w=$((w + 1))
done
[ "$(starts)" -ge 6 ] && ok || fail "the job did not start its commands: $(starts) started"
FROZEN=$(cluster_procs node3)
kill -STOP $FROZEN
state=$(slurm_wait $(($(date +%s) + 240)) "$id")
log="$RUN/mpibatch-$id.out"
[ "$state" = COMPLETED ] && ok || { fail "job $id: $state; log: $(tail -n 30 "$log")"; slurm_logs; }
grep -q "lost rank 2 on host node3" "$log" && ok || fail "node3 not named: $(tail -n 30 "$log")"
grep -q "lost node3: relaunching on the 2 other hosts" "$log" && ok ||
    fail "no relaunch: $(tail -n 30 "$log")"
h5diff --exclude-path /wall_seconds --exclude-path /peak_rss_kib "$WORK/ref.h5" "$RUN/lost.h5" \
    /results >"$WORK/diff.txt" 2>&1 && ok ||
    fail "results differ from the uninterrupted run: $(head -c 300 "$WORK/diff.txt")"
# Every task ran, and at most once more than once: those the journal did
# not hold when node3 was lost (at most one in flight on each of the 3
# ranks) ran again, the others were replayed.
twice=0
i=1
while [ $i -le $N ]; do
    n=$(wc -l <"$M/start.$i" 2>/dev/null || echo 0)
    [ "$n" -ge 1 ] && [ "$n" -le 2 ] && ok || fail "command $i ran $n times"
    [ "$n" = 2 ] && twice=$((twice + 1))
    i=$((i + 1))
done
[ $twice -le 3 ] && ok || fail "$twice commands ran twice"
[ "$(json_get "$RUN/lost.json" tasks_resumed)" -ge 3 ] && ok || fail "too few tasks resumed"
check_hosts=$(json_get "$RUN/lost.json" hosts)
[ "$check_hosts" = "['node1', 'node2']" ] && ok || fail "the relaunch ran on $check_hosts"
[ "$(json_get "$RUN/lost.json" state)" = complete ] && ok || fail "report state"
[ -e "$RUN/lost.h5.journal" ] && fail "the journal outlived the complete output" || ok
kill -CONT $FROZEN 2>/dev/null
FROZEN=
finish
