/* exec_rerun.c - the failed tasks of an earlier exec output (exec_rerun.h). */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5util.h"
#include "kernels/exec_rerun.h"

enum { CMD_BYTES = 256 };  /* exec's command field: 32 words, 255 bytes kept */

void mb_exec_rerun_free(mb_exec_rerun *r)
{
    for (size_t i = 0; r->commands && i < r->n; i++)
        free(r->commands[i]);
    free(r->commands);
    free(r->lines);
    free(r->tasks);
    memset(r, 0, sizeof *r);
}

static mb_err h5_fail(const char *path, const char *what)
{
    char why[256];
    return mb_error_set(MB_ERR_INPUT, "'%s': %s: %s", path, what, mb_h5_reason(why, sizeof why));
}

/* The failed task ids, ascending and each once. */
static mb_err failed_tasks(hid_t f, const char *path, uint64_t **tasks, size_t *n)
{
    hid_t d = H5Lexists(f, "/failures", H5P_DEFAULT) > 0 &&
                      H5Lexists(f, "/failures/task", H5P_DEFAULT) > 0
                  ? H5Dopen2(f, "/failures/task", H5P_DEFAULT) : H5I_INVALID_HID;
    hid_t s = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
    hssize_t m = s >= 0 ? H5Sget_simple_extent_npoints(s) : 0;
    mb_err rc = MB_OK;
    *tasks = NULL;
    *n = 0;
    if (m > 0 && !(*tasks = malloc((size_t)m * sizeof **tasks)))
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory");
    else if (m > 0 && H5Dread(d, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, *tasks) < 0)
        rc = h5_fail(path, "cannot read /failures/task");
    for (hssize_t i = 0; rc == MB_OK && i < m; i++) /* written in task order */
        if (*n == 0 || (*tasks)[*n - 1] < (*tasks)[i])
            (*tasks)[(*n)++] = (*tasks)[i];
    if (rc == MB_OK && *n == 0)
        rc = mb_error_set(MB_ERR_INPUT, "'%s' records no failed tasks: nothing to run again", path);
    if (s >= 0)
        H5Sclose(s);
    if (d >= 0)
        H5Dclose(d);
    return rc;
}

/* Element `task` of 1-D dataset d into buf, as memory type t. */
static herr_t read_one(hid_t d, hid_t t, uint64_t task, void *buf)
{
    hid_t fs = H5Dget_space(d);
    hsize_t start = task, one = 1;
    hid_t ms = H5Screate_simple(1, &one, NULL);
    herr_t e = fs < 0 || ms < 0 ? -1
               : H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &one, NULL);
    if (e >= 0)
        e = H5Dread(d, t, ms, fs, H5P_DEFAULT, buf);
    if (ms >= 0)
        H5Sclose(ms);
    if (fs >= 0)
        H5Sclose(fs);
    return e;
}

static int by_line(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Lines and commands of the failed tasks, sorted by line. */
static mb_err read_tasks(hid_t f, const char *path, const uint64_t *tasks, mb_exec_rerun *r)
{
    hid_t line = H5Dopen2(f, "/results/line", H5P_DEFAULT);
    hid_t cmd = line >= 0 ? H5Dopen2(f, "/results/command", H5P_DEFAULT) : H5I_INVALID_HID;
    hid_t st = H5Tcopy(H5T_C_S1);
    uint64_t (*pairs)[2] = malloc(r->n * sizeof *pairs);
    char (*text)[CMD_BYTES] = malloc(r->n * sizeof *text);
    mb_err rc = MB_OK;
    H5Tset_size(st, H5T_VARIABLE); /* output.c writes strings as variable-length UTF-8 */
    H5Tset_cset(st, H5T_CSET_UTF8);
    if (line < 0 || cmd < 0)
        rc = h5_fail(path, "cannot open /results/line and /results/command");
    else if (!pairs || !text || !(r->lines = calloc(r->n, sizeof *r->lines)) ||
             !(r->tasks = calloc(r->n, sizeof *r->tasks)) ||
             !(r->commands = calloc(r->n, sizeof *r->commands)))
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory");
    for (size_t i = 0; rc == MB_OK && i < r->n; i++) {
        int64_t l = 0;
        char *c = NULL;
        if (read_one(line, H5T_NATIVE_INT64, tasks[i], &l) < 0 || read_one(cmd, st, tasks[i], &c) < 0)
            rc = h5_fail(path, "cannot read the line and command of a failed task");
        pairs[i][0] = (uint64_t)l;
        pairs[i][1] = i;
        snprintf(text[i], CMD_BYTES, "%s", c ? c : "");
        H5free_memory(c);
    }
    if (rc == MB_OK)
        qsort(pairs, r->n, sizeof *pairs, by_line);
    for (size_t i = 0; rc == MB_OK && i < r->n; i++) {
        r->lines[i] = pairs[i][0];
        r->tasks[i] = tasks[pairs[i][1]];
        if (!(r->commands[i] = strdup(text[pairs[i][1]])))
            rc = mb_error_set(MB_ERR_NOMEM, "out of memory");
    }
    free(pairs);
    free(text);
    H5Tclose(st);
    if (cmd >= 0)
        H5Dclose(cmd);
    if (line >= 0)
        H5Dclose(line);
    return rc;
}

mb_err mb_exec_rerun_load(const char *path, mb_exec_rerun *r)
{
    const char *refused;
    uint64_t *tasks = NULL;
    mb_err rc;
    memset(r, 0, sizeof *r);
    r->path = path;
    mb_h5_quiet();
    hid_t f = mb_h5_open_read(path, &refused);
    if (f < 0)
        return refused ? mb_error_set(MB_ERR_INPUT, "cannot read '%s': %s", path, refused)
                       : h5_fail(path, "cannot open it as HDF5");
    if (H5Lexists(f, "/results", H5P_DEFAULT) <= 0 ||
        H5Lexists(f, "/results/line", H5P_DEFAULT) <= 0 ||
        H5Lexists(f, "/results/command", H5P_DEFAULT) <= 0)
        rc = mb_error_set(MB_ERR_INPUT, "'%s' has no /results/line and /results/command: not an "
                          "output of exec (of this version)", path);
    else
        rc = failed_tasks(f, path, &tasks, &r->n);
    if (rc == MB_OK)
        rc = read_tasks(f, path, tasks, r);
    free(tasks);
    H5Fclose(f);
    if (rc != MB_OK) {
        mb_exec_rerun_free(r);
        r->path = path;
    }
    return rc;
}

int mb_exec_rerun_same(const mb_exec_rerun *r, size_t i, const char *cmd)
{
    size_t n = strlen(r->commands[i]);
    return strncmp(r->commands[i], cmd, n) == 0 && (n == CMD_BYTES - 1 || cmd[n] == '\0');
}
