# tests/local.mk - Check unit suites (one per module) and MPI integration tests.

TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)
AM_TESTS_ENVIRONMENT = \
	MPIBATCH='$(abs_top_builddir)/mpibatch'; export MPIBATCH; \
	MPIEXEC='$(MPIEXEC)'; export MPIEXEC; \
	H5DUMP='$(H5DUMP)'; export H5DUMP; \
	top_srcdir='$(abs_top_srcdir)'; export top_srcdir; \
	OMPI_ALLOW_RUN_AS_ROOT=1; export OMPI_ALLOW_RUN_AS_ROOT; \
	OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM; \
	OMPI_MCA_rmaps_base_oversubscribe=1; export OMPI_MCA_rmaps_base_oversubscribe;

INTEGRATION_TESTS = \
	tests/integration/cli.sh \
	tests/integration/euler_ranks.sh \
	tests/integration/sleep.sh \
	tests/integration/bad_input.sh \
	tests/integration/docs_agree.sh \
	tests/integration/classify.sh \
	tests/integration/arxiv_accuracy.sh

# Each fragment adds its own suites to both UNIT_TESTS and check_PROGRAMS.
UNIT_TESTS =
check_PROGRAMS =
if HAVE_CHECK
CORE_UNIT_TESTS = tests/unit/test_options tests/unit/test_chunk tests/unit/test_euler \
	tests/unit/test_output tests/unit/test_collector tests/unit/test_wire \
	tests/unit/test_source tests/unit/test_shm tests/unit/test_docstore \
	tests/unit/test_h5util tests/unit/test_report tests/unit/test_status tests/unit/test_corpus tests/unit/test_import tests/unit/test_schedule
UNIT_TESTS += $(CORE_UNIT_TESTS)
check_PROGRAMS += $(CORE_UNIT_TESTS)
UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
UNIT_LDADD = $(MB_LIBS) $(CHECK_LIBS)
tests_unit_test_options_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_options_LDADD = $(UNIT_LDADD)
tests_unit_test_chunk_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_chunk_LDADD = $(UNIT_LDADD)
tests_unit_test_euler_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_euler_LDADD = $(UNIT_LDADD)
tests_unit_test_output_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_output_LDADD = $(UNIT_LDADD)
tests_unit_test_collector_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_collector_LDADD = $(UNIT_LDADD)
tests_unit_test_wire_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_wire_LDADD = $(UNIT_LDADD)
tests_unit_test_source_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_source_LDADD = $(UNIT_LDADD)
tests_unit_test_shm_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_shm_LDADD = $(UNIT_LDADD)
tests_unit_test_docstore_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_docstore_LDADD = $(UNIT_LDADD)
tests_unit_test_h5util_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_h5util_LDADD = $(UNIT_LDADD)
tests_unit_test_report_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_report_LDADD = $(UNIT_LDADD)
tests_unit_test_status_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_status_LDADD = $(UNIT_LDADD)
tests_unit_test_corpus_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_corpus_LDADD = $(UNIT_LDADD)
tests_unit_test_import_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_import_LDADD = $(UNIT_LDADD)
tests_unit_test_schedule_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_schedule_LDADD = $(UNIT_LDADD)
endif

TESTS = $(UNIT_TESTS) $(INTEGRATION_TESTS)
EXTRA_DIST = $(INTEGRATION_TESTS) tests/integration/lib.sh tests/unit/unit.h tests/unit/unit_mpi.h tests/unit/unit_dir.h
