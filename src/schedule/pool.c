/* pool.c - the chunks a rank holds and their tasks in flight.
 *
 * Every schedule runs its rank's tasks through a pool: chunks go in with a
 * number of the caller's, their tasks start in order, up to the kernel's
 * slots at once (kernel start/wait; one at a time through run() for a
 * kernel without them), and a chunk whose tasks have all ended comes out
 * as its result message.  Tasks end in any order; each keeps its row and
 * its reason, and the result lists failures in task order as a chunk run
 * task by task would.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "schedule/internal.h"

struct mb_pool_chunk {
    mb_buf work;          /* its work message, which the payloads point into */
    mb_work w;
    uint64_t seq;         /* the caller's number for it */
    uint64_t started, ended;
    double *rows;         /* w.count rows */
    char **reason;        /* per task, NULL unless it failed */
};

mb_err mb_pool_init(mb_pool *p, const mb_run *r)
{
    memset(p, 0, sizeof *p);
    p->r = r;
    p->offset = mb_clock_wall() - r->t0 - mb_clock_now();
    p->slots = r->kernel->start ? r->kernel->slots(r->kstate) : 1;
    if (p->slots < 1)
        p->slots = 1;
    return MB_OK;
}

static void chunk_free(mb_pool_chunk *c)
{
    for (uint64_t i = 0; c && c->reason && i < c->w.count; i++)
        free(c->reason[i]);
    if (c) {
        free(c->reason);
        free(c->rows);
        mb_buf_free(&c->work);
    }
    free(c);
}

void mb_pool_free(mb_pool *p)
{
    for (size_t k = 0; k < p->n; k++)
        chunk_free(p->c[k]);
    free(p->c);
    mb_buf_free(&p->fails);
    memset(p, 0, sizeof *p);
}

mb_err mb_pool_add(mb_pool *p, const char *msg, size_t len, uint64_t seq)
{
    size_t pos = 0, rowlen = mb_row_len(p->r->reclen);
    mb_pool_chunk *c = calloc(1, sizeof *c);
    mb_err rc = c ? MB_OK : mb_error_set(MB_ERR_NOMEM, "out of memory for a chunk");
    if (rc == MB_OK && p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 8;
        mb_pool_chunk **a = realloc(p->c, cap * sizeof *a);
        if (!a)
            rc = mb_error_set(MB_ERR_NOMEM, "out of memory for a chunk");
        else {
            p->c = a;
            p->cap = cap;
        }
    }
    if (rc == MB_OK)
        rc = mb_buf_append(&c->work, msg, len);
    if (rc == MB_OK)
        rc = mb_wire_get_work(c->work.data, c->work.len, &pos, &c->w);
    if (rc == MB_OK && (!(c->rows = calloc(c->w.count ? c->w.count * rowlen : 1, sizeof *c->rows)) ||
                        !(c->reason = calloc(c->w.count ? c->w.count : 1, sizeof *c->reason))))
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory for %llu result rows",
                          (unsigned long long)c->w.count);
    if (rc != MB_OK) {
        chunk_free(c);
        return rc;
    }
    c->seq = seq;
    p->c[p->n++] = c;
    p->unstarted += c->w.count;
    return MB_OK;
}

/* Task i of c ended with rc (its kernel wrote the record). */
static mb_err task_end(mb_pool *p, mb_pool_chunk *c, uint64_t i, mb_err rc)
{
    const mb_run *r = p->r;
    double *extra = c->rows + i * mb_row_len(r->reclen) + r->reclen;
    p->now = mb_clock_now();
    extra[MB_ROW_SECONDS] = p->now - (extra[MB_ROW_START] - p->offset);
    if (rc != MB_ERR_STOPPED)
        mb_stop_task_took(extra[MB_ROW_SECONDS]);
    extra[MB_ROW_STATUS] = (double)rc;
    c->ended++;
    if (rc == MB_OK || rc == MB_ERR_STOPPED)
        return MB_OK;
    const char *why = *mb_error_message() ? mb_error_message() : mb_strerror(rc);
    if (!(c->reason[i] = strdup(why)))
        return mb_error_set(MB_ERR_NOMEM, "out of memory for a failure reason");
    return MB_OK;
}

/* Start the next task of c (run it, for a kernel without start). */
static mb_err task_begin(mb_pool *p, mb_pool_chunk *c)
{
    const mb_run *r = p->r;
    uint64_t i = c->started++;
    double *row = c->rows + i * mb_row_len(r->reclen), *extra = row + r->reclen;
    mb_err rc;
    p->unstarted--;
    extra[MB_ROW_RANK] = r->rank;
    extra[MB_ROW_START] = mb_clock_now() + p->offset;
    mb_error_clear();
    if (!mb_stop_task_fits())
        return task_end(p, c, i, MB_ERR_STOPPED);
    if (!r->kernel->start)
        return task_end(p, c, i, r->kernel->run(r->kstate, c->w.first + i,
                                                 mb_work_payload(&c->w, i), row));
    rc = r->kernel->start(r->kstate, c->w.first + i, mb_work_payload(&c->w, i), row);
    if (rc != MB_OK)
        return task_end(p, c, i, rc);
    p->running++;
    return MB_OK;
}

/* The chunk and task whose record is rec. */
static mb_err find_row(const mb_pool *p, const double *rec, mb_pool_chunk **c, uint64_t *i)
{
    size_t rowlen = mb_row_len(p->r->reclen);
    for (size_t k = 0; k < p->n; k++) {
        const double *rows = p->c[k]->rows;
        if (rec >= rows && rec < rows + p->c[k]->w.count * rowlen) {
            *c = p->c[k];
            *i = (uint64_t)(rec - rows) / rowlen;
            return MB_OK;
        }
    }
    return mb_error_set(MB_ERR_INTERNAL, "the kernel reported a task it was not given");
}

mb_err mb_pool_step(mb_pool *p)
{
    mb_err rc = MB_OK;
    /* Start tasks in chunk order while slots are free; a kernel without
     * start runs one task here and returns, so the caller gets its turn. */
    for (size_t k = 0; rc == MB_OK && k < p->n && p->running < p->slots; k++)
        while (rc == MB_OK && p->c[k]->started < p->c[k]->w.count && p->running < p->slots) {
            rc = task_begin(p, p->c[k]);
            if (!p->r->kernel->start)
                return rc;
        }
    if (rc != MB_OK || p->running == 0)
        return rc;
    double *rec = NULL;
    mb_pool_chunk *c = NULL;
    uint64_t i = 0;
    mb_error_clear();
    mb_err task_rc = p->r->kernel->wait(p->r->kstate, &rec);
    if (!rec) /* the schedule has something to do first, or the kernel failed */
        return task_rc;
    p->running--;
    if ((rc = find_row(p, rec, &c, &i)) == MB_OK)
        rc = task_end(p, c, i, task_rc);
    return rc;
}

int mb_pool_take(mb_pool *p, int oldest, mb_buf *out, uint64_t *seq, mb_err *rc)
{
    const mb_run *r = p->r;
    *rc = MB_OK;
    for (size_t k = 0; k < p->n && (k == 0 || !oldest); k++) {
        mb_pool_chunk *c = p->c[k];
        uint64_t nfail = 0;
        if (c->ended < c->w.count)
            continue;
        p->fails.len = 0;
        for (uint64_t i = 0; *rc == MB_OK && i < c->w.count; i++)
            if (c->reason[i]) {
                *rc = mb_wire_pack_failure(&p->fails, c->w.first + i, c->reason[i]);
                nfail++;
            }
        if (*rc == MB_OK)
            *rc = mb_wire_put_result(out, c->w.first, c->w.count, mb_row_len(r->reclen), c->rows,
                                     nfail, p->fails.data, p->fails.len);
        *seq = c->seq;
        memmove(p->c + k, p->c + k + 1, (p->n - k - 1) * sizeof *p->c);
        p->n--;
        chunk_free(c);
        return 1;
    }
    return 0;
}

int mb_pool_has_room(const mb_pool *p)
{
    return p->running + p->unstarted < p->slots;
}

int mb_pool_busy(const mb_pool *p)
{
    return p->n > 0;
}
