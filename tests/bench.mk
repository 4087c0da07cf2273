# tests/bench.mk - the ring command and the benchmark scripts (issue 4).
libmpibatch_a_SOURCES += src/ring.c
pkginclude_HEADERS += include/mpibatch/ring.h

if HAVE_CHECK
UNIT_TESTS += tests/unit/test_ring
check_PROGRAMS += tests/unit/test_ring
tests_unit_test_ring_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ring_LDADD = $(UNIT_LDADD)
endif

INTEGRATION_TESTS += tests/integration/ring.sh tests/integration/ring_errors.sh \
	tests/integration/bench_scripts.sh
