# src/ml/local.mk - the classifier's machine-learning core and its unit suites.
libmpibatch_a_SOURCES += src/ml/tokenize.c src/ml/model.c src/ml/jsonl.c \
	src/ml/model_io.c
pkginclude_HEADERS += include/mpibatch/tokenize.h include/mpibatch/model.h \
	include/mpibatch/jsonl.h include/mpibatch/model_io.h

if HAVE_CHECK
UNIT_TESTS += tests/unit/test_tokenize tests/unit/test_model \
	tests/unit/test_jsonl tests/unit/test_model_io
check_PROGRAMS += tests/unit/test_tokenize tests/unit/test_model \
	tests/unit/test_jsonl tests/unit/test_model_io
tests_unit_test_tokenize_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_tokenize_LDADD = $(UNIT_LDADD)
tests_unit_test_model_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_model_LDADD = $(UNIT_LDADD)
tests_unit_test_jsonl_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_jsonl_LDADD = $(UNIT_LDADD)
tests_unit_test_model_io_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_model_io_LDADD = $(UNIT_LDADD)
endif

INTEGRATION_TESTS += tests/integration/levels.sh
