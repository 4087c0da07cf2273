#!/bin/sh
# Draining on a signal: SIGUSR1 to mpirun, SIGTERM and SIGINT to the ranks,
# SIGTERM to one worker only, and a second signal.  The job stops with exit
# 75, kills the commands still running after --drain-grace (no process
# left; also with --slots, several commands running on a rank), leaves no output and no temporary file, keeps its journal, and
# its status document and report say it stopped and why; the same command
# then completes with results identical to an uninterrupted run, no task
# recorded twice.  Signals are sent once the commands that block are
# running (their PIDs are written), never after a sleep that could race.
. "$top_srcdir/tests/integration/lib.sh"
command -v h5diff >/dev/null 2>&1 || { echo "h5diff missing: skipped"; exit 77; }
"$MPIBATCH" --help | grep -q '^  exec ' || { echo "no exec kernel: skipped"; exit 77; }

TASKS=24
# Lines 11 and 12 block (sleep 60) while $WORK/block exists, writing their
# shell's PID first; every line notes in $WORK/ran that it ran and prints
# its number.
i=1
: >"$WORK/cmds.txt"
while [ $i -le $TASKS ]; do
    if [ $i = 11 ] || [ $i = 12 ]; then
        echo "echo $i >>$WORK/ran; if [ -e $WORK/block ]; then echo \$\$ >>$WORK/pids; sleep 60; fi; echo line-$i" \
            >>"$WORK/cmds.txt"
    else
        echo "echo $i >>$WORK/ran; echo line-$i" >>"$WORK/cmds.txt"
    fi
    i=$((i + 1))
done
job="exec --commands $WORK/cmds.txt --drain-grace 1 --quiet"

# shellcheck disable=SC2086
mb 3 $job --out "$WORK/ref.h5" || fail "reference run"
[ -e "$WORK/ref.h5.journal" ] && fail "the journal of a complete run was kept" || ok

# wait_lines FILE N: wait (at most 60 s) until FILE has N lines.
wait_lines() {
    waited=0
    while [ "$(cat "$1" 2>/dev/null | wc -l)" -lt "$2" ] && [ $waited -lt 6000 ]; do
        sleep 0.01
        waited=$((waited + 1))
    done
}

# alive PIDFILE: how many of the PIDs listed still run (a zombie that
# nobody reaped yet, its parent gone, does not count).
alive() {
    n=0
    for p in $(cat "$1"); do
        ps -o stat= -p "$p" 2>/dev/null | grep -qv Z && n=$((n + 1))
    done
    echo $n
}

# stopped_by HOW SIGNAL LABEL [RANKS [OPTIONS]]: start the job (3 ranks
# unless RANKS) with both blocking commands, signal it once they run, check
# the stopped job, then run the same command again and compare with the
# reference.
stopped_by() {
    how=$1 sig=$2 label=$3 ranks=${4:-3} extra=${5:-}
    rm -f "$WORK/s.h5" "$WORK/s.h5.journal" "$WORK/pids" "$WORK/s.json" "$WORK/st.json" "$WORK/ran"
    touch "$WORK/block"
    # shellcheck disable=SC2086
    "$MPIEXEC" --oversubscribe -n "$ranks" "$MPIBATCH" $job $extra --out "$WORK/s.h5" \
        --report "$WORK/s.json" --status "$WORK/st.json" >"$WORK/out.txt" 2>"$WORK/err.txt" &
    pid=$!
    wait_lines "$WORK/pids" 2
    case $how in
    mpirun) kill -"$sig" "$pid" ;;
    ranks) kill -"$sig" $(pgrep -P "$pid") ;;
    worker) kill -"$sig" "$(pgrep -P "$pid" | tail -1)" ;;
    twice) kill -"$sig" $(pgrep -P "$pid"); sleep 0.2; kill -"$sig" $(pgrep -P "$pid") ;;
    esac
    wait "$pid"
    code=$?
    rm -f "$WORK/block"
    [ $code = 75 ] && ok || fail "$label: exit $code, expected 75: $(head -c 600 "$WORK/err.txt")"
    [ "$(alive "$WORK/pids")" = 0 ] && ok || fail "$label: commands left running"
    [ -e "$WORK/s.h5" ] && fail "$label: a stopped job left an output" || ok
    left=$(find "$WORK" -maxdepth 1 -name '*.part')
    [ -z "$left" ] && ok || fail "$label: temporary files left: $left"
    [ -e "$WORK/s.h5.journal" ] && ok || fail "$label: no journal kept"
    if [ "$how" != twice ]; then
        grep -q "stopped by SIG$sig.*run the same command again" "$WORK/err.txt" && ok ||
            fail "$label: stderr: $(head -c 600 "$WORK/err.txt")"
        [ "$(json_get "$WORK/st.json" state)" = stopped ] && ok || fail "$label: status state"
        json_get "$WORK/st.json" ending | grep -q "stopped by SIG$sig" && ok ||
            fail "$label: status ending"
        [ "$(json_get "$WORK/s.json" state)" = stopped ] && ok || fail "$label: report state"
    fi
    # The same command again completes the job.
    # shellcheck disable=SC2086
    mb 3 $job $extra --out "$WORK/s.h5" --report "$WORK/s.json" || fail "$label: the same command again"
    for d in /results/stdout /results/exit_status /failures/task; do
        h5diff "$WORK/ref.h5" "$WORK/s.h5" "$d" >/dev/null && ok || fail "$label: $d differs"
    done
    python3 - "$WORK/s.json" "$TASKS" <<'PY' && ok || fail "$label: task accounting"
import json, sys
r = json.load(open(sys.argv[1]))
tasks = int(sys.argv[2])
assert r["tasks"] == tasks and r["state"] == "complete", r
# Replayed plus run now make up the job: none twice, none lost.
assert r["tasks_resumed"] + sum(p["tasks"] for p in r["per_rank"]) == tasks, r
assert 0 < r["tasks_resumed"] < tasks, r["tasks_resumed"]
PY
    [ -e "$WORK/s.h5.journal" ] && fail "$label: journal kept after the output" || ok
    # Every command that finished before the stop ran once in all, also
    # those that finished while an earlier one still ran (the journal
    # records results as they arrive).  The blocking two ran once or twice:
    # killed and run again, or, queued behind the other on its rank (a rank
    # holds the next chunk while chunks are short), run to its end before
    # the signal.  A second signal ends the job at once, so a result still
    # on its way to rank 0 may be lost and its command run again: there,
    # no more than twice.
    most=1
    [ "$how" = twice ] && most=2
    again=$(sort -n "$WORK/ran" | uniq -c | awk -v m="$most" \
        '($2 == 11 || $2 == 12) ? $1 > 2 : $1 > m {print $2 " ran " $1 " times"}')
    [ "$(sort -un "$WORK/ran" | wc -l)" = $TASKS ] && [ -z "$again" ] && ok ||
        fail "$label: commands run again or never: $again"
    echo "$label: resumed $(json_get "$WORK/s.json" tasks_resumed) of $TASKS tasks"
}

stopped_by mpirun USR1 "SIGUSR1 to mpirun"
stopped_by ranks TERM "SIGTERM to every rank"
stopped_by ranks INT "SIGINT to every rank"
stopped_by worker TERM "SIGTERM to one worker"
stopped_by twice TERM "a second SIGTERM"
# One rank running four commands at once: the blocking two and the others
# beside them.
stopped_by mpirun USR1 "SIGUSR1 to one rank with --slots 4" 1 "--slots 4"

finish
