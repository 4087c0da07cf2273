# tests/bench.mk - the ring command and the benchmark scripts (issue 4).
