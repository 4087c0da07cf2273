# src/local.mk - the core of the data path: options and job, the lines and
# document-store sources, wire messages, the collector and what it writes
# (output, journal, report, progress), MPI helpers and the driver.
libmpibatch_a_SOURCES += \
	src/error.c src/optparse.c src/optparse.h src/job.c src/clock.c src/cli.c src/cli.h \
	src/driver.c src/driver.h src/comm.c src/comm.h src/shm.c src/shm.h \
	src/batch.c src/wire.c src/wire.h src/row.h \
	src/source_lines.c src/source_lines.h src/docstore.c src/docstore.h \
	src/stage.c src/stage.h src/atomic.c src/atomic.h src/collector.c src/collector.h \
	src/output.c src/output.h src/h5util.c src/h5util.h \
	src/journal.c src/journal.h src/report.c src/report.h \
	src/progress.c src/progress.h src/stop.c src/stop.h
