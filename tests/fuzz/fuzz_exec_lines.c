/* fuzz_exec_lines.c - the exec kernel's commands and args files, line by
 * line.  With the first byte odd, the input's first line is a --command
 * template; with its bit 2 set, lines split into columns at ','.  Tags
 * round-trip; lines classify without crashing; an expanded command stays
 * under the limit and, for a template whose only '{' are "{}", has exactly
 * the length the template and line predict. */
#include <stdlib.h>
#include <string.h>

#include "kernels/exec_lines.h"
#include "fuzz.h"

/* Non-overlapping "{}" in tmpl, counted left to right as expand does;
 * SIZE_MAX when another '{' could start a replacement string. */
static size_t holes(const char *tmpl)
{
    size_t k = 0, braces = 0;
    for (const char *p = tmpl; (p = strstr(p, "{}")) != NULL; p += 2)
        k++;
    for (const char *p = tmpl; (p = strchr(p, '{')) != NULL; p++)
        braces++;
    return braces == k ? k : SIZE_MAX;
}

static void one_line(const mb_commands_template *t, const char *line, size_t len,
                     uint64_t lineno)
{
    const char *tmpl = t->text;
    mb_commands_kind kind;
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
    if (mb_commands_classify(line, len, &kind) == MB_OK && kind == MB_LINE_TASK &&
        mb_commands_expand(t, lineno, line, len, &cmd) == MB_OK) {
        size_t l = len - (len > 0 && line[len - 1] == '\r'), k = tmpl ? holes(tmpl) : 0;
        want = !tmpl ? l : k == SIZE_MAX || t->colsep ? strlen(cmd)
                                                      : strlen(tmpl) + k * l - 2 * k;
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
    mb_commands_template t;
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
    fuzz_check(mb_commands_template_init(&t, tmpl, tmpl && (data[0] & 2) ? "," : NULL) == MB_OK,
               "a template refused");
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        one_line(&t, p, len, lineno++);
        p += len + (nl != NULL);
    }
    mb_commands_template_free(&t);
    free(text);
    return 0;
}
