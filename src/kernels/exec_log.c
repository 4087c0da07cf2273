/* exec_log.c - exec's streamed logs: the writer (one per rank) and the
 * reader behind `mpibatch logs` (exec_log.h says what the files hold).
 *
 * Log record (DIR/rank-NNNN.log): a 40-byte header
 *   0 "MBLR"  4 CRC-32 of bytes 8..40 and the payload  8 run  16 task
 *   24 offset + 1 of the attempt's previous record (0: none)
 *   32 payload bytes  36 kind (1 begin, 2 stdout, 3 stderr, 4 end)
 * then the payload: begin: line, start time, rank, the command; stdout and
 * stderr: the bytes; end: exit status, signal, end time, seconds,
 * timed out, failed, the reason.
 * Index entry (DIR/rank-NNNN.idx), 72 bytes:
 *   0 "MBLI"  4 CRC-32 of bytes 8..72  8 run  16 task  24 begin record's
 *   offset  32 end record's offset (all ones in a begin entry)  40 time
 *   48 line (begin) or exit status (end)  56 signal  64 kind  65 failed
 *   66 timed out  68 rank
 * Each record and entry is one write(2) at the end of its file: a process
 * killed between two leaves whole records, one killed inside one (or a
 * full disk) a torn last one, which fails its CRC and is ignored.
 */
#define _GNU_SOURCE /* pread, dirfd */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "journal.h"
#include "kernels/exec_log.h"
#include "mpibatch/clock.h"

enum { HDR = 40, IDX = 72, BEGIN_FIXED = 20, END_FIXED = 40 };
enum { K_BEGIN = 1, K_OUT = 2, K_ERR = 3, K_END = 4 };
#define NO_END UINT64_MAX

struct mb_exec_log {
    int log, idx;          /* file descriptors */
    uint64_t run, size;    /* size: the log's length, where the next record goes */
    int rank;
};

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> 8 * i);
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> 8 * i);
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void putf(unsigned char *p, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    put64(p, v);
}

static double getf(const unsigned char *p)
{
    uint64_t v = get64(p);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

/* Write all of iov to fd; 0 or errno. */
static int write_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno;
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

static int open_append(const char *dir, int rank, const char *ext)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/rank-%04d.%s", dir, rank, ext) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
}

mb_err mb_exec_log_open(const char *dir, int rank, uint64_t run, mb_exec_log **out)
{
    mb_exec_log *l = calloc(1, sizeof *l);
    struct stat st;
    if (!l)
        return mb_error_set(MB_ERR_NOMEM, "out of memory");
    l->run = run;
    l->rank = rank;
    l->idx = -1;
    if ((l->log = open_append(dir, rank, "log")) < 0 || fstat(l->log, &st) != 0 ||
        (l->idx = open_append(dir, rank, "idx")) < 0) {
        int err = errno;
        mb_exec_log_close(l);
        return mb_error_set(MB_ERR_IO, "cannot open the log of rank %d in '%s': %s", rank, dir,
                            strerror(err));
    }
    l->size = (uint64_t)st.st_size;
    *out = l;
    return MB_OK;
}

void mb_exec_log_close(mb_exec_log *l)
{
    if (!l)
        return;
    if (l->log >= 0)
        close(l->log);
    if (l->idx >= 0)
        close(l->idx);
    free(l);
}

/* Append a record of a's attempt: fixed payload bytes, then n more. */
static int record(mb_exec_log *l, mb_exec_log_attempt *a, int kind, const unsigned char *fixed,
                  size_t nfixed, const void *more, size_t n)
{
    unsigned char h[HDR] = "MBLR";
    put64(h + 8, l->run);
    put64(h + 16, a->task);
    put64(h + 24, a->last);
    put32(h + 32, (uint32_t)(nfixed + n));
    h[36] = (unsigned char)kind;
    uint32_t crc = mb_journal_crc32(0, h + 8, HDR - 8);
    crc = mb_journal_crc32(crc, fixed, nfixed);
    put32(h + 4, mb_journal_crc32(crc, more, n));
    /* writev does not write through iov_base: the casts drop a const it keeps. */
    struct iovec iov[3] = {{h, HDR}, {(void *)(uintptr_t)fixed, nfixed}, {(void *)(uintptr_t)more, n}};
    int err = write_all(l->log, iov, 3);
    if (err)
        return err;
    a->last = l->size + 1;
    l->size += HDR + nfixed + n;
    return 0;
}

/* Append an index entry. */
static int index_entry(mb_exec_log *l, uint64_t task, uint64_t begin, uint64_t end, double t,
                       int64_t a, int64_t b, int kind, int failed, int timed_out)
{
    unsigned char e[IDX] = "MBLI";
    put64(e + 8, l->run);
    put64(e + 16, task);
    put64(e + 24, begin);
    put64(e + 32, end);
    putf(e + 40, t);
    put64(e + 48, (uint64_t)a);
    put64(e + 56, (uint64_t)b);
    e[64] = (unsigned char)kind;
    e[65] = (unsigned char)failed;
    e[66] = (unsigned char)timed_out;
    put32(e + 68, (uint32_t)l->rank);
    put32(e + 4, mb_journal_crc32(0, e + 8, IDX - 8));
    struct iovec iov = {e, IDX};
    return write_all(l->idx, &iov, 1);
}

int mb_exec_log_begin(mb_exec_log *l, mb_exec_log_attempt *a, uint64_t task, uint64_t line,
                      const char *cmd)
{
    unsigned char f[BEGIN_FIXED];
    double now = mb_clock_wall();
    *a = (mb_exec_log_attempt){.task = task, .begin = l->size};
    put64(f, line);
    putf(f + 8, now);
    put32(f + 16, (uint32_t)l->rank);
    uint64_t off = l->size;
    int err = record(l, a, K_BEGIN, f, sizeof f, cmd, strlen(cmd));
    return err ? err : index_entry(l, task, off, NO_END, now, (int64_t)line, 0, K_BEGIN, 0, 0);
}

int mb_exec_log_write(mb_exec_log *l, mb_exec_log_attempt *a, int stream, const void *buf,
                      size_t n)
{
    return record(l, a, stream == MB_EXEC_LOG_OUT ? K_OUT : K_ERR, NULL, 0, buf, n);
}

int mb_exec_log_end_attempt(mb_exec_log *l, mb_exec_log_attempt *a, const mb_exec_log_end *e)
{
    unsigned char f[END_FIXED] = {0};
    double now = mb_clock_wall();
    const char *why = e->reason ? e->reason : "";
    uint64_t off = l->size;
    put64(f, (uint64_t)e->exit_status);
    put64(f + 8, (uint64_t)e->signal);
    putf(f + 16, now);
    putf(f + 24, e->seconds);
    f[32] = (unsigned char)(e->timed_out != 0);
    f[33] = (unsigned char)(e->failed != 0);
    int err = record(l, a, K_END, f, sizeof f, why, strlen(why));
    return err ? err
               : index_entry(l, a->task, a->begin, off, now, e->exit_status, e->signal, K_END,
                             e->failed != 0, e->timed_out != 0);
}

/* ---- reader ---- */

void mb_exec_log_reader_free(mb_exec_log_reader *r)
{
    for (int i = 0; i < r->nfiles; i++)
        free(r->logs[i]);
    free(r->logs);
    free(r->e);
    free(r->runs);
    free(r->dir);
    memset(r, 0, sizeof *r);
}

static mb_err slurp(const char *path, unsigned char **data, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    struct stat st;
    mb_err rc = MB_OK;
    *data = NULL;
    if (!fp || fstat(fileno(fp), &st) != 0)
        rc = mb_error_set(MB_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    else if (!(*data = malloc((size_t)st.st_size + 1)))
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory for '%s'", path);
    else if ((*len = fread(*data, 1, (size_t)st.st_size, fp)) != (size_t)st.st_size)
        rc = mb_error_set(MB_ERR_IO, "cannot read '%s'", path);
    if (fp)
        fclose(fp);
    return rc;
}

static mb_err grow(mb_exec_log_reader *r, size_t *cap)
{
    if (r->n < *cap)
        return MB_OK;
    *cap = *cap ? 2 * *cap : 256;
    mb_exec_log_entry *e = realloc(r->e, *cap * sizeof *e);
    if (!e)
        return mb_error_set(MB_ERR_NOMEM, "out of memory for the log index");
    r->e = e;
    return MB_OK;
}

/* The begin entry of file `file` at offset off among r->e[from..n), or NULL. */
static mb_exec_log_entry *find_begin(mb_exec_log_reader *r, size_t from, uint64_t off)
{
    size_t lo = from, hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->e[mid].begin_off < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->n && r->e[lo].begin_off == off ? &r->e[lo] : NULL;
}

/* Add one index file's entries (begin entries appear in offset order). */
static mb_err read_index(mb_exec_log_reader *r, const char *path, int file, size_t *cap)
{
    unsigned char *d;
    size_t len = 0, from = r->n;
    mb_err rc = slurp(path, &d, &len);
    for (size_t off = 0; rc == MB_OK && off + IDX <= len; off += IDX) {
        const unsigned char *p = d + off;
        if (memcmp(p, "MBLI", 4) != 0 || get32(p + 4) != mb_journal_crc32(0, p + 8, IDX - 8)) {
            if (off + IDX < len) /* only the last entry may be torn */
                rc = mb_error_set(MB_ERR_INPUT, "%s: corrupt index entry at byte %zu", path, off);
            break;
        }
        if (p[64] == K_BEGIN) {
            if ((rc = grow(r, cap)) != MB_OK)
                break;
            r->e[r->n++] = (mb_exec_log_entry){
                .run = get64(p + 8), .task = get64(p + 16), .line = get64(p + 48),
                .rank = (int)get32(p + 68), .file = file, .begin_off = get64(p + 24),
                .end_off = NO_END, .start = getf(p + 40), .exit_status = -1};
            continue;
        }
        mb_exec_log_entry *e = find_begin(r, from, get64(p + 24));
        if (!e)
            continue; /* its begin entry was torn: nothing to show */
        e->end_off = get64(p + 32);
        e->end = getf(p + 40);
        e->finished = 1;
        e->exit_status = (int64_t)get64(p + 48);
        e->signal = (int64_t)get64(p + 56);
        e->failed = p[65];
        e->timed_out = p[66];
    }
    free(d);
    return rc;
}

static int by_task(const void *a, const void *b)
{
    const mb_exec_log_entry *x = a, *y = b;
    if (x->run != y->run)
        return x->run < y->run ? -1 : 1;
    if (x->task != y->task)
        return x->task < y->task ? -1 : 1;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->rank - y->rank;
}

/* Number the attempts of each task and mark all but the one whose result
 * counts as superseded: the first to succeed (a retry, or the speculative
 * copy that finished first), else the last to end. */
static void judge_attempts(mb_exec_log_reader *r)
{
    for (size_t i = 0, j; i < r->n; i = j) {
        size_t best = SIZE_MAX;
        for (j = i; j < r->n && r->e[j].run == r->e[i].run && r->e[j].task == r->e[i].task; j++) {
            const mb_exec_log_entry *e = &r->e[j];
            if (!e->finished)
                continue;
            if (best == SIZE_MAX)
                best = j;
            else if (!e->failed && (r->e[best].failed || e->end < r->e[best].end))
                best = j;
            else if (e->failed && r->e[best].failed && e->end >= r->e[best].end)
                best = j;
        }
        for (size_t k = i; k < j; k++) {
            r->e[k].attempt = (int)(k - i + 1);
            r->e[k].attempts = (int)(j - i);
            r->e[k].superseded = best != SIZE_MAX && k != best;
        }
    }
}

static mb_err list_runs(mb_exec_log_reader *r)
{
    if (r->n && !(r->runs = malloc(r->n * sizeof *r->runs)))
        return mb_error_set(MB_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < r->n; i++)
        if (i == 0 || r->e[i].run != r->e[i - 1].run)
            r->runs[r->nruns++] = r->e[i].run;
    return MB_OK;
}

static int is_index_name(const char *name)
{
    size_t n = strlen(name);
    return strncmp(name, "rank-", 5) == 0 && n > 9 && strcmp(name + n - 4, ".idx") == 0;
}

mb_err mb_exec_log_read(const char *dir, mb_exec_log_reader *r)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t cap = 0;
    mb_err rc = MB_OK;
    memset(r, 0, sizeof *r);
    if (!d)
        return mb_error_set(MB_ERR_IO, "cannot open log directory '%s': %s", dir, strerror(errno));
    if (!(r->dir = strdup(dir)))
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory");
    while (rc == MB_OK && (de = readdir(d))) {
        if (!is_index_name(de->d_name))
            continue;
        char path[4096];
        char **logs = realloc(r->logs, (size_t)(r->nfiles + 1) * sizeof *logs);
        if (!logs) {
            rc = mb_error_set(MB_ERR_NOMEM, "out of memory");
            break;
        }
        r->logs = logs;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (!(r->logs[r->nfiles] = strdup(path))) {
            rc = mb_error_set(MB_ERR_NOMEM, "out of memory");
            break;
        }
        memcpy(r->logs[r->nfiles] + strlen(path) - 3, "log", 3);
        r->nfiles++;
        rc = read_index(r, path, r->nfiles - 1, &cap);
    }
    closedir(d);
    if (rc == MB_OK && r->nfiles == 0)
        rc = mb_error_set(MB_ERR_INPUT, "'%s' holds no exec logs (rank-NNNN.idx files)", dir);
    if (rc == MB_OK) {
        if (r->n)
            qsort(r->e, r->n, sizeof *r->e, by_task);
        judge_attempts(r);
        rc = list_runs(r);
    }
    if (rc != MB_OK)
        mb_exec_log_reader_free(r);
    return rc;
}

size_t mb_exec_log_find(const mb_exec_log_reader *r, uint64_t run, uint64_t task, size_t *first)
{
    size_t lo = 0, hi = r->n, n = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->e[mid].run < run || (r->e[mid].run == run && r->e[mid].task < task))
            lo = mid + 1;
        else
            hi = mid;
    }
    *first = lo;
    while (lo + n < r->n && r->e[lo + n].run == run && r->e[lo + n].task == task)
        n++;
    return n;
}

/* One whole record at off: its header in h, its payload in *payload
 * (caller frees).  0 if there is none whole and intact there. */
static int read_record(int fd, uint64_t off, unsigned char h[HDR], unsigned char **payload)
{
    *payload = NULL;
    if (pread(fd, h, HDR, (off_t)off) != HDR || memcmp(h, "MBLR", 4) != 0)
        return 0;
    uint32_t len = get32(h + 32);
    if (!(*payload = malloc(len ? len : 1)))
        return 0;
    if (pread(fd, *payload, len, (off_t)(off + HDR)) != (ssize_t)len ||
        mb_journal_crc32(mb_journal_crc32(0, h + 8, HDR - 8), *payload, len) != get32(h + 4)) {
        free(*payload);
        *payload = NULL;
        return 0;
    }
    return 1;
}

static char *text(const unsigned char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

static mb_err open_log(const mb_exec_log_reader *r, const mb_exec_log_entry *e, int *fd)
{
    if ((*fd = open(r->logs[e->file], O_RDONLY | O_CLOEXEC)) < 0)
        return mb_error_set(MB_ERR_IO, "cannot read '%s': %s", r->logs[e->file], strerror(errno));
    return MB_OK;
}

mb_err mb_exec_log_describe(const mb_exec_log_reader *r, const mb_exec_log_entry *e, char **cmd,
                            char **reason)
{
    unsigned char h[HDR], *p;
    int fd;
    mb_err rc = open_log(r, e, &fd);
    *cmd = *reason = NULL;
    if (rc != MB_OK)
        return rc;
    if (!read_record(fd, e->begin_off, h, &p) || h[36] != K_BEGIN || get32(h + 32) < BEGIN_FIXED)
        rc = mb_error_set(MB_ERR_INPUT, "%s: no intact begin record at byte %llu", r->logs[e->file],
                          (unsigned long long)e->begin_off);
    else if (!(*cmd = text(p + BEGIN_FIXED, get32(h + 32) - BEGIN_FIXED)))
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory");
    free(p);
    if (rc == MB_OK && e->finished && e->failed) {
        if (!read_record(fd, e->end_off, h, &p) || h[36] != K_END || get32(h + 32) < END_FIXED)
            rc = mb_error_set(MB_ERR_INPUT, "%s: no intact end record at byte %llu",
                              r->logs[e->file], (unsigned long long)e->end_off);
        else if (!(*reason = text(p + END_FIXED, get32(h + 32) - END_FIXED)))
            rc = mb_error_set(MB_ERR_NOMEM, "out of memory");
        free(p);
    }
    close(fd);
    if (rc != MB_OK) {
        free(*cmd);
        free(*reason);
        *cmd = *reason = NULL;
    }
    return rc;
}

/* Offsets of e's output records, oldest first: back along the chain from
 * its end record, or (it never ended) forward from its begin record over
 * the intact records.  The caller frees *offs. */
static mb_err chain(int fd, const mb_exec_log_entry *e, uint64_t **offs, size_t *n)
{
    size_t cap = 0;
    unsigned char h[HDR], *p;
    uint64_t off = e->finished ? e->end_off : e->begin_off;
    *offs = NULL;
    *n = 0;
    while (read_record(fd, off, h, &p)) {
        free(p);
        int mine = get64(h + 8) == e->run && get64(h + 16) == e->task;
        if (mine && (h[36] == K_OUT || h[36] == K_ERR)) {
            if (*n == cap) {
                cap = cap ? 2 * cap : 64;
                uint64_t *o = realloc(*offs, cap * sizeof *o);
                if (!o)
                    return mb_error_set(MB_ERR_NOMEM, "out of memory");
                *offs = o;
            }
            (*offs)[(*n)++] = off;
        }
        if (e->finished) {
            uint64_t prev = get64(h + 24);
            if (!mine || prev == 0 || prev - 1 >= off)
                break;
            off = prev - 1;
        } else {
            off += HDR + get32(h + 32);
        }
    }
    for (size_t i = 0; e->finished && i < *n / 2; i++) { /* found newest first */
        uint64_t t = (*offs)[i];
        (*offs)[i] = (*offs)[*n - 1 - i];
        (*offs)[*n - 1 - i] = t;
    }
    return MB_OK;
}

mb_err mb_exec_log_print(const mb_exec_log_reader *r, const mb_exec_log_entry *e, int streams,
                         FILE *fp)
{
    uint64_t *offs;
    size_t n;
    int fd;
    mb_err rc = open_log(r, e, &fd);
    if (rc == MB_OK)
        rc = chain(fd, e, &offs, &n);
    if (rc != MB_OK) {
        if (fd >= 0)
            close(fd);
        return rc;
    }
    for (int kind = K_OUT; rc == MB_OK && kind <= K_ERR; kind++) {
        if (!(streams & (kind == K_OUT ? MB_EXEC_LOG_OUT : MB_EXEC_LOG_ERR)))
            continue;
        for (size_t i = 0; rc == MB_OK && i < n; i++) {
            unsigned char h[HDR], *p;
            if (!read_record(fd, offs[i], h, &p))
                rc = mb_error_set(MB_ERR_INPUT, "%s: record at byte %llu changed while read",
                                  r->logs[e->file], (unsigned long long)offs[i]);
            else if (h[36] == kind && fwrite(p, 1, get32(h + 32), fp) != get32(h + 32))
                rc = mb_error_set(MB_ERR_IO, "cannot write the output: %s", strerror(errno));
            free(p);
        }
    }
    free(offs);
    close(fd);
    return rc;
}
