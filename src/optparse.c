/* optparse.c - typed option tables shared by flags and JSON job specs. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpibatch/options.h"
#include "optparse.h"

const mb_option *mb_options_find(const mb_option *const *tables, const char *name)
{
    for (size_t t = 0; tables[t]; t++)
        for (const mb_option *o = tables[t]; o->name; o++)
            if (strcmp(o->name, name) == 0)
                return o;
    return NULL;
}

/* Levenshtein distance between a and b, or a large number when either is
 * longer than the longest option name worth comparing. */
static size_t edit_distance(const char *a, const char *b)
{
    enum { MAXLEN = 40 };
    size_t la = strlen(a), lb = strlen(b), row[MAXLEN + 1];
    if (la > MAXLEN || lb > MAXLEN)
        return (size_t)-1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

/* How far candidate is from name: the edit distance, scaled so that a
 * longer common prefix breaks ties ("retry" is nearer "retries" than
 * "report"); (size_t)-1 when they differ in more than half the longer
 * one's letters, too far to be a misspelling. */
static size_t closeness(const char *name, const char *candidate)
{
    size_t d = edit_distance(name, candidate), la = strlen(name), lb = strlen(candidate);
    size_t limit = (la > lb ? la : lb) / 2, prefix = 0;
    if (d > (limit > 1 ? limit : 1))
        return (size_t)-1;
    while (prefix < 63 && name[prefix] && name[prefix] == candidate[prefix])
        prefix++;
    return d * 64 + (63 - prefix);
}

const char *mb_options_suggest(const mb_option *const *tables, const char *const *extra,
                               const char *name)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1, d;
    for (size_t t = 0; tables[t]; t++)
        for (const mb_option *o = tables[t]; o->name; o++)
            if ((d = closeness(name, o->name)) < best_d) {
                best_d = d;
                best = o->name;
            }
    for (size_t i = 0; extra && extra[i]; i++)
        if ((d = closeness(name, extra[i])) < best_d) {
            best_d = d;
            best = extra[i];
        }
    return best;
}

const char *mb_options_clash(const mb_option *const *tables)
{
    for (size_t t = 0; tables[t]; t++)
        for (const mb_option *o = tables[t]; o->name; o++)
            for (size_t u = t; tables[u]; u++)
                for (const mb_option *p = u == t ? o + 1 : tables[u]; p->name; p++)
                    if (strcmp(o->name, p->name) == 0)
                        return o->name;
    return NULL;
}

static int choice_ok(const char *choices, const char *value)
{
    size_t len = strlen(value);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == len && strncmp(p, value, n) == 0)
            return 1;
        p += n + (bar != NULL);
    }
    return 0;
}

/* Range and integrality checks shared by both origins. */
static mb_err check_number(const mb_option *o, double v, const char *where)
{
    if (!isfinite(v))
        return mb_error_set(MB_ERR_USAGE, "%s: '%s' must be a finite number",
                            where, o->name);
    if (o->type == MB_OPT_INT && v != floor(v))
        return mb_error_set(MB_ERR_USAGE, "%s: '%s' must be a whole number, got %.17g",
                            where, o->name, v);
    if (v < o->min || v > o->max)
        return mb_error_set(MB_ERR_USAGE, "%s: '%s' must be between %.17g and %.17g, got %.17g",
                            where, o->name, o->min, o->max, v);
    return MB_OK;
}

static mb_err parse_number(const mb_option *o, const char *text, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(text, &end);
    if (end == text || *end != '\0')
        return mb_error_set(MB_ERR_USAGE, "option --%s: expected a number, got '%s'",
                            o->name, text);
    if (errno == ERANGE && fabs(*v) > 1.0)
        return mb_error_set(MB_ERR_USAGE, "option --%s: '%s' is out of range", o->name, text);
    return check_number(o, *v, "command line");
}

mb_err mb_options_parse_flag(const mb_option *o, const char *text, cJSON **out)
{
    double v;
    mb_err rc;
    *out = NULL;
    switch (o->type) {
    case MB_OPT_INT:
    case MB_OPT_NUM:
        if ((rc = parse_number(o, text, &v)) != MB_OK)
            return rc;
        *out = cJSON_CreateNumber(v);
        break;
    case MB_OPT_ENUM:
        if (!choice_ok(o->choices, text))
            return mb_error_set(MB_ERR_USAGE, "option --%s: '%s' is not one of %s",
                                o->name, text, o->choices);
        /* fall through */
    case MB_OPT_STR:
        *out = cJSON_CreateString(text);
        break;
    case MB_OPT_BOOL:
        if (strcmp(text, "true") && strcmp(text, "false"))
            return mb_error_set(MB_ERR_USAGE, "option --%s: expected true or false, got '%s'",
                                o->name, text);
        *out = cJSON_CreateBool(strcmp(text, "true") == 0);
        break;
    }
    return *out ? MB_OK : mb_error_set(MB_ERR_NOMEM, "out of memory parsing --%s", o->name);
}

static const char *type_word(mb_opt_type t)
{
    switch (t) {
    case MB_OPT_INT: return "an integer";
    case MB_OPT_NUM: return "a number";
    case MB_OPT_STR: return "a string";
    case MB_OPT_ENUM: return "a string";
    case MB_OPT_BOOL: return "true or false";
    }
    return "a value";
}

static mb_err check_value(const mb_option *o, const cJSON *item, const char *where)
{
    int ok;
    switch (o->type) {
    case MB_OPT_INT:
    case MB_OPT_NUM: ok = cJSON_IsNumber(item); break;
    case MB_OPT_BOOL: ok = cJSON_IsBool(item); break;
    default: ok = cJSON_IsString(item); break;
    }
    if (!ok)
        return mb_error_set(MB_ERR_USAGE, "%s: '%s' must be %s", where, o->name, type_word(o->type));
    if (o->type == MB_OPT_INT || o->type == MB_OPT_NUM)
        return check_number(o, item->valuedouble, where);
    if (o->type == MB_OPT_ENUM && !choice_ok(o->choices, item->valuestring))
        return mb_error_set(MB_ERR_USAGE, "%s: '%s' is '%s', not one of %s",
                            where, o->name, item->valuestring, o->choices);
    return MB_OK;
}

static int skipped(const char *const *skip, const char *name)
{
    for (size_t i = 0; skip && skip[i]; i++)
        if (strcmp(skip[i], name) == 0)
            return 1;
    return 0;
}

static mb_err add_defaults(cJSON *spec, const mb_option *const *tables)
{
    for (size_t t = 0; tables[t]; t++)
        for (const mb_option *o = tables[t]; o->name; o++) {
            cJSON *v;
            mb_err rc;
            if (!o->defval || cJSON_GetObjectItemCaseSensitive(spec, o->name))
                continue;
            if ((rc = mb_options_parse_flag(o, o->defval, &v)) != MB_OK)
                return mb_error_set(MB_ERR_INTERNAL, "bad default for '%s': %s",
                                    o->name, mb_error_message());
            cJSON_AddItemToObject(spec, o->name, v);
        }
    return MB_OK;
}

mb_err mb_options_validate(cJSON *spec, const mb_option *const *tables,
                           const char *const *skip, const char *where)
{
    const cJSON *item;
    const char *clash = mb_options_clash(tables);
    /* One key would set two options at once (a plug-in kernel's option
     * named like a common one): refuse rather than guess. */
    if (clash)
        return mb_error_set(MB_ERR_USAGE, "%s: option '%s' is defined twice "
                            "(the kernel's options clash with mpibatch's own)", where, clash);
    if (!cJSON_IsObject(spec))
        return mb_error_set(MB_ERR_USAGE, "%s: the job spec must be a JSON object", where);
    cJSON_ArrayForEach(item, spec) {
        const mb_option *o;
        mb_err rc;
        if (skipped(skip, item->string))
            continue;
        if (!(o = mb_options_find(tables, item->string))) {
            const char *near = mb_options_suggest(tables, skip, item->string);
            if (near)
                return mb_error_set(MB_ERR_USAGE, "%s: unknown key '%s' (did you mean '%s'?)",
                                    where, item->string, near);
            return mb_error_set(MB_ERR_USAGE, "%s: unknown key '%s'", where, item->string);
        }
        if ((rc = check_value(o, item, where)) != MB_OK)
            return rc;
    }
    return add_defaults(spec, tables);
}

void mb_options_print_help(const mb_option *table, FILE *fp)
{
    for (const mb_option *o = table; o->name; o++) {
        char left[64];
        if (o->type == MB_OPT_BOOL)
            snprintf(left, sizeof left, "--%s", o->name);
        else
            snprintf(left, sizeof left, "--%s %s", o->name,
                     o->type == MB_OPT_ENUM ? o->choices : (o->meta ? o->meta : "X"));
        fprintf(fp, "  %-26s %s", left, o->help);
        if (o->defval && o->type != MB_OPT_BOOL)
            fprintf(fp, " [default: %s]", o->defval);
        fputc('\n', fp);
    }
}
