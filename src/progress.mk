# src/progress.mk - the progress line, the status document and `mpibatch status`.
libmpibatch_a_SOURCES += src/progress.c src/status.c
pkginclude_HEADERS += include/mpibatch/progress.h include/mpibatch/status.h

if HAVE_CHECK
UNIT_TESTS += tests/unit/test_progress
check_PROGRAMS += tests/unit/test_progress
tests_unit_test_progress_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_progress_LDADD = $(UNIT_LDADD)
endif

INTEGRATION_TESTS += tests/integration/status.sh
EXTRA_DIST += tests/integration/status.sh
