/* stage.c - local temporary files standing in for URLs. */
#define _DEFAULT_SOURCE /* mkstemps */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/transfer.h"
#include "stage.h"
#include "io/url.h"

/* A fresh temporary name in $TMPDIR keeping the URL's extension (not its
 * query), so format detection by name still works. */
static mb_err temp_file(const char *target, char **out)
{
    const char *dir = getenv("TMPDIR"), *dot = NULL;
    size_t end = strcspn(target, "?#"), ext;
    for (size_t i = 0; i < end; i++) /* the last '.' after the last '/' */
        dot = target[i] == '.' ? target + i : target[i] == '/' ? NULL : dot;
    ext = dot && target + end - dot <= 8 ? (size_t)(target + end - dot) : 0;
    size_t n = 64 + strlen(dir && *dir ? dir : "/tmp");
    char *path = malloc(n);
    int fd;
    if (!path)
        return mb_error_set(MB_ERR_NOMEM, "out of memory");
    snprintf(path, n, "%s/mpibatch-stage-XXXXXX%.*s", dir && *dir ? dir : "/tmp", (int)ext,
             target + end - ext);
    fd = mkstemps(path, (int)ext);
    if (fd < 0) {
        mb_err rc = mb_error_set(MB_ERR_IO, "cannot create a temporary file in %s: %s",
                                 dir && *dir ? dir : "/tmp", strerror(errno));
        free(path);
        return rc;
    }
    close(fd);
    *out = path;
    return MB_OK;
}

static mb_err stage(mb_staged *s, const char *target)
{
    mb_url u;
    mb_err rc;
    memset(s, 0, sizeof *s);
    if (!(s->target = strdup(target)))
        return mb_error_set(MB_ERR_NOMEM, "out of memory");
    s->remote = mb_url_is_remote(target);
    /* A URL's scheme and credentials are checked before any work; a local
     * target is its path (a file:// URL's without the scheme). */
    if ((rc = mb_url_parse(target, &u)) != MB_OK)
        return rc;
    if (!s->remote && !(s->local = strdup(u.path)))
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory");
    mb_url_free(&u);
    return rc == MB_OK && s->remote ? temp_file(target, &s->local) : rc;
}

mb_err mb_stage_output(mb_staged *s, const char *target)
{
    mb_err rc = stage(s, target);
    /* The writers create their own temporary name next to local and
     * rename onto it: the empty file mkstemps made must not be in the way. */
    if (rc == MB_OK && s->remote)
        unlink(s->local);
    return rc;
}

mb_err mb_stage_commit(mb_staged *s, const mb_url_opts *o)
{
    mb_err rc = s->remote ? mb_url_put(s->local, s->target, o) : MB_OK;
    if (s->remote)
        unlink(s->local);
    return rc;
}

mb_err mb_stage_input(mb_staged *s, const char *target, const mb_url_opts *o)
{
    mb_err rc = stage(s, target);
    return rc == MB_OK && s->remote ? mb_url_fetch(target, s->local, o, NULL) : rc;
}

void mb_stage_release(mb_staged *s)
{
    if (s->remote && s->local)
        unlink(s->local);
    free(s->target);
    free(s->local);
    memset(s, 0, sizeof *s);
}
