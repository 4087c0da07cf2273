# src/progress.mk - the progress line, the status document and `mpibatch status`.
