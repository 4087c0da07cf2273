# src/kernels/local.mk - the built-in kernels, their registry and plug-ins.
libmpibatch_a_SOURCES += src/kernels/kernels.h src/kernels/registry.c \
	src/kernels/record.c src/kernels/euler.c src/kernels/euler_sum.c \
	src/kernels/euler_sum.h src/kernels/sleep.c src/kernels/classify.c \
	src/kernels/exec.c src/kernels/exec_lines.c src/kernels/exec_lines.h \
	src/kernels/exec_log.c src/kernels/exec_log.h src/kernels/exec_rerun.c \
	src/kernels/exec_rerun.h \
	src/kernels/plugin.c src/kernels/plugin.h src/kernels/idle.c

# The helper that forks exec's commands (src/kernels/exec_spawn.h says why).
# Plain C without MPI or the sanitizers: a command's peak memory starts from
# the helper's, so it stays small (--as-needed drops mpicc's MPI libraries).
libmpibatch_a_SOURCES += src/kernels/exec_spawn.h
pkglibexec_PROGRAMS = mpibatch-spawn
mpibatch_spawn_SOURCES = src/kernels/exec_spawn.c src/kernels/exec_spawn.h
mpibatch_spawn_CFLAGS = -std=c11 $(WARN_CFLAGS)
mpibatch_spawn_LDFLAGS = -Wl,--as-needed
mpibatch_spawn_LDADD =
AM_CPPFLAGS += -DMB_PKGLIBEXECDIR='"$(pkglibexecdir)"'
