/* wire.h - the messages between ranks: work out, results back.
 *
 * Work:   [first, count, marked] (uint64); marked is 0 for tasks without
 *         payloads, else nbytes + 1, followed by the payload offsets
 *         [count + 1] (uint64) and the nbytes payload bytes.
 * Result: [first, count, nfail, failbytes] (uint64) then count rows of
 *         `rowlen` doubles (the kernel record, then row.h's bookkeeping),
 *         then nfail failures {task uint64, length uint32, text}.
 * Every message is padded to a multiple of 8 bytes, so messages can be
 * concatenated (static rounds) and rows stay aligned for direct reads.
 */
#ifndef MPIBATCH_WIRE_H
#define MPIBATCH_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "mpibatch/batch.h"
#include "mpibatch/error.h"
#include "mpibatch/kernel.h"

/* A decoded work message; pointers point into the message. */
typedef struct mb_work {
    uint64_t first, count;
    const char *offsets;   /* count + 1 unaligned uint64, or NULL */
    const char *bytes;
} mb_work;

/* Append a work message for tasks [first, first+count); payloads is the
 * batch holding them starting at its task `from`, or NULL for none. */
mb_err mb_wire_put_work(mb_buf *out, uint64_t first, uint64_t count,
                        const mb_batch *payloads, uint64_t from);

/* Decode the work message at msg[*pos..len) and advance *pos. */
mb_err mb_wire_get_work(const char *msg, size_t len, size_t *pos, mb_work *w);

/* Task i of a decoded work message. */
mb_payload mb_work_payload(const mb_work *w, uint64_t i);

/* A decoded result message; pointers point into the message. */
typedef struct mb_result {
    uint64_t first, count, nfail;
    const double *rows;
    const char *fails;     /* nfail packed failures */
    size_t failbytes;
} mb_result;

/* Pack one failure (task and its reason) into fails, a side buffer kept
 * while a chunk runs so that the rows' buffer never moves under it. */
mb_err mb_wire_pack_failure(mb_buf *fails, uint64_t task, const char *text);

/* Append a result message: count rows of rowlen doubles and the nfail
 * failures packed in fails[0..failbytes) (NULL, 0 when there are none). */
mb_err mb_wire_put_result(mb_buf *out, uint64_t first, uint64_t count, size_t rowlen,
                          const double *rows, uint64_t nfail, const char *fails,
                          size_t failbytes);

/* Decode the result message at msg[*pos..len) and advance *pos. */
mb_err mb_wire_get_result(const char *msg, size_t len, size_t *pos, size_t rowlen,
                          mb_result *r);

/* The next failure of r at *pos within r->fails; 0 when none is left. */
int mb_result_next_failure(const mb_result *r, size_t *pos, uint64_t *task,
                           const char **text, size_t *len);

#endif
