# src/resilience.mk - journal and resume, task retries, failure limits, speculation.
libmpibatch_a_SOURCES += src/journal.c
pkginclude_HEADERS += include/mpibatch/journal.h

if HAVE_CHECK
UNIT_TESTS += tests/unit/test_journal
check_PROGRAMS += tests/unit/test_journal
tests_unit_test_journal_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_journal_LDADD = $(UNIT_LDADD)
endif

INTEGRATION_TESTS += tests/integration/resume.sh tests/integration/retries.sh \
	tests/integration/speculate.sh
EXTRA_DIST += tests/integration/resume.sh tests/integration/retries.sh \
	tests/integration/speculate.sh
