/* upload.h - putting a file's bytes at a URL (internal to src/io). */
#ifndef MPIBATCH_IO_UPLOAD_H
#define MPIBATCH_IO_UPLOAD_H

#include <stdint.h>
#include <stdio.h>

#include "mpibatch/error.h"
#include "io/url.h"
#include "io/transfer.h"

/* Upload size bytes of fp to the remote u: one PUT up to part_size (and
 * always for plain HTTP), else S3/GCS multipart or Azure blocks. */
mb_err mb_upload(const mb_url *u, FILE *fp, uint64_t size, const mb_url_opts *o);

#endif
