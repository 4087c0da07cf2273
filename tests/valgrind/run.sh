#!/bin/sh
# run.sh [BUILDDIR] - the MPI integration tests once more, every rank under
# valgrind's memcheck (default build directory: build-vg, an ordinary build
# without sanitizers, which valgrind cannot run under).  Any memcheck
# report makes the rank exit 99, which fails the test that ran it.
# Suppressions: Open MPI's own file plus tests/valgrind/mpibatch.supp,
# every entry explained in docs/hardening.md.
set -eu
cd "$(dirname "$0")/../.."
builddir=${1:-build-vg}
if ! command -v valgrind >/dev/null && [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q valgrind >/dev/null
fi
sh tools/bootstrap.sh "$builddir" --enable-werror >/dev/null
ompi_supp=$(ls /usr/share/openmpi/openmpi-valgrind.supp 2>/dev/null || true)
[ -n "$ompi_supp" ] || { echo "valgrind: Open MPI's suppression file is missing" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind: not installed (apt-get install valgrind)" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Leaks are left to LeakSanitizer on the unit suites: at exit Open MPI,
# HDF5 and libcurl keep global allocations that memcheck would count.
MB_WRAPPER="valgrind --tool=memcheck --error-exitcode=99 --leak-check=no --track-origins=yes \
--num-callers=30 --suppressions=$ompi_supp --suppressions=$(pwd)/tests/valgrind/mpibatch.supp \
--log-file=$(pwd)/$builddir/valgrind-%p.log"
export MB_WRAPPER
rm -f "$builddir"/valgrind-*.log
# The MPI paths at small sizes (tests/valgrind/paths.sh) and the set-up
# errors of bad_input.sh; the other integration tests run the same code on
# more data and would take 20-50 times longer under valgrind.
tests="tests/valgrind/paths.sh tests/integration/bad_input.sh"
status=0
make -C "$builddir" check TESTS="$(echo $tests)" >"$builddir/vg-check.log" 2>&1 || status=$?
# Ranks that reported errors: their logs, for the CI output.
for log in "$builddir"/valgrind-*.log; do
    [ -f "$log" ] || continue
    if grep -q 'ERROR SUMMARY: [1-9]' "$log"; then
        status=1
        echo "== $log" >&2
        head -80 "$log" >&2
    fi
done
grep -E '^(PASS|FAIL|ERROR|SKIP):' "$builddir/vg-check.log" || true
[ "$status" -eq 0 ] || { cat "$builddir/test-suite.log" 2>/dev/null | tail -60 >&2; }
echo "valgrind: $(ls "$builddir"/valgrind-*.log 2>/dev/null | wc -l) rank logs, status $status"
exit "$status"
