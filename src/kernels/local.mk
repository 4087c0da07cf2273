# src/kernels/local.mk - the exec kernel, plug-in kernels and their tests.
libmpibatch_a_SOURCES += src/commands.c src/kernels/exec.c
pkginclude_HEADERS += include/mpibatch/commands.h

if HAVE_CHECK
UNIT_TESTS += tests/unit/test_commands
check_PROGRAMS += tests/unit/test_commands
tests_unit_test_commands_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_commands_LDADD = $(UNIT_LDADD)
endif

INTEGRATION_TESTS += tests/integration/exec.sh
EXTRA_DIST += tests/integration/exec.sh

# Plug-in kernels: the program exports its symbols, so a library loaded with
# dlopen calls mpibatch's own functions (mb_error_set, mb_job_int ...).
libmpibatch_a_SOURCES += src/plugin.c
pkginclude_HEADERS += include/mpibatch/plugin.h
mpibatch_LDFLAGS = $(AM_LDFLAGS) -Wl,--export-dynamic

# The example plug-in, and one built for another ABI version, as shared
# objects made by a plain rule (no libtool); make check builds them first.
PLUGIN_BUILD = $(CC) -shared -fPIC -I$(srcdir)/include $(CJSON_CFLAGS) $(WARN_CFLAGS) \
	$(SAN_CFLAGS) $(CFLAGS)
examples/libmbexample.so: $(srcdir)/examples/example_kernel.c $(srcdir)/include/mpibatch/kernel.h
	@$(MKDIR_P) examples
	$(PLUGIN_BUILD) -o $@ $(srcdir)/examples/example_kernel.c
tests/integration/libmbbadabi.so: $(srcdir)/tests/integration/plugin_bad_abi.c \
		$(srcdir)/include/mpibatch/kernel.h
	@$(MKDIR_P) tests/integration
	$(PLUGIN_BUILD) -o $@ $(srcdir)/tests/integration/plugin_bad_abi.c
check_DATA = examples/libmbexample.so tests/integration/libmbbadabi.so
CLEANFILES = $(check_DATA)

INTEGRATION_TESTS += tests/integration/plugin.sh
EXTRA_DIST += tests/integration/plugin.sh tests/integration/plugin_bad_abi.c \
	examples/example_kernel.c examples/Makefile examples/README.md
