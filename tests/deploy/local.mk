# tests/deploy/local.mk - Slurm, CfnCluster/ParallelCluster and Azure Batch
# recipes and their tests.
DEPLOY_TESTS = tests/deploy/slurm.sh tests/deploy/requeue.sh tests/deploy/azure.sh tests/deploy/cfncluster.sh
TESTS += $(DEPLOY_TESTS)
# The tests' helpers, by name: a build directory's tests/deploy/ holds the
# tests' logs, which `make dist` would pick up with the whole folder.
EXTRA_DIST += azure $(DEPLOY_TESTS) tests/deploy/slurmlib.sh tests/deploy/batch.py \
	tests/deploy/batch-schema.json tests/deploy/clusters.py
