#!/bin/sh
# test.sh [--sanitizers|--fuzz [SECONDS]|--valgrind] - install what is
# missing, build if needed and run every test (Check unit suites and MPI
# integration tests) with make check.
# --sanitizers builds in build-asan/ with AddressSanitizer and
# UndefinedBehaviorSanitizer and runs the same suite there.
set -eu
cd "$(dirname "$0")/.."
builddir=build
mode=${1:-}
# --fuzz [SECONDS] and --valgrind: the hardening runs of docs/hardening.md.
case $mode in
--fuzz) exec sh tests/fuzz/run.sh build-libfuzzer "${2:-60}" ;;
--valgrind) exec sh tests/valgrind/run.sh build-vg ;;
esac
set --
if [ "$mode" = "--sanitizers" ]; then
    builddir=build-asan
    set -- --enable-sanitizers
fi
# Tests read outputs with h5py and pandas and load the status page in a
# browser, and make simulated hosts with ip (each skips, exit 77, where its
# tool is missing).
MB_EXTRA_PKGS="python3-h5py python3-pandas chromium parallel iproute2" \
    sh tools/bootstrap.sh "$builddir" --enable-werror "$@"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Leak checking applies to the unit suites (tests/integration/lib.sh turns
# it off under MPI, where LeakSanitizer races Open MPI's threads at exit).
# Open MPI and HDF5 keep some allocations until exit: suppress only those.
# Open MPI unloads its components at MPI_Finalize, which leaves their leak
# stacks unsymbolised and unsuppressible; keeping them loaded fixes that.
export OMPI_MCA_mca_base_component_disable_dlclose=1
export LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0:fast_unwind_on_malloc=0"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
status=0
make -C "$builddir" -j"$(nproc)" check || status=$?
# The Check summaries and the integration tests' counts, for the log.
for log in "$builddir"/tests/unit/*.log "$builddir"/tests/integration/*.log; do
    [ -f "$log" ] || continue
    printf '%s: ' "${log##*/}"
    grep -hE '^[0-9]+%: Checks:|^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1
done
[ "$status" -eq 0 ] || cat "$builddir"/test-suite.log
exit "$status"
