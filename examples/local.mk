# examples/local.mk - the example plug-in kernel, built as a shared object by
# a plain rule (no libtool) against the ABI headers; make check builds it.
PLUGIN_BUILD = $(CC) -shared -fPIC -I$(srcdir)/include $(CJSON_CFLAGS) $(WARN_CFLAGS) \
	$(SAN_CFLAGS) $(CFLAGS)
examples/libmbexample.so: $(srcdir)/examples/example_kernel.c $(pkginclude_HEADERS)
	@$(MKDIR_P) examples
	$(PLUGIN_BUILD) -o $@ $(srcdir)/examples/example_kernel.c
check_DATA += examples/libmbexample.so
CLEANFILES += examples/libmbexample.so
EXTRA_DIST += examples/example_kernel.c examples/Makefile examples/README.md
