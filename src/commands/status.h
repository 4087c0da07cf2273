/* status.h - `mpibatch status FILE`: a job's status document for people.
 *
 * A running job with --status FILE rewrites FILE every few seconds
 * (progress.h); this command reads it, checks that it is one, and prints
 * it as text or renders a self-contained HTML page.
 */
#ifndef MPIBATCH_STATUS_H
#define MPIBATCH_STATUS_H

#include <stdio.h>
#include <cjson/cJSON.h>

#include "mpibatch/error.h"

/* Read and check the status document at path: every key the printers use
 * is present with its type.  The caller owns *doc (cJSON_Delete).  Errors
 * (MB_ERR_USAGE: a missing, unreadable or invalid file) name path. */
mb_err mb_status_load(const char *path, cJSON **doc);

/* A "running" document whose writer is gone: on rank 0's own host (the
 * document's "host") a "pid" that no longer exists turns the state into
 * "gone", with an "ending" that says so; elsewhere a last update older than
 * three rewrites and a minute adds "stale_seconds". */
void mb_status_judge_writer(cJSON *doc);

/* The document as text: counts, rate and ETA, slowest tasks, per-rank table. */
void mb_status_print(const cJSON *doc, const char *path, FILE *fp);

/* The document as one HTML page with inline CSS and no external resources;
 * every string from the document is escaped. */
void mb_status_html(const cJSON *doc, const char *path, FILE *fp);

/* text with & < > " ' replaced by their HTML entities. */
void mb_status_escape_html(const char *text, FILE *fp);

#endif
