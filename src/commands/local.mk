# src/commands/local.mk - the commands that are not kernels and their registry.
libmpibatch_a_SOURCES += src/commands/commands.h src/commands/registry.c \
	src/commands/train.c src/commands/import.c src/commands/corpus.c \
	src/commands/corpus.h src/commands/ring.c src/commands/ring.h \
	src/commands/status.c src/commands/status.h src/commands/cp.c \
	src/commands/export.c src/commands/logs.c
