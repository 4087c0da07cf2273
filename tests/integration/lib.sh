# lib.sh - helpers for the integration tests (sourced; POSIX sh).
# The test harness exports MPIBATCH, MPIEXEC, H5DUMP and top_srcdir.
set -u
: "${MPIBATCH:?run through make check}" "${MPIEXEC:=mpirun}" "${H5DUMP:=h5dump}"

# Under the sanitizer build, processes started through MPI run without
# LeakSanitizer: its stop-the-world at exit races Open MPI's threads and
# dies with "fatal error" at random.  AddressSanitizer's memory checks and
# UBSan stay on; the Check unit suites keep leak checking.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mpibatch-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# Each test gets an Open MPI session directory (under TMPDIR) and shared
# memory backing files of its own, inside WORK: tests run in parallel, and
# one test's clean-up must never remove another's session directory, nor a
# test that aborts on purpose leave segments in /dev/shm.
mkdir "$WORK/tmp"
export TMPDIR="$WORK/tmp"
export OMPI_MCA_btl_vader_backing_directory="$WORK/tmp"
failures=0
checks=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

ok() {
    checks=$((checks + 1))
}

# mb N ARGS...: run mpibatch on N ranks (more ranks than cores allowed).
# MB_WRAPPER (unquoted, may be empty) runs each rank under a tool:
# tests/valgrind/run.sh sets it to valgrind.
mb() {
    n=$1
    shift
    "$MPIEXEC" --oversubscribe -n "$n" ${MB_WRAPPER:-} "$MPIBATCH" "$@"
}

# alive PID: the process exists and is not a zombie.  Where nothing reaps
# orphans (a container whose init does not wait), a killed process can stay
# a zombie, which kill -0 still reports; it runs nothing and holds nothing.
alive() {
    [ -r "/proc/$1/stat" ] || return 1
    state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# expect_exit CODE PATTERN N ARGS...: the run exits CODE and its standard
# error matches the grep pattern PATTERN.
expect_exit() {
    code=$1 pattern=$2
    shift 2
    mb "$@" >"$WORK/out.txt" 2>"$WORK/err.txt"
    got=$?
    if [ "$got" -ne "$code" ]; then
        fail "mpibatch $*: exit $got, expected $code; stderr: $(head -c 400 "$WORK/err.txt")"
    elif ! grep -q -- "$pattern" "$WORK/err.txt"; then
        fail "mpibatch $*: stderr lacks '$pattern': $(head -c 400 "$WORK/err.txt")"
    else
        ok
    fi
}

# no_outputs DIR: nothing mpibatch writes (final or temporary) is left in DIR.
no_outputs() {
    left=$(find "$1" -name '*.h5' -o -name '*.part' -o -name '*.json' | head -5)
    if [ -n "$left" ]; then fail "files left behind: $left"; else ok; fi
}

# results FILE: the /results group as text, for comparisons.
results() {
    "$H5DUMP" -g /results "$1" | sed 1d
}

# json_get FILE KEY: a top-level number or string of a report.
json_get() {
    python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v=v[int(k)] if isinstance(v,list) else v[k]
print(repr(v) if isinstance(v,float) else v)' "$1" "$2"
}

finish() {
    echo "$checks passed, $failures failed"
    [ "$failures" -eq 0 ]
}
