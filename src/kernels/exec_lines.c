/* commands.c - classify, tag and expand the lines of a commands file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/exec_lines.h"

int mb_commands_is_task(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')
            continue;
        return line[i] != '#';
    }
    return 0;
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

/* Bytes of tmpl with every "{}" replaced by an argument of arglen bytes,
 * or SIZE_MAX past MB_COMMANDS_MAX (computed first so nothing overflows). */
static size_t expanded_len(const char *tmpl, size_t arglen)
{
    size_t n = 0;
    for (const char *p = tmpl; *p;) {
        int hole = p[0] == '{' && p[1] == '}';
        size_t add = hole ? arglen : 1;
        if (add > MB_COMMANDS_MAX - n)
            return SIZE_MAX;
        n += add;
        p += hole ? 2 : 1;
    }
    return n;
}

mb_err mb_commands_expand(const char *tmpl, const char *line, size_t len, char **cmd)
{
    *cmd = NULL;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (memchr(line, '\0', len))
        return mb_error_set(MB_ERR_INPUT, "the line holds a NUL byte");
    size_t n = tmpl ? expanded_len(tmpl, len) : len;
    if (n > MB_COMMANDS_MAX)
        return mb_error_set(MB_ERR_INPUT, "the command is longer than %d bytes", MB_COMMANDS_MAX);
    char *out = malloc(n + 1), *w = out;
    if (!out)
        return mb_error_set(MB_ERR_NOMEM, "out of memory for a command");
    if (!tmpl) {
        memcpy(out, line, len);
        w += len;
    } else {
        for (const char *p = tmpl; *p; p++)
            if (p[0] == '{' && p[1] == '}') {
                memcpy(w, line, len);
                w += len;
                p++;
            } else
                *w++ = *p;
    }
    *w = '\0';
    *cmd = out;
    return MB_OK;
}
