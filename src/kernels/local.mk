# src/kernels/local.mk - the built-in kernels, their registry and plug-ins.
libmpibatch_a_SOURCES += src/kernels/kernels.h src/kernels/registry.c \
	src/kernels/record.c src/kernels/euler.c src/kernels/euler_sum.c \
	src/kernels/euler_sum.h src/kernels/sleep.c src/kernels/classify.c \
	src/kernels/exec.c src/kernels/exec_lines.c src/kernels/exec_lines.h \
	src/kernels/plugin.c src/kernels/plugin.h
