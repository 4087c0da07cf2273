#!/bin/sh
# own_tmp.sh SUITE: run a unit suite with a TMPDIR of its own, removed
# afterwards.  Suites that start MPI as singletons (test_shm,
# test_schedule, ...) put Open MPI's session directory and shared-memory
# files there, so suites running in parallel never share or remove each
# other's, and one that dies leaves nothing behind.
# Check's own limit of 4 s per test is for a quiet machine: under the
# sanitizers on two loaded cores a suite that writes a few blocks of HDF5
# records (test_docstore) needs more.  A hang is still stopped, at 60 s.
dir=$(mktemp -d "${TMPDIR:-/tmp}/mb-unit.XXXXXX") || exit 99
CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-60} TMPDIR=$dir \
    OMPI_MCA_btl_vader_backing_directory=$dir "$@"
status=$?
rm -rf "$dir"
exit "$status"
