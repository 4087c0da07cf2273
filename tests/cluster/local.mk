# tests/cluster/local.mk - the simulated multi-host cluster (docs/cluster.md):
# its harness, the tests that run on it and the probe they use.
CLUSTER_TESTS = tests/cluster/kernels.sh tests/cluster/slurm.sh tests/cluster/lost_host.sh \
	tests/cluster/slurm_lost.sh
TESTS += $(CLUSTER_TESTS)
check_PROGRAMS += tests/cluster/shm_probe
tests_cluster_shm_probe_SOURCES = tests/cluster/shm_probe.c
EXTRA_DIST += $(CLUSTER_TESTS) tests/cluster/cluster.sh tests/cluster/testlib.sh
