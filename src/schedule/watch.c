/* watch.c - watching the ranks, for both schedules: workers send rank 0 a
 * heartbeat every heartbeat/3 s, and rank 0 takes a worker silent for
 * longer than --heartbeat (no result, no heartbeat) as lost. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include "schedule/internal.h"

/* A worker's side: when its next heartbeat is due, how many it sent, and
 * whether they stopped (the static schedule's end counted them). */
static struct {
    double next;
    uint64_t sent;
    int off;
} beat;

mb_err mb_watch_init(mb_watch *w, mb_run *r)
{
    size_t p = (size_t)r->size;
    double now;
    w->r = r;
    w->seen = NULL;
    w->off = NULL;
    w->heard = NULL;
    w->next_check = 0;
    r->lost = -1;
    beat.next = 0;
    beat.sent = 0;
    beat.off = 0;
    if (r->rank != 0)
        return MB_OK;
    w->seen = malloc(p * sizeof *w->seen);
    w->off = calloc(p, sizeof *w->off);
    w->heard = calloc(p, sizeof *w->heard);
    if (!w->seen || !w->off || !w->heard)
        return mb_error_set(MB_ERR_NOMEM, "out of memory for watching the ranks");
    now = mb_clock_now();
    for (size_t k = 0; k < p; k++)
        w->seen[k] = now;
    return MB_OK;
}

void mb_watch_free(mb_watch *w)
{
    free(w->seen);
    free(w->off);
    free(w->heard);
    w->seen = NULL;
    w->off = NULL;
    w->heard = NULL;
}

void mb_watch_heard(mb_watch *w, int rank, double now)
{
    w->seen[rank] = now;
}

void mb_watch_off(mb_watch *w, int rank)
{
    w->off[rank] = 1;
}

mb_err mb_watch_check(mb_watch *w, double now)
{
    mb_run *r = w->r;
    if (r->heartbeat <= 0 || now < w->next_check)
        return MB_OK;
    w->next_check = now + 1;
    for (int k = 1; k < r->size; k++)
        if (!w->off[k] && now - w->seen[k] > r->heartbeat) {
            r->lost = k;
            snprintf(r->ending, sizeof r->ending, "lost rank %d on host %s (silent for %.0f s, "
                     "--heartbeat %g)", k, r->hosts ? r->hosts[k] : "?", now - w->seen[k],
                     r->heartbeat);
            return mb_error_set(MB_ERR_STOPPED, "%s", r->ending);
        }
    return MB_OK;
}

void mb_heartbeat(const mb_run *r, double now)
{
    if (r->heartbeat <= 0 || now < beat.next || beat.off || r->rank == 0)
        return;
    beat.next = now + r->heartbeat / 3;
    if (MPI_Send(NULL, 0, MPI_BYTE, 0, MB_TAG_ALIVE, r->comm) == MPI_SUCCESS)
        beat.sent++;
}

/* Rank 0: receive every heartbeat that has arrived. */
static mb_err drain(mb_watch *w)
{
    MPI_Status st;
    int flag = 1;
    mb_err rc = MB_OK;
    while (rc == MB_OK && flag) {
        rc = mb_mpi_check(MPI_Iprobe(MPI_ANY_SOURCE, MB_TAG_ALIVE, w->r->comm, &flag, &st),
                          "MPI_Iprobe");
        if (rc == MB_OK && flag)
            rc = mb_mpi_check(MPI_Recv(NULL, 0, MPI_BYTE, st.MPI_SOURCE, MB_TAG_ALIVE,
                                       w->r->comm, MPI_STATUS_IGNORE), "MPI_Recv");
        if (rc == MB_OK && flag) {
            w->heard[st.MPI_SOURCE]++;
            mb_watch_heard(w, st.MPI_SOURCE, mb_clock_now());
        }
    }
    return rc;
}

mb_err mb_watch_poll(mb_watch *w)
{
    /* The heartbeats queued while rank 0 was busy count first. */
    mb_err rc = drain(w);
    return rc == MB_OK ? mb_watch_check(w, mb_clock_now()) : rc;
}

mb_err mb_watch_wait(mb_watch *w, MPI_Request *req, const char *what)
{
    const mb_run *r = w->r;
    int done = 0;
    double start;
    mb_err rc = MB_OK;
    if (r->heartbeat <= 0 || r->size == 1)
        return mb_mpi_check(MPI_Wait(req, MPI_STATUS_IGNORE), what);
    /* Rank 0 may come late, from its own long task or from writing the
     * results: a rank's silence counts from now at the earliest. */
    start = mb_clock_now();
    for (int k = 0; r->rank == 0 && k < r->size; k++)
        if (w->seen[k] < start)
            w->seen[k] = start;
    while (rc == MB_OK && !done) {
        rc = mb_mpi_check(MPI_Test(req, &done, MPI_STATUS_IGNORE), what);
        if (rc != MB_OK || done)
            break;
        if (r->rank != 0) {
            mb_heartbeat(r, mb_clock_now());
            continue;
        }
        rc = mb_watch_poll(w);
    }
    return rc;
}

mb_err mb_watch_end(mb_watch *w)
{
    const mb_run *r = w->r;
    uint64_t *sent = NULL;
    MPI_Request req;
    mb_err rc = MB_OK;
    if (r->heartbeat <= 0 || r->size == 1)
        return MB_OK;
    beat.off = 1;
    if (r->rank == 0 && !(sent = malloc((size_t)r->size * sizeof *sent)))
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory for watching the ranks");
    /* A worker's count is final: it sends no more heartbeats. */
    if (rc == MB_OK)
        rc = mb_mpi_check(MPI_Igather(&beat.sent, 1, MPI_UINT64_T, sent, 1, MPI_UINT64_T, 0,
                                      r->comm, &req), "MPI_Igather");
    if (rc == MB_OK)
        rc = mb_watch_wait(w, &req, "MPI_Igather");
    /* Those still on their way were sent: they arrive. */
    for (int k = 1; rc == MB_OK && r->rank == 0 && k < r->size; k++)
        for (; rc == MB_OK && w->heard[k] < sent[k]; w->heard[k]++)
            rc = mb_mpi_check(MPI_Recv(NULL, 0, MPI_BYTE, k, MB_TAG_ALIVE, r->comm,
                                       MPI_STATUS_IGNORE), "MPI_Recv");
    free(sent);
    return rc;
}
