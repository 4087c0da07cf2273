# src/schedule/local.mk - how chunks reach ranks and results reach rank 0.
libmpibatch_a_SOURCES += src/schedule/schedule.h src/schedule/internal.h \
	src/schedule/feed.c src/schedule/retry.c src/schedule/static.c \
	src/schedule/dynamic.c src/schedule/pool.c src/schedule/watch.c
