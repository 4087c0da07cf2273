# benchmarks/local.mk - the baselines the benchmarks compare against (built,
# never installed) and the benchmark scripts.
noinst_PROGRAMS += benchmarks/euler_plain benchmarks/mpi_hello benchmarks/ring_plain
benchmarks_euler_plain_SOURCES = benchmarks/euler_plain.c
benchmarks_euler_plain_LDADD = -lm
benchmarks_mpi_hello_SOURCES = benchmarks/mpi_hello.c
benchmarks_mpi_hello_LDADD =
benchmarks_ring_plain_SOURCES = benchmarks/ring_plain.c
benchmarks_ring_plain_LDADD =
EXTRA_DIST += benchmarks
