/* exec_lines.c - classify, tag and expand the lines of a commands file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/exec_lines.h"

static int blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* One key=value word of a resources directive into d; 0 if it is not one. */
static int resource_word(const char *w, size_t n, mb_directive *d)
{
    static const char *const keys[] = {"cores=", "gpus="};
    for (int k = 0; k < 2; k++) {
        size_t kl = strlen(keys[k]);
        long v = 0;
        if (n <= kl || strncmp(w, keys[k], kl) != 0)
            continue;
        for (size_t i = kl; i < n; i++) {
            if (w[i] < '0' || w[i] > '9' || v > 100000)
                return 0;
            v = v * 10 + (w[i] - '0');
        }
        *(k == 0 ? &d->cores : &d->gpus) = v;
        return 1;
    }
    return 0;
}

/* The words after "#mpibatch": "barrier" alone, or cores=N and gpus=N
 * words (into d).  New directives are new words here. */
static mb_err parse_directive(const char *p, size_t n, mb_commands_kind *kind, mb_directive *d)
{
    int words = 0, barrier = 0;
    d->cores = d->gpus = -1;
    for (size_t i = 0; i < n;) {
        size_t start = i;
        while (i < n && !blank(p[i]))
            i++;
        if (i == start) {
            i++;
            continue;
        }
        words++;
        if (i - start == 7 && memcmp(p + start, "barrier", 7) == 0)
            barrier = 1;
        else if (!resource_word(p + start, i - start, d))
            return mb_error_set(MB_ERR_INPUT, "unknown directive '#mpibatch %.*s' (known: barrier, "
                                "cores=N, gpus=N)", (int)(i - start < 64 ? i - start : 64),
                                p + start);
    }
    if (words == 0)
        return mb_error_set(MB_ERR_INPUT, "'#mpibatch' without a directive (known: barrier, "
                            "cores=N, gpus=N)");
    if (barrier && words > 1)
        return mb_error_set(MB_ERR_INPUT, "'#mpibatch barrier' takes no other words");
    *kind = barrier ? MB_LINE_BARRIER : MB_LINE_RESOURCES;
    return MB_OK;
}

mb_err mb_commands_parse(const char *line, size_t len, mb_commands_kind *kind, mb_directive *d)
{
    static const char word[] = "#mpibatch";
    const size_t wlen = sizeof word - 1;
    size_t i = 0;
    d->cores = d->gpus = -1;
    while (i < len && blank(line[i]))
        i++;
    *kind = i == len ? MB_LINE_SKIP : line[i] == '#' ? MB_LINE_SKIP : MB_LINE_TASK;
    if (*kind == MB_LINE_TASK || len - i < wlen || memcmp(line + i, word, wlen) != 0 ||
        (len - i > wlen && !blank(line[i + wlen])))
        return MB_OK;
    return parse_directive(line + i + wlen, len - i - wlen, kind, d);
}

mb_err mb_commands_classify(const char *line, size_t len, mb_commands_kind *kind)
{
    mb_directive d;
    return mb_commands_parse(line, len, kind, &d);
}

void mb_commands_tag(uint64_t lineno, char tag[MB_COMMANDS_TAG])
{
    for (int i = 0; i < MB_COMMANDS_TAG; i++)
        tag[i] = (char)(unsigned char)(lineno >> (8 * i));
}

int mb_commands_untag(const char *payload, size_t len, uint64_t *lineno, const char **line,
                      size_t *linelen)
{
    uint64_t n = 0;
    if (len < MB_COMMANDS_TAG)
        return 0;
    for (int i = MB_COMMANDS_TAG - 1; i >= 0; i--)
        n = n << 8 | (unsigned char)payload[i];
    *lineno = n;
    *line = payload + MB_COMMANDS_TAG;
    *linelen = len - MB_COMMANDS_TAG;
    return 1;
}

/* ---- templates ---------------------------------------------------------- */

mb_err mb_commands_template_init(mb_commands_template *t, const char *text, const char *colsep)
{
    memset(t, 0, sizeof *t);
    t->text = text;
    if (!colsep)
        return MB_OK;
    /* "\t" for a tab: what users of GNU parallel write. */
    size_t n = strlen(colsep);
    char *re = malloc(n + 1), *w = re;
    if (!re)
        return mb_error_set(MB_ERR_NOMEM, "out of memory");
    for (const char *p = colsep; *p; p++)
        if (p[0] == '\\' && p[1] == 't') {
            *w++ = '\t';
            p++;
        } else
            *w++ = *p;
    *w = '\0';
    int err = regcomp(&t->sep, re, REG_EXTENDED);
    free(re);
    if (err != 0) {
        char why[128];
        regerror(err, &t->sep, why, sizeof why);
        return mb_error_set(MB_ERR_USAGE, "'colsep' '%s' is not a regular expression: %s", colsep,
                            why);
    }
    t->colsep = 1;
    if (regexec(&t->sep, "", 0, NULL, 0) == 0)
        return mb_error_set(MB_ERR_USAGE, "'colsep' '%s' matches the empty string", colsep);
    return MB_OK;
}

void mb_commands_template_free(mb_commands_template *t)
{
    if (t->colsep)
        regfree(&t->sep);
    t->colsep = 0;
}

enum { OP_ALL, OP_NOEXT, OP_BASE, OP_DIR, OP_BASE_NOEXT, OP_SEQ };

typedef struct span {
    const char *p;
    size_t n;
} span;

/* The replacement string at p, if any: its length, column (0: the whole
 * line) and operation. */
static int parse_hole(const char *p, size_t *used, unsigned long *col, int *op)
{
    static const struct { const char *s; int op; } ops[] = {
        {"}", OP_ALL}, {".}", OP_NOEXT}, {"/}", OP_BASE}, {"//}", OP_DIR}, {"/.}", OP_BASE_NOEXT},
    };
    const char *q = p + 1;
    unsigned long n = 0;
    if (p[0] != '{')
        return 0;
    if (q[0] == '#' && q[1] == '}') {
        *used = 3, *col = 0, *op = OP_SEQ;
        return 1;
    }
    for (int digits = 0; *q >= '0' && *q <= '9'; q++)
        if (++digits > 9)
            return 0;
        else
            n = n * 10 + (unsigned long)(*q - '0');
    if (q > p + 1 && n == 0)
        return 0; /* {0} is text */
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (strncmp(q, ops[i].s, strlen(ops[i].s)) == 0) {
            *used = (size_t)(q - p) + strlen(ops[i].s);
            *col = n;
            *op = ops[i].op;
            return 1;
        }
    return 0;
}

/* Without the extension: from the last '.' on, unless a '/' follows it. */
static span noext(span s)
{
    for (size_t i = s.n; i-- > 0;)
        if (s.p[i] == '/')
            break;
        else if (s.p[i] == '.')
            return (span){s.p, i};
    return s;
}

static span base(span s)
{
    for (size_t i = s.n; i-- > 0;)
        if (s.p[i] == '/')
            return (span){s.p + i + 1, s.n - i - 1};
    return s;
}

/* Perl's dirname, which GNU parallel uses: trailing slashes do not count,
 * "." without a directory, "/" for the root. */
static span dir(span s)
{
    while (s.n > 1 && s.p[s.n - 1] == '/')
        s.n--;
    size_t i = s.n;
    while (i > 0 && s.p[i - 1] != '/')
        i--;
    if (i == 0)
        return s.n == 1 && s.p[0] == '/' ? (span){"/", 1} : (span){".", 1};
    while (i > 0 && s.p[i - 1] == '/')
        i--;
    return i == 0 ? (span){"/", 1} : (span){s.p, i};
}

/* Column k (1-based) of line buf[0..len), NUL-terminated; 0 when the line
 * has fewer, with their count in *ncols. */
static int column(const mb_commands_template *t, const char *buf, size_t len, unsigned long k,
                  span *out, unsigned long *ncols)
{
    size_t start = 0;
    for (unsigned long i = 1;; i++) {
        regmatch_t m;
        if (!t->colsep || regexec(&t->sep, buf + start, 1, &m, start ? REG_NOTBOL : 0) != 0 ||
            m.rm_eo == m.rm_so) {
            *out = (span){buf + start, len - start};
            *ncols = i;
            return i == k;
        }
        if (i == k) {
            *out = (span){buf + start, (size_t)m.rm_so};
            return 1;
        }
        start += (size_t)m.rm_eo;
    }
}

/* Append s at *at when out is not NULL and it fits; *at counts on (up to
 * one past MB_COMMANDS_MAX) either way. */
static void put(char *out, size_t *at, span s)
{
    if (*at > MB_COMMANDS_MAX || s.n > MB_COMMANDS_MAX - *at) {
        *at = MB_COMMANDS_MAX + 1;
        return;
    }
    if (out)
        memcpy(out + *at, s.p, s.n);
    *at += s.n;
}

/* The value of one replacement string into out (NULL: only count). */
static mb_err fill(const mb_commands_template *t, uint64_t seq, const char *buf, size_t len,
                   unsigned long col, int op, char *out, size_t *at)
{
    span s = {buf, len};
    unsigned long ncols;
    if (op == OP_SEQ) {
        char num[24];
        put(out, at, (span){num, (size_t)snprintf(num, sizeof num, "%llu", (unsigned long long)seq)});
        return MB_OK;
    }
    if (col == 0 && op == OP_ALL && t->colsep) {
        /* GNU parallel: {} with --colsep is the columns joined by spaces. */
        for (unsigned long k = 1; column(t, buf, len, k, &s, &ncols); k++) {
            if (k > 1)
                put(out, at, (span){" ", 1});
            put(out, at, s);
        }
        return MB_OK;
    }
    if (col > 0 && !column(t, buf, len, col, &s, &ncols))
        return mb_error_set(MB_ERR_INPUT, "the line has %lu column%s but the command uses {%lu}",
                            ncols, ncols == 1 ? "" : "s", col);
    s = op == OP_NOEXT ? noext(s) : op == OP_BASE ? base(s) : op == OP_DIR ? dir(s)
        : op == OP_BASE_NOEXT ? noext(base(s)) : s;
    put(out, at, s);
    return MB_OK;
}

/* The template filled in for line buf[0..len) into out (NULL: only
 * count); *at ends at the command's length. */
static mb_err render(const mb_commands_template *t, uint64_t seq, const char *buf, size_t len,
                     char *out, size_t *at)
{
    *at = 0;
    for (const char *p = t->text; *p;) {
        size_t used;
        unsigned long col;
        int op;
        if (!parse_hole(p, &used, &col, &op)) {
            put(out, at, (span){p++, 1});
            continue;
        }
        mb_err rc = fill(t, seq, buf, len, col, op, out, at);
        if (rc != MB_OK)
            return rc;
        p += used;
    }
    return MB_OK;
}

int mb_commands_template_has_holes(const char *text)
{
    size_t used;
    unsigned long col;
    int op;
    for (const char *p = text; *p; p++)
        if (parse_hole(p, &used, &col, &op))
            return 1;
    return 0;
}

mb_err mb_commands_expand(const mb_commands_template *t, uint64_t seq, const char *line,
                          size_t len, char **cmd)
{
    char *buf = NULL, *out = NULL;
    size_t n;
    mb_err rc = MB_OK;
    *cmd = NULL;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (memchr(line, '\0', len))
        return mb_error_set(MB_ERR_INPUT, "the line holds a NUL byte");
    if (!(buf = malloc(len + 1)))
        return mb_error_set(MB_ERR_NOMEM, "out of memory for a command");
    memcpy(buf, line, len);
    buf[len] = '\0';
    if (!t->text && len <= MB_COMMANDS_MAX) {
        *cmd = buf; /* the line is the command */
        return MB_OK;
    }
    n = len;
    if (t->text && (rc = render(t, seq, buf, len, NULL, &n)) != MB_OK)
        goto out;
    if (n > MB_COMMANDS_MAX) {
        rc = mb_error_set(MB_ERR_INPUT, "the command is longer than %d bytes", MB_COMMANDS_MAX);
        goto out;
    }
    if (!(out = malloc(n + 1))) {
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory for a command");
        goto out;
    }
    render(t, seq, buf, len, out, &n);
    out[n] = '\0';
    *cmd = out;
out:
    free(buf);
    return rc;
}
