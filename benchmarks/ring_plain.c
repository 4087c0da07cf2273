/* ring_plain.c - the textbook MPI ring, nothing else: the baseline that
 * benchmarks/cluster sets beside `mpibatch ring` (docs/benchmarks.md).
 *
 * ring_plain BYTES ITERATIONS REPEATS: rank 0 sends BYTES to rank 1, each
 * rank passes it on, the last rank back to 0; ITERATIONS laps per repeat
 * after ITERATIONS/10 untimed ones.  Rank 0 prints "BYTES MEDIAN MIN MAX":
 * microseconds per hop over the repeats. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void laps(char *buf, int bytes, long n, int rank, int size)
{
    int next = (rank + 1) % size, prev = (rank + size - 1) % size;
    for (long i = 0; i < n; i++) {
        if (rank == 0) {
            MPI_Send(buf, bytes, MPI_CHAR, next, 0, MPI_COMM_WORLD);
            MPI_Recv(buf, bytes, MPI_CHAR, prev, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else {
            MPI_Recv(buf, bytes, MPI_CHAR, prev, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Send(buf, bytes, MPI_CHAR, next, 0, MPI_COMM_WORLD);
        }
    }
}

int main(int argc, char **argv)
{
    int rank, size;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int bytes = argc > 1 ? atoi(argv[1]) : 8;
    long iters = argc > 2 ? atol(argv[2]) : 10000;
    int repeats = argc > 3 ? atoi(argv[3]) : 5;
    char *buf = calloc(bytes > 0 ? (size_t)bytes : 1, 1);
    double *hop = calloc(repeats > 0 ? (size_t)repeats : 1, sizeof *hop);
    if (size < 2 || bytes < 0 || iters < 1 || repeats < 1 || !buf || !hop) {
        if (rank == 0)
            fprintf(stderr, "usage: mpirun -n N ring_plain BYTES ITERATIONS REPEATS (N >= 2)\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    laps(buf, bytes, iters / 10 + 1, rank, size);
    for (int r = 0; r < repeats; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t = MPI_Wtime();
        laps(buf, bytes, iters, rank, size);
        hop[r] = (MPI_Wtime() - t) * 1e6 / ((double)iters * size);
    }
    if (rank == 0) {
        qsort(hop, (size_t)repeats, sizeof *hop, cmp);
        printf("%d %.3f %.3f %.3f\n", bytes, hop[repeats / 2], hop[0], hop[repeats - 1]);
    }
    free(hop);
    free(buf);
    MPI_Finalize();
    return 0;
}
