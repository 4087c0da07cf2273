/* shm_probe.c - which shared segment each rank maps (tests/cluster/kernels.sh).
 *
 * shm_probe BYTES: every rank maps a node-shared segment of BYTES with
 * mb_shm_alloc, as classify maps its model table; rank 0 fills it,
 * mb_shm_publish copies it to the other hosts.  Rank 0 prints one line per
 * rank: "rank R HOST DEV:INODE filled|wrong", where DEV:INODE names the
 * file behind the rank's mapping in /proc/self/maps, so the test can count
 * the segments each host holds. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shm.h"

#define LINE 512

/* The device and inode of the mapping that holds addr, or "none". */
static void backing(const void *addr, char *out, size_t len)
{
    char line[1024];
    uintptr_t a = (uintptr_t)addr;
    FILE *fp = fopen("/proc/self/maps", "r");
    snprintf(out, len, "none");
    while (fp && fgets(line, sizeof line, fp)) {
        uintptr_t lo, hi;
        char dev[32];
        unsigned long inode;
        if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %*s %*s %31s %lu", &lo, &hi, dev, &inode) == 4 &&
            a >= lo && a < hi) {
            snprintf(out, len, "%s:%lu", dev, inode);
            break;
        }
    }
    if (fp)
        fclose(fp);
}

int main(int argc, char **argv)
{
    int rank, nranks, len, rc = 0;
    size_t bytes = argc > 1 ? strtoull(argv[1], NULL, 10) : 4096;
    char host[MPI_MAX_PROCESSOR_NAME], mine[LINE], where[64], *all = NULL;
    mb_shm shm;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    MPI_Get_processor_name(host, &len);
    if (bytes == 0 || mb_shm_alloc(&shm, bytes, MPI_COMM_WORLD) != MB_OK) {
        fprintf(stderr, "shm_probe: no segment of %zu bytes: %s\n", bytes, mb_error_message());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (rank == 0)
        for (size_t i = 0; i < bytes; i++)
            ((unsigned char *)shm.base)[i] = (unsigned char)(i * 7 + 1);
    if (mb_shm_publish(&shm, MPI_COMM_WORLD) != MB_OK) {
        fprintf(stderr, "shm_probe: publish: %s\n", mb_error_message());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    int filled = 1;
    for (size_t i = 0; i < bytes; i++)
        filled &= ((unsigned char *)shm.base)[i] == (unsigned char)(i * 7 + 1);
    backing(shm.base, where, sizeof where);
    snprintf(mine, sizeof mine, "rank %d %s %s %s", rank, host, where, filled ? "filled" : "wrong");
    if (rank == 0 && !(all = malloc((size_t)nranks * LINE)))
        MPI_Abort(MPI_COMM_WORLD, 1);
    MPI_Gather(mine, LINE, MPI_CHAR, all, LINE, MPI_CHAR, 0, MPI_COMM_WORLD);
    for (int r = 0; rank == 0 && r < nranks; r++) {
        printf("%s\n", all + (size_t)r * LINE);
        rc |= strstr(all + (size_t)r * LINE, " wrong") != NULL;
    }
    free(all);
    mb_shm_free(&shm);
    MPI_Finalize();
    return rc;
}
