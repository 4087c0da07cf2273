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

struct mb_journal {
    int fd;
    char *path;
    size_t rowlen;
    uint64_t next;        /* first task not yet recorded */
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

mb_err mb_journal_note_input(mb_journal *j, uint64_t task, const void *data, size_t len)
{
    if (!j)
        return MB_OK;
    if (j->n - j->head == 0) { /* empty: start at this task */
        j->head = j->n = 0;
        j->in_first = task;
    }
    if (task != j->in_first + (j->n - j->head))
        return mb_error_set(MB_ERR_INTERNAL, "journal: input of task %llu out of order",
                            (unsigned long long)task);
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
    j->inputs[j->n++] = mb_journal_input_hash(data, len);
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
        res->first != j->next || res->count == 0)
        return 0;
    /* The tasks' input hashes follow the result message, when they have input. */
    j->read_inputs = pos + res->count * 8 == j->frame.len
        ? (const uint64_t *)(const void *)(j->frame.data + pos) : NULL;
    return pos == j->frame.len || j->read_inputs;
}

/* Replay the valid frames through fn and cut the file after the last. */
static mb_err replay(mb_journal *j, mb_journal_replay_fn fn, void *arg)
{
    off_t good = HEADER_LEN;
    mb_result res;
    while (read_frame(j, &res)) {
        mb_err rc = fn(arg, &res, j->read_inputs);
        if (rc != MB_OK)
            return rc;
        j->next += res.count;
        good += FRAME_HEAD + (off_t)j->frame.len;
    }
    if (ftruncate(j->fd, good) != 0 || lseek(j->fd, good, SEEK_SET) < 0)
        return sys_error(j, "cannot cut the torn tail");
    return MB_OK;
}

static mb_err open_existing(mb_journal *j, uint64_t hash, mb_journal_replay_fn fn, void *arg)
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
    return rc == MB_OK ? replay(j, fn, arg) : rc;
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
        rc = open_existing(j, spec_hash, fn, arg);
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
    /* The frame header's room first, then the body after it. */
    j->frame.len = 0;
    if ((rc = mb_buf_reserve(&j->frame, FRAME_HEAD)) != MB_OK)
        return rc;
    j->frame.len = FRAME_HEAD;
    rc = mb_wire_put_result(&j->frame, r->first, r->count, j->rowlen, r->rows, r->nfail,
                            r->fails, r->failbytes);
    if (rc != MB_OK)
        return rc;
    /* The inputs' hashes, when they were noted, and forget them. */
    if (j->n - j->head >= r->count && j->in_first == r->first) {
        rc = mb_buf_append(&j->frame, (const char *)(j->inputs + j->head), r->count * 8);
        j->head += r->count;
        j->in_first += r->count;
        if (rc != MB_OK)
            return rc;
    }
    body = j->frame.len - FRAME_HEAD;
    len = body;
    crc = mb_journal_crc32(0, j->frame.data + FRAME_HEAD, body);
    memcpy(j->frame.data, &magic, 4);
    memcpy(j->frame.data + 4, &crc, 4);
    memcpy(j->frame.data + 8, &len, 8);
    if ((rc = write_all(j, j->frame.data, j->frame.len)) != MB_OK)
        return rc;
    j->next = r->first + r->count;
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
    free(j->inputs);
    free(j->path);
    free(j);
    return rc;
}
