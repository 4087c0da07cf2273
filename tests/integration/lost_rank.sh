#!/bin/sh
# A frozen rank (SIGSTOP of one worker's process, a single-host stand-in
# for a frozen or cut-off host), under either schedule: rank 0 notices its
# silence within --heartbeat (plus its one-second check), names the rank
# and host, keeps the journal, writes the report and status document
# ("lost rank 1 on host ..."), leaves no output or temporary file, and the
# job exits 75.  The signal is sent once rank 1 runs a command (the PIDs
# are written), never after a sleep that could race.
. "$top_srcdir/tests/integration/lib.sh"
"$MPIBATCH" --help | grep -q '^  exec ' || { echo "no exec kernel: skipped"; exit 77; }

# frozen SCHEDULE: the frozen-rank case under one schedule (--schedule).
frozen() {
    rm -f "$WORK/pids" "$WORK/f.h5" "$WORK/f.h5.journal" "$WORK/f.json" "$WORK/st.json"
    i=1
    : >"$WORK/cmds.txt"
    while [ $i -le 8 ]; do
        # The command's parent is its rank's helper (mpibatch-spawn), whose
        # parent is the rank.
        echo "echo \$MB_RANK \$PPID \$\$ >>$WORK/pids; sleep 60; echo line-$i" >>"$WORK/cmds.txt"
        i=$((i + 1))
    done
    "$MPIEXEC" --oversubscribe -n 3 "$MPIBATCH" exec --commands "$WORK/cmds.txt" --quiet \
        --out "$WORK/f.h5" --report "$WORK/f.json" --status "$WORK/st.json" --heartbeat 2 \
        --schedule "$1" >"$WORK/out.txt" 2>"$WORK/err.txt" &
    pid=$!
    waited=0
    # Until rank 1 runs a command (another rank's may start first).
    while ! awk '$1 == 1 { f = 1 } END { exit !f }' "$WORK/pids" 2>/dev/null &&
        [ $waited -lt 6000 ]; do
        sleep 0.01
        waited=$((waited + 1))
    done
    helper1=$(awk '$1 == 1 { print $2 }' "$WORK/pids")
    rank1=$(ps -o ppid= -p "$helper1" | tr -d ' ')
    # As on a frozen host: the rank and its helper stop.
    kill -STOP "$rank1" "$helper1"
    wait "$pid"
    code=$?
    # The frozen rank's commands are orphans now (as on a lost host): clean up.
    kill -CONT "$rank1" "$helper1" 2>/dev/null
    for p in $(awk '{ print $3 }' "$WORK/pids"); do kill "$p" 2>/dev/null; done

    [ $code = 75 ] && ok || fail "frozen rank, $1: exit $code, expected 75: $(head -c 600 "$WORK/err.txt")"
    grep -q "lost rank 1 on host .*run the same command again" "$WORK/err.txt" && ok ||
        fail "frozen rank, $1: stderr: $(head -c 600 "$WORK/err.txt")"
    json_get "$WORK/st.json" ending | grep -q "lost rank 1 on host" && ok || fail "$1: status ending"
    [ "$(json_get "$WORK/st.json" state)" = stopped ] && ok || fail "$1: status state"
    [ "$(json_get "$WORK/f.json" state)" = stopped ] && ok || fail "$1: report state"
    [ -e "$WORK/f.h5.journal" ] && ok || fail "$1: no journal kept"
    [ -e "$WORK/f.h5" ] && fail "$1: a stopped job left an output" || ok
    left=$(find "$WORK" -maxdepth 1 -name '*.part')
    [ -z "$left" ] && ok || fail "$1: temporary files left: $left"
}

frozen dynamic
# The static schedule's rank 0 waits in a round's gather: it takes the
# heartbeats there and notices the silence the same way.
frozen static

# A worker busy in a command longer than --heartbeat is alive, not lost:
# it sends its heartbeats from inside the command's wait.
printf 'sleep 5\nsleep 5\nsleep 5\n' >"$WORK/long.txt"
mb 3 exec --commands "$WORK/long.txt" --heartbeat 2 --out "$WORK/long.h5" --quiet \
    2>"$WORK/err.txt" && ok || fail "long commands with --heartbeat 2: $(head -c 600 "$WORK/err.txt")"

# So is a worker inside a long task of a kernel that runs in the rank: the
# sleeper naps in turns and sends its heartbeats between them; euler's
# block sum gives its turns between slices of its terms (1.5e9 terms a
# block: seconds of arithmetic, more on a loaded machine).
mb 3 sleep --tasks 3 --seconds 5 --heartbeat 2 --out "$WORK/sleep.h5" --quiet \
    2>"$WORK/err.txt" && ok || fail "long sleeps with --heartbeat 2: $(head -c 600 "$WORK/err.txt")"
mb 3 euler --terms 4500000000 --blocks 3 --heartbeat 2 --out "$WORK/euler.h5" --quiet \
    2>"$WORK/err.txt" && ok || fail "long euler blocks with --heartbeat 2: $(head -c 600 "$WORK/err.txt")"

# The same under the static schedule: its workers send heartbeats from
# inside their tasks and while they wait in a round's collectives (rank 0
# runs its own share meanwhile), and the job ends normally.
mb 3 exec --commands "$WORK/long.txt" --heartbeat 2 --schedule static --out "$WORK/slong.h5" \
    --quiet 2>"$WORK/err.txt" && ok ||
    fail "static, long commands with --heartbeat 2: $(head -c 600 "$WORK/err.txt")"
mb 3 sleep --tasks 6 --seconds 5 --heartbeat 2 --schedule static --out "$WORK/ssleep.h5" \
    --quiet 2>"$WORK/err.txt" && ok ||
    fail "static, long sleeps with --heartbeat 2: $(head -c 600 "$WORK/err.txt")"
[ -s "$WORK/err.txt" ] && fail "static, long sleeps: stderr: $(head -c 600 "$WORK/err.txt")" || ok

finish
