#!/bin/sh
# run.sh BUILDDIR [SECONDS] - build the libFuzzer targets in BUILDDIR (a
# clang build of its own, configured here once) and, with SECONDS, run each
# target that long from its seed corpus (tests/fuzz/corpus/NAME), two at a
# time.  Any crash, leak or sanitizer report fails the run; the input that
# caused it is left as BUILDDIR/crash-NAME-* (copy it into
# tests/fuzz/regress/NAME/ once fixed, so make check replays it).
set -eu
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
builddir=${1:?usage: run.sh BUILDDIR [SECONDS]}
seconds=${2:-0}
names="job cli jsonl tokenize url response lines model docstore exec_lines"

# clang and its libFuzzer runtime (Debian 12: clang 14), installed as root.
for p in clang libclang-rt-14-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" && continue
    [ "$(id -u)" -eq 0 ] || { echo "fuzz: install $p first" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q "$p" >/dev/null
done

# The Open MPI wrapper with clang underneath: same MPI, HDF5 and cJSON flags.
export OMPI_CC=clang
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
mkdir -p "$builddir"
cd "$builddir"
if [ ! -f Makefile ]; then
    [ -x "$srcdir/configure" ] || (cd "$srcdir" && autoreconf -fi)
    "$srcdir/configure" CC=mpicc CFLAGS="-g -O1 -fsanitize=fuzzer-no-link $san" \
        LDFLAGS="$san" >configure.log 2>&1 || { tail -30 configure.log; exit 1; }
fi
make -j"$(nproc)" fuzz-targets FUZZER_LINK=-fsanitize=fuzzer >make.log 2>&1 ||
    { tail -40 make.log; exit 1; }
echo "fuzz: built $(echo $names | wc -w) targets in $builddir/tests/fuzz"
[ "$seconds" -gt 0 ] || exit 0

# HDF5 keeps its global state until exit; LeakSanitizer must not count it.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
run_one() {
    name=$1
    # A scratch copy of the seeds: new inputs found stay out of the source tree.
    rm -rf "corpus-$name"
    cp -r "$srcdir/tests/fuzz/corpus/$name" "corpus-$name"
    if "tests/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="crash-$name-" \
        "corpus-$name" >"fuzz-$name.log" 2>&1; then
        echo "fuzz $name: $(grep -E '^stat::number_of_executed_units' "fuzz-$name.log" |
            awk '{print $2}') runs, no crash"
    else
        echo "fuzz $name: FAILED" >&2
        tail -60 "fuzz-$name.log" >&2
        return 1
    fi
}
status=0
set -- $names
# Two at a time: the CI machine has two cores.
while [ $# -gt 0 ]; do
    run_one "$1" & a=$!
    b=
    if [ $# -gt 1 ]; then run_one "$2" & b=$!; fi
    wait "$a" || status=1
    [ -z "$b" ] || wait "$b" || status=1
    shift; [ $# -gt 0 ] && shift
done
exit "$status"
