# tests/deploy.mk - Slurm, CfnCluster/ParallelCluster and Azure Batch recipes and their tests (issue 7).
