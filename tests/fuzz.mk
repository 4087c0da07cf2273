# tests/fuzz.mk - fuzz targets (make fuzz), the bad-input suite, valgrind runs.
