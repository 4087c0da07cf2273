# src/kernels/local.mk - the exec kernel, plug-in kernels and their tests.
