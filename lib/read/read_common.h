/*
 * read_common.h — the block reader core that extract's two readers and
 * zonal's block reader share (read_common.c): a worker's state, the
 * failure log, the one retried block read with the one failure policy,
 * and the remote policy (I/O workers, merged runs of blocks, open files).
 *
 * The policy: a block or source that cannot be opened, reopened or read
 * fails only its own points (status error) and counts as a failed block;
 * the job goes on. The first few failures are named on the log.
 */
#ifndef RP_READ_COMMON_H
#define RP_READ_COMMON_H
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <gdal.h>

#include "gdal_errors.h"
#include "handles.h"
#include "rasterpool.h"

/* Failures named on the log per raster; later ones are only counted. */
enum { RP_READ_MAX_LOGGED_FAILURES = 10 };

/* The failure messages of one raster's read, shared by all workers under
 * one lock. */
typedef struct rp_failure_log {
    FILE *log;          /* NULL: nothing is written */
    const char *raster; /* the raster's path, named first on each line */
    const char *what;   /* what fails, for the line after the limit ("blocks") */
    pthread_mutex_t lock;
    int logged;
} rp_failure_log;

void rp_failure_log_init(rp_failure_log *fl, FILE *log, const char *raster, const char *what);
void rp_failure_log_destroy(rp_failure_log *fl);
/* Writes "rasterpool: RASTER: <text>" while under the limit (one line
 * about the rest when it is reached). Any thread. */
void rp_failure_log_add(rp_failure_log *fl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One worker's state, built in its own thread (pool begin) and freed
 * there (pool end): its open datasets, one block buffer, one mask buffer,
 * and its GDAL message capture. */
typedef struct rp_read_worker {
    rp_handles *handles;
    unsigned char *block;
    unsigned char *mask; /* NULL when the job reads no masks */
    rp_gdal_capture capture;
    bool open_failed; /* the last rp_read_retrying failed to open the file */
    char why[1024];   /* the last failure's reason */
} rp_read_worker;

/* Pool begin: applies the job's --config (config: nconfig KEY, VALUE
 * pairs; with rasterpool's network defaults when remote) to this thread,
 * keeps at most max_open datasets open, allocates the buffers (mask_bytes
 * 0: none). The worker's thread-local --config stays set at the end: pool
 * threads only ever work for this job's options, and the caller's own
 * settings must survive when the pool runs inline on the caller's thread. */
rp_status rp_read_worker_begin(char *const *config, int nconfig, bool remote, int max_open,
                               size_t block_bytes, size_t mask_bytes, void **state, rp_error *err);
/* Pool end. NULL is a no-op. */
void rp_read_worker_end(void *state);

/* Reads from one band into the worker's buffers (the reader's own code). */
typedef CPLErr (*rp_band_read_fn)(GDALRasterBandH band, rp_read_worker *w, void *ctx);

/* Opens path (from the worker's handles) and runs read on its band
 * `band`, with GDAL's messages captured. A read that fails, or that
 * succeeds after a connection failed on the way (GDAL may then hand back
 * zeros: remote.c), is tried again on a fresh handle while
 * rp_remote_retry allows; a suspect success left is a failure. Returns
 * true on success; false with w->why (and w->open_failed when the file or
 * band could not be opened). The caller then fails that read's points. */
bool rp_read_retrying(rp_read_worker *w, const char *path, int band, rp_band_read_fn read,
                      void *ctx);

/* Remote reads wait on the network, not on a core: a job that reads
 * remote files runs this many workers by default (extract: --io-threads). */
#define RP_READ_IO_THREADS 32
#define RP_READ_MAX_IO_THREADS 256

/* Runs of horizontally adjacent touched blocks of a remote raster are read
 * with one RasterIO, so GDAL merges their tiles' range requests into one
 * GET. The longest run: as many blocks of block_bytes as RP_READ_RUN_BYTES
 * holds, at least 1. */
#define RP_READ_RUN_BYTES ((size_t)2 << 20)
size_t rp_read_block_run_length(size_t block_bytes);

/* Whether a RasterIO over `count` blocks of one block row from (bx, by) of
 * a GeoTIFF band makes GDAL's GTiff driver ask for one single byte range:
 * each block stored right after the one before it (no gap, or, in a COG,
 * the 8 bytes of the next block's leader and the last one's trailer, which
 * the driver reads with them). Sparse or unknown blocks: false. */
bool rp_read_run_is_one_range(GDALRasterBandH band, int bx, int by, int count);

/* Datasets one of `threads` workers may keep open: wanted (<= 0: 64),
 * lowered so that all workers together stay well under the open-files
 * limit (a quarter and 32 are kept for GDAL's own files, the output...). */
int rp_read_open_budget(int wanted, int threads);

/* "dir/name.tif" -> "name.tif", for progress messages. */
const char *rp_read_basename(const char *path);

#endif
