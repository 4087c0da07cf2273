/* journal.c - append-only, CRC-framed record of finished tasks. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mpibatch/clock.h"
#include "journal.h"

#define VERSION 2u /* 2: frames carry their tasks' input hashes */
#define HEADER_LEN 32
#define FRAME_HEAD 16
#define FRAME_MAGIC 0x464a424du /* "MBJF" read as little-endian u32 */
/* A frame longer than this is taken for garbage, not allocated. */
#define MAX_BODY ((uint64_t)1 << 34)

static const char file_magic[8] = "MBJRNL1";

/* Tasks [first, first + count) recorded after a gap.  An island read at
 * open keeps its frame's body, to replay when the feed reaches it. */
typedef struct island {
    uint64_t first, count;
    char *body;
    size_t len;
} island;

typedef struct islands {
    island *a;            /* sorted by first */
    size_t n, cap;
} islands;

struct mb_journal {
    int fd;
    char *path;
    size_t rowlen;
    uint64_t next;        /* every task before it is recorded */
    /* Frames are written as results arrive, so a task that finished while
     * an earlier one still ran is recorded at once: recorded runs past
     * next, merged into it as the gaps fill. */
    islands rec;
    islands pend;         /* read at open past a gap, not yet replayed */
    uint64_t pend_tasks;
    mb_journal_replay_fn fn;
    void *arg;
    double interval, synced;
    int dirty;            /* written since the last sync */
    mb_buf frame;
    /* Hashes of the inputs of tasks handed out and not yet recorded:
     * inputs[head..n) for tasks in_first.. (mb_journal_note_input). */
    uint64_t *inputs;
    size_t head, n, cap;
    uint64_t in_first;
    const uint64_t *read_inputs; /* the frame just read: its hashes or NULL */
};

uint32_t mb_journal_crc32(uint32_t crc, const void *p, size_t n)
{
    /* Table-driven CRC-32; 20 lines here spare a new link dependency. */
    static uint32_t table[256];
    const unsigned char *b = p;
    if (!table[1])
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
    crc = ~crc;
    while (n--)
        crc = table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static uint64_t fnv1a(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h;
}

uint64_t mb_journal_input_hash(const void *data, size_t len)
{
    return fnv1a(0xcbf29ce484222325ull, data, len);
}

/* Nonzero when [first, first + count) meets a run of is. */
static int overlaps(const islands *is, uint64_t first, uint64_t count)
{
    for (size_t k = 0; k < is->n; k++)
        if (first < is->a[k].first + is->a[k].count && is->a[k].first < first + count)
            return 1;
    return 0;
}

/* Insert a run into is, in order of first; body (may be NULL) is kept. */
static mb_err insert(islands *is, uint64_t first, uint64_t count, char *body, size_t len)
{
    size_t k = is->n;
    if (is->n == is->cap) {
        size_t cap = is->cap ? 2 * is->cap : 16;
        island *a = realloc(is->a, cap * sizeof *a);
        if (!a)
            return mb_error_set(MB_ERR_NOMEM, "out of memory for the journal's recorded runs");
        is->a = a;
        is->cap = cap;
    }
    for (; k > 0 && is->a[k - 1].first > first; k--)
        is->a[k] = is->a[k - 1];
    is->a[k] = (island){first, count, body, len};
    is->n++;
    return MB_OK;
}

static void drop_first(islands *is)
{
    free(is->a[0].body);
    memmove(is->a, is->a + 1, (is->n - 1) * sizeof *is->a);
    is->n--;
}

/* Tasks [first, first + count) are recorded (checked by append): the
 * prefix grows over the runs it reaches, and the input hashes of the
 * prefix are forgotten. */
static mb_err record(mb_journal *j, uint64_t first, uint64_t count)
{
    if (first != j->next)
        return insert(&j->rec, first, count, NULL, 0);
    j->next = first + count;
    while (j->rec.n > 0 && j->rec.a[0].first == j->next) {
        j->next += j->rec.a[0].count;
        drop_first(&j->rec);
    }
    while (j->head < j->n && j->in_first < j->next) {
        j->head++;
        j->in_first++;
    }
    return MB_OK;
}

mb_err mb_journal_note_input(mb_journal *j, uint64_t task, const void *data, size_t len)
{
    if (!j)
        return MB_OK;
    if (j->n - j->head == 0) { /* empty: start at this task */
        j->head = j->n = 0;
        j->in_first = task;
    }
    if (task < j->in_first + (j->n - j->head))
        return mb_error_set(MB_ERR_INTERNAL, "journal: input of task %llu out of order",
                            (unsigned long long)task);
    /* Tasks skipped since the last note were recorded by an earlier run
     * (islands the feed replayed): their slots stay 0, never written. */
    while (task >= j->in_first + (j->n - j->head)) {
        if (j->head > 0 && j->n == j->cap) { /* slide the live part to the front */
            memmove(j->inputs, j->inputs + j->head, (j->n - j->head) * sizeof *j->inputs);
            j->n -= j->head;
            j->head = 0;
        }
        if (j->n == j->cap) {
            size_t cap = j->cap ? 2 * j->cap : 1024;
            uint64_t *p = realloc(j->inputs, cap * sizeof *p);
            if (!p)
                return mb_error_set(MB_ERR_NOMEM, "out of memory for the journal's input hashes");
            j->inputs = p;
            j->cap = cap;
        }
        j->inputs[j->n++] = 0;
    }
    j->inputs[j->n - 1] = mb_journal_input_hash(data, len);
    return MB_OK;
}

uint64_t mb_journal_spec_hash(const cJSON *spec, const char *kernel, const mb_option *options)
{
    uint64_t h = fnv1a(0xcbf29ce484222325ull, kernel, strlen(kernel) + 1);
    /* The option table's order, not the spec's key order: the flag form
     * and a job file of the same job hash alike. */
    for (const mb_option *o = options; o && o->name; o++) {
        char *text = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(spec, o->name));
        h = fnv1a(h, o->name, strlen(o->name) + 1);
        h = fnv1a(h, text ? text : "", text ? strlen(text) + 1 : 1);
        free(text);
    }
    return h;
}

static mb_err sys_error(const mb_journal *j, const char *what)
{
    return mb_error_set(MB_ERR_IO, "journal '%s': %s: %s", j->path, what, strerror(errno));
}

static mb_err write_all(mb_journal *j, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(j->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return sys_error(j, "cannot write");
        p += w;
        n -= (size_t)w;
    }
    j->dirty = 1;
    return MB_OK;
}

/* Read up to n bytes; fewer only when the file ends first. */
static size_t read_some(int fd, char *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

/* Read exactly n bytes; 0 when the file ends first (a torn tail). */
static int read_all(int fd, char *p, size_t n)
{
    return read_some(fd, p, n) == n;
}

static void make_header(char *h, uint64_t hash, size_t rowlen)
{
    uint32_t v = VERSION, len = (uint32_t)rowlen, zero = 0, crc;
    memcpy(h, file_magic, 8);
    memcpy(h + 8, &v, 4);
    memcpy(h + 12, &len, 4);
    memcpy(h + 16, &hash, 8);
    crc = mb_journal_crc32(0, h, 24);
    memcpy(h + 24, &crc, 4);
    memcpy(h + 28, &zero, 4);
}

/* The new file's name must survive a crash too: sync its directory. */
static void sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path + 1)) : strdup(".");
    int fd = dir ? open(dir, O_RDONLY) : -1;
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

static mb_err start(mb_journal *j, uint64_t hash)
{
    char h[HEADER_LEN];
    make_header(h, hash, j->rowlen);
    if (ftruncate(j->fd, 0) != 0)
        return sys_error(j, "cannot truncate");
    if (lseek(j->fd, 0, SEEK_SET) < 0)
        return sys_error(j, "cannot seek");
    mb_err rc = write_all(j, h, sizeof h);
    if (rc == MB_OK)
        rc = mb_journal_sync(j);
    sync_dir(j->path);
    return rc;
}

/* Check the header of an existing journal against this job. */
static mb_err check_header(mb_journal *j, const char *h, uint64_t hash)
{
    char want[HEADER_LEN];
    uint32_t crc, v, len;
    memcpy(&crc, h + 24, 4);
    memcpy(&v, h + 8, 4);
    memcpy(&len, h + 12, 4);
    make_header(want, hash, j->rowlen);
    if (memcmp(h, file_magic, 8) != 0 || crc != mb_journal_crc32(0, h, 24))
        return mb_error_set(MB_ERR_USAGE, "'%s' is not an mpibatch journal", j->path);
    if (v != VERSION)
        return mb_error_set(MB_ERR_USAGE, "journal '%s' has format version %u; this mpibatch "
                            "reads version %u", j->path, v, VERSION);
    if (len != j->rowlen || memcmp(h + 16, want + 16, 8) != 0)
        return mb_error_set(MB_ERR_USAGE, "journal '%s' records a different job (kernel or "
                            "kernel options differ): resume with the original job, or remove "
                            "the journal to start afresh", j->path);
    return MB_OK;
}

/* Read and check the frame at the file position into j->frame; 0 when it
 * is torn or corrupt (the valid prefix ends before it). */
static int read_frame(mb_journal *j, mb_result *res)
{
    char head[FRAME_HEAD];
    uint32_t magic, crc;
    uint64_t len;
    size_t pos = 0;
    if (!read_all(j->fd, head, sizeof head))
        return 0;
    memcpy(&magic, head, 4);
    memcpy(&crc, head + 4, 4);
    memcpy(&len, head + 8, 8);
    if (magic != FRAME_MAGIC || len == 0 || len > MAX_BODY || len % 8)
        return 0;
    j->frame.len = 0;
    if (mb_buf_reserve(&j->frame, (size_t)len) != MB_OK)
        return 0;
    if (!read_all(j->fd, j->frame.data, (size_t)len) ||
        mb_journal_crc32(0, j->frame.data, (size_t)len) != crc)
        return 0;
    j->frame.len = (size_t)len;
    if (mb_wire_get_result(j->frame.data, j->frame.len, &pos, j->rowlen, res) != MB_OK ||
        res->count == 0 || res->first < j->next || overlaps(&j->pend, res->first, res->count))
        return 0;
    /* The tasks' input hashes follow the result message, when they have input. */
    j->read_inputs = pos + res->count * 8 == j->frame.len
        ? (const uint64_t *)(const void *)(j->frame.data + pos) : NULL;
    return pos == j->frame.len || j->read_inputs;
}

/* Replay one frame body (a result message, then its input hashes). */
static mb_err replay_body(mb_journal *j, const char *body, size_t len)
{
    mb_result res;
    size_t pos = 0;
    mb_err rc = mb_wire_get_result(body, len, &pos, j->rowlen, &res);
    if (rc != MB_OK)
        return rc;
    return j->fn(j->arg, &res, pos + res.count * 8 == len
                                   ? (const uint64_t *)(const void *)(body + pos) : NULL);
}

/* Replay the valid frames through fn in task order and cut the file after
 * the last.  A frame past a gap waits (its body copied) until the gap
 * fills; those still waiting at the end are islands, replayed when the
 * feed reaches them (mb_journal_replay_island). */
static mb_err replay(mb_journal *j)
{
    off_t good = HEADER_LEN;
    mb_result res;
    mb_err rc = MB_OK;
    while (rc == MB_OK && read_frame(j, &res)) {
        good += FRAME_HEAD + (off_t)j->frame.len;
        if (res.first > j->next) {
            char *body = malloc(j->frame.len);
            if (!body)
                return mb_error_set(MB_ERR_NOMEM, "out of memory for the journal's frames");
            memcpy(body, j->frame.data, j->frame.len);
            rc = insert(&j->pend, res.first, res.count, body, j->frame.len);
            if (rc != MB_OK)
                free(body);
            continue;
        }
        rc = j->fn(j->arg, &res, j->read_inputs);
        j->next += res.count;
        while (rc == MB_OK && j->pend.n > 0 && j->pend.a[0].first == j->next) {
            rc = replay_body(j, j->pend.a[0].body, j->pend.a[0].len);
            j->next += j->pend.a[0].count;
            drop_first(&j->pend);
        }
    }
    for (size_t k = 0; rc == MB_OK && k < j->pend.n; k++) {
        rc = insert(&j->rec, j->pend.a[k].first, j->pend.a[k].count, NULL, 0);
        j->pend_tasks += j->pend.a[k].count;
    }
    if (rc != MB_OK)
        return rc;
    if (ftruncate(j->fd, good) != 0 || lseek(j->fd, good, SEEK_SET) < 0)
        return sys_error(j, "cannot cut the torn tail");
    return MB_OK;
}

int mb_journal_island(const mb_journal *j, uint64_t *first, uint64_t *count)
{
    if (!j || j->pend.n == 0)
        return 0;
    *first = j->pend.a[0].first;
    *count = j->pend.a[0].count;
    return 1;
}

mb_err mb_journal_replay_island(mb_journal *j)
{
    mb_err rc = replay_body(j, j->pend.a[0].body, j->pend.a[0].len);
    drop_first(&j->pend);
    return rc;
}

uint64_t mb_journal_recorded(const mb_journal *j)
{
    uint64_t n = j->next;
    for (size_t k = 0; k < j->rec.n; k++)
        n += j->rec.a[k].count;
    return n;
}

uint64_t mb_journal_island_tasks(const mb_journal *j)
{
    return j ? j->pend_tasks : 0;
}

static mb_err open_existing(mb_journal *j, uint64_t hash)
{
    char h[HEADER_LEN];
    size_t n = read_some(j->fd, h, sizeof h);
    /* A crash between creation and the header's sync leaves a short file
     * that recorded nothing: start it again.  Any other short file is not
     * ours to overwrite. */
    if (n < sizeof h && memcmp(h, file_magic, n < 8 ? n : 8) == 0)
        return start(j, hash);
    if (n < sizeof h)
        return mb_error_set(MB_ERR_USAGE, "'%s' is not an mpibatch journal", j->path);
    mb_err rc = check_header(j, h, hash);
    return rc == MB_OK ? replay(j) : rc;
}

mb_err mb_journal_open(mb_journal **jp, const char *path, uint64_t spec_hash, size_t rowlen,
                       int resume, double interval, mb_journal_replay_fn fn, void *arg,
                       uint64_t *tasks)
{
    mb_journal *j = calloc(1, sizeof *j);
    mb_err rc = MB_OK;
    *jp = NULL;
    *tasks = 0;
    if (!j || !(j->path = strdup(path))) {
        free(j);
        return mb_error_set(MB_ERR_NOMEM, "out of memory for the journal");
    }
    j->rowlen = rowlen;
    j->interval = interval;
    j->fn = fn;
    j->arg = arg;
    j->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (j->fd >= 0)
        rc = start(j, spec_hash);
    else if (errno != EEXIST)
        rc = sys_error(j, "cannot create");
    else if (!resume)
        rc = mb_error_set(MB_ERR_USAGE, "journal '%s' exists: add --resume to continue its "
                          "job, or remove it to start afresh", path);
    else if ((j->fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
        rc = sys_error(j, "cannot open");
    else
        rc = open_existing(j, spec_hash);
    j->synced = mb_clock_now();
    *tasks = j->next;
    if (rc != MB_OK) {
        mb_journal_close(j);
        return rc;
    }
    *jp = j;
    return MB_OK;
}

mb_err mb_journal_append(mb_journal *j, const mb_result *r)
{
    size_t body;
    uint32_t magic = FRAME_MAGIC, crc;
    uint64_t len;
    mb_err rc;
    if (r->first < j->next || overlaps(&j->rec, r->first, r->count))
        return mb_error_set(MB_ERR_INTERNAL, "journal '%s': tasks %llu..%llu recorded twice",
                            j->path, (unsigned long long)r->first,
                            (unsigned long long)(r->first + r->count - 1));
    /* The frame header's room first, then the body after it. */
    j->frame.len = 0;
    if ((rc = mb_buf_reserve(&j->frame, FRAME_HEAD)) != MB_OK)
        return rc;
    j->frame.len = FRAME_HEAD;
    rc = mb_wire_put_result(&j->frame, r->first, r->count, j->rowlen, r->rows, r->nfail,
                            r->fails, r->failbytes);
    if (rc != MB_OK)
        return rc;
    /* The inputs' hashes, when they were noted (forgotten once the
     * recorded prefix passes them). */
    if (r->first >= j->in_first && r->first + r->count <= j->in_first + (j->n - j->head) &&
        (rc = mb_buf_append(&j->frame, (const char *)(j->inputs + j->head + (r->first - j->in_first)),
                            r->count * 8)) != MB_OK)
        return rc;
    body = j->frame.len - FRAME_HEAD;
    len = body;
    crc = mb_journal_crc32(0, j->frame.data + FRAME_HEAD, body);
    memcpy(j->frame.data, &magic, 4);
    memcpy(j->frame.data + 4, &crc, 4);
    memcpy(j->frame.data + 8, &len, 8);
    if ((rc = write_all(j, j->frame.data, j->frame.len)) != MB_OK ||
        (rc = record(j, r->first, r->count)) != MB_OK)
        return rc;
    return mb_clock_now() - j->synced >= j->interval ? mb_journal_sync(j) : MB_OK;
}

mb_err mb_journal_sync(mb_journal *j)
{
    if (j->dirty && fdatasync(j->fd) != 0)
        return sys_error(j, "cannot sync");
    j->dirty = 0;
    j->synced = mb_clock_now();
    return MB_OK;
}

mb_err mb_journal_close(mb_journal *j)
{
    mb_err rc = MB_OK;
    if (!j)
        return MB_OK;
    if (j->fd >= 0) {
        rc = mb_journal_sync(j);
        close(j->fd);
    }
    mb_buf_free(&j->frame);
    while (j->pend.n > 0)
        drop_first(&j->pend);
    free(j->pend.a);
    free(j->rec.a);
    free(j->inputs);
    free(j->path);
    free(j);
    return rc;
}
