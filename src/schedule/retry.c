/* retry.c - failed tasks run again (rank 0 holds their chunks meanwhile). */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "schedule/internal.h"




static void pending_free(mb_pending *p)
{
    for (uint64_t i = 0; p && i < p->count; i++)
        free(p->reason[i]);
    if (p) {
        free(p->rows);
        free(p->reason);
        free(p->attempts);
        mb_buf_free(&p->work);
    }
    free(p);
}

void mb_retrier_free(mb_retrier *rt)
{
    /* Only a failed job leaves items queued; their chunks go with them. */
    for (size_t k = 0; k < rt->nqueue; k++) {
        mb_pending *p = rt->queue[k].p;
        for (size_t m = k + 1; m < rt->nqueue; m++)
            if (rt->queue[m].p == p)
                rt->queue[m].p = NULL;
        pending_free(p);
    }
    free(rt->queue);
    mb_batch_free(&rt->one);
    mb_buf_free(&rt->msg);
    mb_buf_free(&rt->fails);
}

void mb_retrier_drop_all(mb_retrier *rt)
{
    for (size_t k = 0; k < rt->nqueue; k++)
        if (--rt->queue[k].p->waiting == 0)
            pending_free(rt->queue[k].p);
    rt->nqueue = 0;
}

static mb_err retry_push(mb_retrier *rt, mb_pending *p, uint64_t i, int avoid)
{
    if (rt->nqueue == rt->capqueue) {
        size_t cap = rt->capqueue ? 2 * rt->capqueue : 16;
        mb_retry_item *q = realloc(rt->queue, cap * sizeof *q);
        if (!q)
            return mb_error_set(MB_ERR_NOMEM, "out of memory queueing a retry");
        rt->queue = q;
        rt->capqueue = cap;
    }
    rt->queue[rt->nqueue++] = (mb_retry_item){p, i, avoid};
    return MB_OK;
}

/* Take the first queued re-run that `rank` may run; 0 when none. */
int mb_retrier_take(mb_retrier *rt, int rank, mb_retry_item *it)
{
    /* With a single rank running tasks, "another rank" does not exist. */
    int alone = rt->r->size - (rt->r->root_serves_only ? 1 : 0) == 1;
    for (size_t k = 0; k < rt->nqueue; k++)
        if (rt->queue[k].avoid != rank || alone) {
            *it = rt->queue[k];
            memmove(rt->queue + k, rt->queue + k + 1, (rt->nqueue - k - 1) * sizeof *it);
            rt->nqueue--;
            return 1;
        }
    return 0;
}

/* Append the work message re-running item it's task to out. */
mb_err mb_retrier_work(mb_retrier *rt, const mb_retry_item *it, mb_buf *out)
{
    mb_work w;
    size_t pos = 0;
    uint64_t task = it->p->first + it->i;
    mb_err rc = mb_wire_get_work(it->p->work.data, it->p->work.len, &pos, &w);
    if (rc != MB_OK)
        return rc;
    it->p->attempts[it->i]++;
    rt->r->retried++;
    if (!w.offsets)
        return mb_wire_put_work(out, task, 1, NULL, 0);
    mb_payload pl = mb_work_payload(&w, it->i);
    mb_batch_clear(&rt->one);
    rc = mb_batch_add(&rt->one, pl.data, pl.len);
    return rc == MB_OK ? mb_wire_put_work(out, task, 1, &rt->one, 0) : rc;
}

/* All re-runs of p ended: pass its final rows to the collector. */
static mb_err pending_finish(mb_retrier *rt, mb_pending *p)
{
    size_t rowlen = mb_row_len(rt->r->reclen), pos = 0;
    uint64_t nfail = 0;
    mb_err rc = MB_OK;
    rt->fails.len = 0;
    for (uint64_t i = 0; rc == MB_OK && i < p->count; i++)
        if (p->reason[i]) {
            rc = mb_wire_pack_failure(&rt->fails, p->first + i, p->reason[i]);
            nfail++;
        }
    rt->msg.len = 0;
    if (rc == MB_OK)
        rc = mb_wire_put_result(&rt->msg, p->first, p->count, rowlen, p->rows, nfail,
                                rt->fails.data, rt->fails.len);
    if (rc == MB_OK)
        rc = mb_schedule_collect(rt->r, rt->msg.data, rt->msg.len, &pos);
    pending_free(p);
    return rc;
}

/* Set task i's failure reason from the next failure of res. */
static mb_err take_reason(mb_pending *p, uint64_t i, const mb_result *res, size_t *fpos)
{
    uint64_t t;
    const char *text;
    size_t len;
    free(p->reason[i]);
    p->reason[i] = NULL;
    if (!mb_result_next_failure(res, fpos, &t, &text, &len) || t != p->first + i)
        return mb_error_set(MB_ERR_INTERNAL, "task %llu failed without a reason",
                            (unsigned long long)(p->first + i));
    if (!(p->reason[i] = strndup(text, len)))
        return mb_error_set(MB_ERR_NOMEM, "out of memory for a failure reason");
    return MB_OK;
}

static mb_err pending_new(const mb_result *res, size_t rowlen, const char *work, size_t wlen,
                          mb_pending **pp)
{
    mb_pending *p = calloc(1, sizeof *p);
    *pp = p;
    if (!p || !(p->rows = malloc(res->count * rowlen * sizeof *p->rows)) ||
        !(p->reason = calloc(res->count, sizeof *p->reason)) ||
        !(p->attempts = calloc(res->count, sizeof *p->attempts)))
        return mb_error_set(MB_ERR_NOMEM, "out of memory holding a chunk for retries");
    p->first = res->first;
    p->count = res->count;
    memcpy(p->rows, res->rows, res->count * rowlen * sizeof *p->rows);
    return mb_buf_append(&p->work, work, wlen);
}

/* A chunk's first result: straight to the collector, or held while its
 * failed tasks run again.  work[0..wlen) is the chunk's work message. */
mb_err mb_retrier_intake(mb_retrier *rt, const mb_result *res, const char *work, size_t wlen)
{
    const mb_run *r = rt->r;
    size_t rowlen = mb_row_len(r->reclen), fpos = 0;
    mb_pending *p;
    /* Not done, or failed while no re-run may start: left for the resume. */
    if (mb_result_not_done(r, res) || (mb_stop_draining() && res->nfail > 0 && r->retries > 0))
        return MB_OK;
    if (res->nfail == 0 || r->retries == 0)
        return mb_collector_add(r->col, res);
    mb_err rc = pending_new(res, rowlen, work, wlen, &p);
    for (uint64_t i = 0; rc == MB_OK && i < p->count; i++) {
        const double *extra = p->rows + i * rowlen + r->reclen;
        if (extra[MB_ROW_STATUS] == 0)
            continue;
        if ((rc = take_reason(p, i, res, &fpos)) == MB_OK)
            rc = retry_push(rt, p, i, (int)extra[MB_ROW_RANK]);
        p->waiting++;
    }
    if (rc != MB_OK) {
        /* Drop the items already queued for p with it. */
        while (rt->nqueue > 0 && rt->queue[rt->nqueue - 1].p == p)
            rt->nqueue--;
        pending_free(p);
    }
    return rc;
}

/* The result of re-running task i of p. */
mb_err mb_retrier_done(mb_retrier *rt, mb_pending *p, uint64_t i, const mb_result *res)
{
    const mb_run *r = rt->r;
    size_t rowlen = mb_row_len(r->reclen), fpos = 0;
    const double *extra = res->rows + r->reclen;
    mb_err rc = MB_OK;
    if (res->count != 1 || res->first != p->first + i)
        return mb_error_set(MB_ERR_INTERNAL, "a retry of task %llu came back as task %llu",
                            (unsigned long long)(p->first + i), (unsigned long long)res->first);
    if (mb_stop_draining() || mb_result_not_done(r, res)) { /* resuming runs it again */
        if (--p->waiting == 0)
            pending_free(p);
        return MB_OK;
    }
    memcpy(p->rows + i * rowlen, res->rows, rowlen * sizeof *p->rows);
    free(p->reason[i]);
    p->reason[i] = NULL;
    if (extra[MB_ROW_STATUS] != 0 && (rc = take_reason(p, i, res, &fpos)) == MB_OK &&
        p->attempts[i] < r->retries)
        return retry_push(rt, p, i, (int)extra[MB_ROW_RANK]);
    if (rc != MB_OK)
        return rc;
    return --p->waiting == 0 ? pending_finish(rt, p) : MB_OK;
}

