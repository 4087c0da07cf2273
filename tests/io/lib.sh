# tests/io/lib.sh - servers and helpers for the URL tests (sourced after
# tests/integration/lib.sh).  Every server binds 127.0.0.1 on a free port
# and is killed when the test exits; every wait is bounded.
SERVER_PIDS=""

stop_servers() {
    for p in $SERVER_PIDS; do kill "$p" 2>/dev/null; done
    for p in $SERVER_PIDS; do wait "$p" 2>/dev/null; done
    SERVER_PIDS=""
}
trap 'stop_servers; rm -rf "$WORK"' EXIT
trap 'exit 1' INT TERM HUP

# wait_for_file FILE SECONDS: until FILE is non-empty; fails after SECONDS.
wait_for_file() {
    i=0
    while [ ! -s "$1" ]; do
        i=$((i + 1))
        [ "$i" -gt $(($2 * 10)) ] && return 1
        sleep 0.1
    done
}

# start_objserver NAME ARGS...: tests/io/objserver.py; its port in $PORT.
start_objserver() {
    pf="$WORK/$1.port"
    shift
    python3 "$top_srcdir/tests/io/objserver.py" --port-file "$pf" "$@" >>"$WORK/server.log" 2>&1 &
    SERVER_PIDS="$SERVER_PIDS $!"
    if ! wait_for_file "$pf" 10; then
        echo "objserver did not start: $(cat "$WORK/server.log")" >&2
        exit 99
    fi
    PORT=$(cat "$pf")
}

# ctl PATH [JSON]: a control request to the objserver on $PORT.
ctl() {
    python3 -c 'import sys, urllib.request as u
d = sys.argv[3].encode() if len(sys.argv) > 3 else None
r = u.urlopen(u.Request("http://127.0.0.1:%s%s" % (sys.argv[1], sys.argv[2]), data=d,
                        method="POST" if d is not None else "GET"), timeout=10)
sys.stdout.write(r.read().decode())' "$PORT" "$@"
}

# fault MODE COUNT [METHOD [DELAY]]: the next COUNT requests fail so.
fault() {
    ctl /_faults "{\"mode\": \"$1\", \"count\": $2${3:+, \"method\": \"$3\"}${4:+, \"delay\": $4}}"
}

# requests METHOD: how many METHOD requests the objserver has answered.
requests() {
    ctl /_stats | python3 -c 'import json, sys
print(json.load(sys.stdin)["requests"].get(sys.argv[1], 0))' "$1"
}

# ranges: the Range headers the objserver has seen, one a line.
ranges() {
    ctl /_stats | python3 -c 'import json, sys
print("\n".join(json.load(sys.stdin)["ranges"]))'
}

# random_file PATH BYTES: incompressible test data.
random_file() {
    head -c "$2" /dev/urandom >"$1"
}

# cp_ok N ARGS...: `mpibatch cp` on N ranks succeeds.
cp_ok() {
    n=$1
    shift
    if mb "$n" cp "$@" >"$WORK/out.txt" 2>"$WORK/err.txt"; then
        ok
    else
        fail "mpibatch cp $*: exit $?: $(head -c 600 "$WORK/err.txt")"
    fi
}

# same A B: the files have the same bytes.
same() {
    if cmp -s "$1" "$2"; then ok; else fail "$1 and $2 differ"; fi
}

# is NAME GOT WANT
is() {
    if [ "$2" = "$3" ]; then ok; else fail "$1: got '$2', expected '$3'"; fi
}

# free_port: a port nothing listens on now (for servers that cannot write
# the port they bound).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for_port PORT SECONDS: until something accepts on 127.0.0.1:PORT.
wait_for_port() {
    python3 -c 'import socket, sys, time
end = time.time() + float(sys.argv[2])
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)' "$1" "$2"
}

# npm_tool PACKAGE@VERSION BIN: the path of BIN from a pinned npm package,
# installed once into a cache under /tmp (outside the build tree, so
# distcheck's distclean finds nothing left behind).  Skips the test (77)
# when npm or the package cannot be had.
npm_tool() {
    dir="${TMPDIR:-/tmp}/mpibatch-npm-$(id -u)/$1"
    if [ ! -x "$dir/node_modules/.bin/$2" ]; then
        if ! command -v npm >/dev/null 2>&1; then
            echo "SKIP: npm is not installed; cannot install $1" >&2
            exit 77
        fi
        mkdir -p "$dir"
        if ! flock "$dir.lock" timeout 45 npm install --prefix "$dir" --no-audit --no-fund \
                --loglevel=error "$1" >"$WORK/npm.log" 2>&1; then
            echo "SKIP: npm install $1 failed: $(tail -3 "$WORK/npm.log")" >&2
            exit 77
        fi
    fi
    echo "$dir/node_modules/.bin/$2"
}

# mb N ARGS...: as in tests/integration/lib.sh, but one rank runs as an MPI
# singleton (no mpirun): mpirun takes seconds to wind down after a failing
# rank, and most checks here expect failures.
mb() {
    n=$1
    shift
    if [ "$n" -eq 1 ]; then
        "$MPIBATCH" "$@"
    else
        "$MPIEXEC" --oversubscribe -n "$n" "$MPIBATCH" "$@"
    fi
}
