/* fuzz.h - what every fuzz target shares.
 *
 * Each target defines LLVMFuzzerTestOneInput (and may define
 * LLVMFuzzerInitialize).  `make fuzz` links them with libFuzzer; the
 * replay_* programs of `make check` link the same file with replay.c, which
 * feeds it the seed corpus and every saved crash (tests/fuzz/regress/).
 * A target returns 0 for every input; a broken invariant is abort(),
 * which both drivers report as a crash.
 */
#ifndef MPIBATCH_FUZZ_H
#define MPIBATCH_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A NUL-terminated malloc'd copy of data (abort when out of memory). */
char *fuzz_text(const uint8_t *data, size_t size);

/* Put data in an anonymous in-memory file and write a path that opens it
 * ("/proc/self/fd/N") into path; returns the descriptor to close after
 * use, so no input ever lands on disk. */
int fuzz_memfile(const void *data, size_t size, char *path, size_t cap);

/* abort() with a message when cond is false: the invariant checks. */
void fuzz_check(int cond, const char *what);

#endif
