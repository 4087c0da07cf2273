# tests/unit/local.mk - one Check suite per module, named after it.
if HAVE_CHECK
UNIT_TESTS = \
	tests/unit/test_optparse tests/unit/test_source_lines tests/unit/test_docstore \
	tests/unit/test_wire tests/unit/test_shm tests/unit/test_collector \
	tests/unit/test_output tests/unit/test_h5util tests/unit/test_journal \
	tests/unit/test_report tests/unit/test_progress tests/unit/test_atomic \
	tests/unit/test_url tests/unit/test_retry tests/unit/test_sign \
	tests/unit/test_tokenize tests/unit/test_model tests/unit/test_jsonl \
	tests/unit/test_model_io \
	tests/unit/test_schedule tests/unit/test_pool \
	tests/unit/test_euler_sum tests/unit/test_exec_lines \
	tests/unit/test_status tests/unit/test_corpus tests/unit/test_import \
	tests/unit/test_ring \
	tests/unit/test_train tests/unit/test_classify tests/unit/test_stage \
	tests/unit/test_plugin \
	tests/unit/test_request tests/unit/test_transfer tests/unit/test_upload \
	tests/unit/test_exec tests/unit/test_exec_log
check_PROGRAMS += $(UNIT_TESTS)
# Each suite runs with a TMPDIR of its own (own_tmp.sh says why).
LOG_COMPILER = $(SHELL) $(top_srcdir)/tests/unit/own_tmp.sh
TESTS += $(UNIT_TESTS)
# test_plugin loads kernel libraries that call mpibatch's functions, as the
# program does (Makefile.am): it exports its symbols.
tests_unit_test_plugin_LDFLAGS = $(AM_LDFLAGS) -Wl,--export-dynamic
check_DATA += tests/unit/libmbincomplete.so
# The I/O suites start tests/io/objserver.py (unit_objserver.h); they find
# it through top_srcdir in the environment of make check, else here.
UNIT_OBJSERVER_CPPFLAGS = $(AM_CPPFLAGS) -DMB_TEST_SRCDIR='"$(abs_top_srcdir)"'
tests_unit_test_request_CPPFLAGS = $(UNIT_OBJSERVER_CPPFLAGS)
tests_unit_test_transfer_CPPFLAGS = $(UNIT_OBJSERVER_CPPFLAGS)
tests_unit_test_upload_CPPFLAGS = $(UNIT_OBJSERVER_CPPFLAGS)
endif

# A kernel library of the right ABI version with broken kernels (test_plugin).
tests/unit/libmbincomplete.so: $(srcdir)/tests/unit/plugin_incomplete.c $(pkginclude_HEADERS)
	@$(MKDIR_P) tests/unit
	$(PLUGIN_BUILD) -o $@ $(srcdir)/tests/unit/plugin_incomplete.c
CLEANFILES += tests/unit/libmbincomplete.so
EXTRA_DIST += tests/unit/own_tmp.sh tests/unit/unit.h tests/unit/unit_mpi.h tests/unit/unit_dir.h \
	tests/unit/unit_objserver.h tests/unit/plugin_incomplete.c tests/lsan.supp
