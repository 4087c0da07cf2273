#!/bin/sh
# A host lost in mid-run on the simulated cluster (tests/cluster/cluster.sh),
# 3 hosts x 1 rank under mpirun, an exec job of 3-second commands: node3
# (rank 2) is (a) killed (SIGKILL of all its processes), (b) frozen
# (SIGSTOP of all of them) or (c) cut off (its link down).  Each time the
# job ends well within a generous bound of --heartbeat 10, node3 is named
# on standard error, the journal is kept and no command is left running on
# the other hosts; then the same command line on node1 and node2 completes
# with /results identical to an uninterrupted run and no task the journal
# holds run again (each command appends a line to a marker file of its
# own).  How each case ends is in docs/deploy.md ("A lost host").  Skips
# (77) only where the namespaces cannot be made.
# shellcheck disable=SC1091,SC2015,SC2154,SC2086,SC2046 # ok never fails; make check sets top_srcdir; pid lists are words
. "$top_srcdir/tests/integration/lib.sh"
"$MPIBATCH" --help | grep -q '^  exec ' || { echo "no exec kernel: skipped"; exit 77; }
. "$top_srcdir/tests/cluster/testlib.sh"
FROZEN=
trap '[ -z "$FROZEN" ] || kill -CONT $FROZEN 2>/dev/null; cluster_down "$C"; rm -rf "$WORK"' EXIT
trap 'exit 1' INT TERM
N=12
M="$WORK/marks"
i=1
: >"$WORK/cmds.txt"
while [ $i -le $N ]; do
    echo "echo \$\$ >>$M/pid.\$MB_HOST; echo \$MB_HOST >>$M/start.$i; sleep 3; echo line-$i" \
        >>"$WORK/cmds.txt"
    i=$((i + 1))
done

# job GUARD HOSTS RANKS OUT: the job, the same command line on every run
# but for the hosts, ended by SIGKILL after GUARD seconds (never reached
# when all is well).
job() {
    timeout -s KILL "$1" sh "$top_srcdir/tests/cluster/cluster.sh" run -d "$C" "$MPIEXEC" \
        --host "$2" -n "$3" "$MPIBATCH" exec --commands "$WORK/cmds.txt" --out "$4" \
        --report "$4.json" --status "$4.st" --heartbeat 10 --quiet
}

# left HOST: commands (their sleep) still running on HOST.
left() {
    for _q in $(cluster_procs "$1"); do
        [ "$(cat "/proc/$_q/comm" 2>/dev/null)" = sleep ] && echo "$_q"
    done
}

starts() {
    cat "$M"/start.* 2>/dev/null | wc -l
}

cluster_up "$C" 3 || { fail "the cluster did not come up"; finish; exit 1; }
rm -rf "$M" && mkdir -p "$M"
job 300 node1:1,node2:1,node3:1 3 "$WORK/ref.h5" >/dev/null 2>"$WORK/ref.err" && ok ||
    fail "uninterrupted run: $(head -c 600 "$WORK/ref.err")"
[ "$(starts)" = $N ] && ok || fail "uninterrupted run started $(starts) commands, not $N"

for mode in kill stop cut; do
    out="$WORK/$mode.h5" err="$WORK/$mode.err"
    rm -rf "$M" && mkdir -p "$M"
    job 300 node1:1,node2:1,node3:1 3 "$out" >/dev/null 2>"$err" &
    jpid=$!
    # Six commands started: three done, node3 running its second.
    w=0
    while [ "$(starts)" -lt 6 ] && [ $w -lt 1200 ] && alive $jpid; do
        sleep 0.1
        w=$((w + 1))
    done
    victims=$(cluster_procs node3)
    t0=$(date +%s)
    case $mode in
    kill) kill -KILL $victims ;;
    stop) FROZEN=$victims && kill -STOP $victims ;;
    cut) cluster_on "$C" node3 ip link set eth0 down ;;
    esac
    # Open MPI ends the job when a host's processes die; a frozen or
    # cut-off host is found by mpibatch's heartbeats: at most 90 s.
    while alive $jpid && ! grep -q "lost rank" "$err" && [ $(($(date +%s) - t0)) -lt 90 ]; do
        sleep 0.2
    done
    took=$(($(date +%s) - t0))
    [ $took -lt 90 ] && ok || fail "$mode: nothing noticed the lost host in $took s"
    if [ $mode = kill ]; then
        wait $jpid
        code=$?
        [ $code != 0 ] && ok || fail "kill: the job exited 0"
        grep -q "node3" "$err" && ok || fail "kill: node3 not named: $(head -c 600 "$err")"
        # Rank 0 (node1) is ended by Open MPI, perhaps before its last
        # word (mpirun may exit first): on its host `mpibatch status` soon
        # does not show the job running.
        w=0
        while cluster_on "$C" node1 "$MPIBATCH" status "$out.st" >"$WORK/kill.status" 2>&1 &&
            grep -q "state running" "$WORK/kill.status" && [ $w -lt 300 ]; do
            sleep 0.1
            w=$((w + 1))
        done
        grep -q "state \(gone\|stopped\)" "$WORK/kill.status" && ok ||
            fail "kill: status: $(head -c 600 "$WORK/kill.status")"
    else
        grep -q "lost rank 2 on host node3 (silent for .*run the same command again" "$err" && ok ||
            fail "$mode: stderr: $(head -c 600 "$err")"
        json_get "$out.st" ending | grep -q "lost rank 2 on host node3" && ok ||
            fail "$mode: status ending: $(json_get "$out.st" ending)"
        [ "$(json_get "$out.st" state)" = stopped ] && ok || fail "$mode: status state"
        [ "$(json_get "$out.json" state)" = stopped ] && ok || fail "$mode: report state"
        # mpirun then waits for node3's daemon to confirm the abort: a frozen
        # host that wakes up does; past a cut link, two SIGTERMs end mpirun
        # (docs/deploy.md).
        if [ $mode = stop ]; then
            kill -CONT $victims
            FROZEN=
            wait $jpid
            code=$?
            [ $code = 75 ] && ok || fail "stop: exit $code, expected 75"
        else
            mp=$(for q in $(cluster_procs head); do
                case $(cat "/proc/$q/comm") in mpirun | mpiexec | orterun) echo "$q" ;; esac
            done)
            kill -TERM $mp
            sleep 1
            kill -TERM $mp 2>/dev/null
            wait $jpid
        fi
    fi
    [ -e "$out.journal" ] && ok || fail "$mode: no journal kept"
    [ -e "$out" ] && fail "$mode: a stopped job left an output" || ok
    # Nothing the job started runs on the hosts that are left.
    w=0
    while [ -n "$(left node1)$(left node2)" ] && [ $w -lt 100 ]; do
        sleep 0.1
        w=$((w + 1))
    done
    [ -z "$(left node1)$(left node2)" ] && ok ||
        fail "$mode: commands left running: $(left node1) $(left node2)"
    before=$(starts)
    # node3 is gone for good: its processes end, the cluster goes on without it.
    kill -KILL $(cluster_procs node3) 2>/dev/null
    job 300 node1:1,node2:1 2 "$out" >/dev/null 2>"$WORK/$mode.again.err" && ok ||
        fail "$mode: the relaunch on node1 and node2: $(head -c 600 "$WORK/$mode.again.err")"
    h5diff --exclude-path /wall_seconds --exclude-path /peak_rss_kib "$WORK/ref.h5" "$out" \
        /results >"$WORK/diff.txt" 2>&1 && ok ||
        fail "$mode: results differ from the uninterrupted run: $(head -c 300 "$WORK/diff.txt")"
    resumed=$(json_get "$out.json" tasks_resumed)
    again=$(($(starts) - before))
    # Every task the journal held was not run again: the relaunch started
    # exactly the others (those in flight when the host was lost included).
    [ $((again + resumed)) = $N ] && [ "$resumed" -ge 3 ] && ok ||
        fail "$mode: the relaunch started $again commands with $resumed resumed, of $N"
    [ -e "$out.journal" ] && fail "$mode: the journal outlived the complete output" || ok
    cluster_down "$C"
    cluster_up "$C" 3 || { fail "the cluster did not come up again"; break; }
done

finish
