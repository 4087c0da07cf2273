#!/bin/sh
# A batch that needs three allocations on a real single-node Slurm cluster:
# slurm/mpibatch.sbatch runs an exec job; `scancel --signal=USR1 --batch`
# (what --signal=B:USR1@120 sends before the time limit) ends the first and
# the second allocation, mpibatch drains and exits 75, the script requeues
# the job, and the same command line continues from the journal.  The third
# allocation completes the batch: every task done once, the output the same
# as one uninterrupted run, the report's slurm_restart_count 2.  Skips (77)
# when Slurm cannot be installed or started.
# shellcheck disable=SC1091,SC2015,SC2154 # ok never fails; make check sets top_srcdir
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/deploy/slurmlib.sh"
trap 'slurm_stop; rm -rf "$WORK"' EXIT
trap 'exit 1' INT TERM
RUN="$WORK/run"
mkdir -p "$RUN"
TMPDIR="$WORK/tmp"
export TMPDIR
mkdir -p "$TMPDIR"

skip() {
    echo "SKIP: $*"
    slurm_logs
    exit 77
}
slurm_install || skip "Slurm is not installed and cannot be (apt-get install slurm-wlm munge needs root)"
slurm_start "$WORK/slurm" || skip "the single-node Slurm cluster did not come up"
srun --mpi=list 2>&1 | grep -q pmix || skip "this Slurm has no PMIx plugin (srun --mpi=list)"

# 24 commands of about half a second: each notes that it ran, then prints
# a result of its own.
N=24
seq 1 $N | awk -v d="$RUN" '{ printf "echo %d >>%s/ran.txt; sleep 0.5; echo $((%d * %d))\n", $1, d, $1, $1 }' \
    >"$RUN/cmds.txt"
cat >"$RUN/job.json" <<JSON
{"kernel": "exec", "commands": "cmds.txt", "out": "runs.h5", "report": "report.json",
 "drain-grace": 30}
JSON
mb 2 exec --commands "$RUN/cmds.txt" --out "$WORK/ref.h5" --no-journal --quiet ||
    fail "the uninterrupted run"
rm -f "$RUN/ran.txt"

id=$(slurm_submit --chdir="$RUN" -N 1 -n 2 --time=5 "$top_srcdir/slurm/mpibatch.sbatch" job.json) ||
    { fail "sbatch"; finish; exit 1; }
# Slurm holds a requeued job back for 120 s (Reason=BeginTime), so the
# three allocations take about five minutes.
deadline=$(($(date +%s) + 600))

# field NAME: the job's NAME= from scontrol (Restarts, JobState).
field() {
    scontrol show job "$id" -o 2>/dev/null | tr ' ' '\n' | sed -n "s/^$1=//p"
}
# after RESTARTS DONE: wait until allocation RESTARTS runs and DONE tasks
# have started in all; then warn the job as Slurm does before its limit.
after() {
    while :; do
        started=$( (wc -l <"$RUN/ran.txt") 2>/dev/null || echo 0)
        [ "$(field Restarts)" = "$1" ] && [ "$(field JobState)" = RUNNING ] &&
            [ "$started" -ge "$2" ] && break
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.2
    done
    scancel --signal=USR1 --batch "$id"
}
after 0 4 || fail "the first allocation did not start 4 tasks"
after 1 10 || fail "the second allocation did not run (restarts: $(field Restarts), $(field JobState))"
# The third allocation runs to the end.
while :; do
    st=$(field JobState)
    case $st in
    PENDING | RUNNING | CONFIGURING | COMPLETING | REQUEUED | "") ;;
    *) break ;;
    esac
    [ "$(date +%s)" -lt "$deadline" ] || break
    sleep 0.2
done
[ "$st" = COMPLETED ] && ok ||
    fail "job $id: $st ($(scontrol show job "$id" -o)); log: $(tail -n 20 "$RUN"/mpibatch-"$id".out)"

grep -c "stopped before the end" "$RUN/mpibatch-$id.out" | grep -qx 2 && ok ||
    fail "two requeues in the log: $(grep requeue "$RUN/mpibatch-$id.out")"
python3 - "$RUN/report.json" $N <<'PY' && ok || fail "the report of the last allocation"
import json, sys
r = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
assert r["slurm_restart_count"] == 2, r["slurm_restart_count"]
assert r["tasks"] == n and r["tasks_failed"] == 0, r
PY
h5diff --exclude-path /wall_seconds --exclude-path /peak_rss_kib \
    "$WORK/ref.h5" "$RUN/runs.h5" /results >"$WORK/diff.txt" 2>&1 && ok ||
    fail "the output differs from one uninterrupted run: $(head -c 300 "$WORK/diff.txt")"
# Every task ran.  Under srun Slurm signals the commands too, so a command
# running at a drain ends and runs again in the next allocation: at most
# one per rank (2) and drain (2).
again=$(sort -n "$RUN/ran.txt" | uniq -d | wc -l)
[ "$again" -le 4 ] && ok || fail "$again tasks ran twice: $(sort -n "$RUN/ran.txt" | uniq -d | tr '\n' ' ')"
[ "$(sort -un "$RUN/ran.txt" | wc -l)" -eq $N ] && ok || fail "not every task ran"
[ ! -e "$RUN/runs.h5.journal" ] && ok || fail "the journal is left after a complete output"
finish
