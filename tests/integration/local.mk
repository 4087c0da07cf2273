# tests/integration/local.mk - the real program under mpirun -n 1..4.
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)
AM_TESTS_ENVIRONMENT = \
	MPIBATCH='$(abs_top_builddir)/mpibatch'; export MPIBATCH; \
	MPIEXEC='$(MPIEXEC)'; export MPIEXEC; \
	H5DUMP='$(H5DUMP)'; export H5DUMP; \
	top_srcdir='$(abs_top_srcdir)'; export top_srcdir; \
	top_builddir='$(abs_top_builddir)'; export top_builddir; \
	MPIBATCH_SPAWN='$(abs_top_builddir)/mpibatch-spawn'; export MPIBATCH_SPAWN; \
	OMPI_ALLOW_RUN_AS_ROOT=1; export OMPI_ALLOW_RUN_AS_ROOT; \
	OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM; \
	OMPI_MCA_rmaps_base_oversubscribe=1; export OMPI_MCA_rmaps_base_oversubscribe;

INTEGRATION_TESTS = \
	tests/integration/cli.sh tests/integration/docs_agree.sh \
	tests/integration/euler_ranks.sh tests/integration/sleep.sh \
	tests/integration/bad_input.sh tests/integration/bad_inputs.sh \
	tests/integration/classify.sh tests/integration/levels.sh tests/integration/input.sh \
	tests/integration/arxiv_accuracy.sh \
	tests/integration/exec.sh tests/integration/exec_templates.sh tests/integration/exec_slots.sh \
	tests/integration/logs.sh tests/integration/rerun.sh \
	tests/integration/plugin.sh tests/integration/plugin_installed.sh \
	tests/integration/resume.sh tests/integration/retries.sh tests/integration/drain.sh \
	tests/integration/deadline.sh tests/integration/lost_rank.sh \
	tests/integration/speculate.sh tests/integration/status.sh tests/integration/status_page.sh \
	tests/integration/export.sh tests/integration/python_read.sh \
	tests/integration/ring.sh tests/integration/ring_errors.sh \
	tests/integration/bench_scripts.sh
TESTS += $(INTEGRATION_TESTS)

# A plug-in built for another ABI version, which mpibatch must refuse.
tests/integration/libmbbadabi.so: $(srcdir)/tests/integration/plugin_bad_abi.c \
		$(pkginclude_HEADERS)
	@$(MKDIR_P) tests/integration
	$(PLUGIN_BUILD) -o $@ $(srcdir)/tests/integration/plugin_bad_abi.c
check_DATA += tests/integration/libmbbadabi.so
CLEANFILES += tests/integration/libmbbadabi.so
# status_page.sh keeps its screenshot where make check runs.
CLEANFILES += status-page.png
EXTRA_DIST += $(INTEGRATION_TESTS) tests/integration/lib.sh \
	tests/integration/plugin_bad_abi.c
