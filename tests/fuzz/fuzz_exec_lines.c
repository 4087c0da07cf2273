/* fuzz_commands.c - the exec kernel's commands and args files, line by
 * line.  With the first byte odd, the input's first line is a --command
 * template.  Tags round-trip; an expanded command holds no NUL, stays under
 * the limit and has exactly the length the template and line predict. */
#include <stdlib.h>
#include <string.h>

#include "kernels/exec_lines.h"
#include "fuzz.h"

/* Non-overlapping "{}" in tmpl, counted left to right as expand does. */
static size_t holes(const char *tmpl)
{
    size_t k = 0;
    for (const char *p = tmpl; (p = strstr(p, "{}")) != NULL; p += 2)
        k++;
    return k;
}

static void one_line(const char *tmpl, const char *line, size_t len, uint64_t lineno)
{
    char tag[MB_COMMANDS_TAG], *payload = malloc(MB_COMMANDS_TAG + len + 1), *cmd = NULL;
    const char *back;
    size_t backlen, want;
    uint64_t no;
    fuzz_check(payload != NULL, "out of memory");
    mb_commands_tag(lineno, tag);
    memcpy(payload, tag, sizeof tag);
    memcpy(payload + sizeof tag, line, len);
    fuzz_check(mb_commands_untag(payload, MB_COMMANDS_TAG + len, &no, &back, &backlen) &&
               no == lineno && backlen == len && memcmp(back, line, len) == 0,
               "a tagged line does not come back");
    if (mb_commands_is_task(line, len) && mb_commands_expand(tmpl, line, len, &cmd) == MB_OK) {
        size_t l = len - (len > 0 && line[len - 1] == '\r');
        want = tmpl ? strlen(tmpl) + holes(tmpl) * l - 2 * holes(tmpl) : l;
        fuzz_check(strlen(cmd) == want, "the command has the wrong length");
        fuzz_check(want <= MB_COMMANDS_MAX, "a command over the limit");
        fuzz_check(tmpl || memcmp(cmd, line, l) == 0, "the command is not the line");
    }
    free(cmd);
    free(payload);
    mb_error_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text, *tmpl = NULL, *p, *end;
    uint64_t lineno = 1;
    if (size < 1)
        return 0;
    text = fuzz_text(data + 1, size - 1);
    p = text;
    end = text + size - 1;
    if (data[0] & 1) {
        /* The template is a command-line argument: it ends at a NUL too. */
        char *nl = memchr(p, '\n', (size_t)(end - p));
        tmpl = p;
        p = nl ? nl + 1 : end;
        if (nl)
            *nl = '\0';
    }
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        one_line(tmpl, p, len, lineno++);
        p += len + (nl != NULL);
    }
    free(text);
    return 0;
}
