/*
 * read_blocks.c — the plain reader: execute one raster's plan through
 * GDAL, each touched block read once and its points' values scattered
 * into the value columns.
 *
 * The design: one pool task per touched block (for a remote raster, per
 * run of up to 16 consecutive blocks, so that GDAL's read-ahead merges
 * requests; rp_extract_run_length). A worker opens its own dataset handle
 * in its own thread (read_common.c; never shared), keeps one block buffer
 * and one mask buffer, and for every band column reads the block with
 * GDALReadBlock (the whole-block path; for pixel-interleaved GeoTIFFs GDAL
 * decodes the tile once for all bands). A band whose block size differs
 * from the plan's grid is read through RasterIO over the same window into
 * the same layout. Values are copied in the band's own type, so every type
 * is carried exactly.
 *
 * Each point index belongs to exactly one block, so workers write disjoint
 * elements of the columns and need no lock. A block that cannot be opened
 * or read marks only its points `error` (read_common.h); the first
 * failures go to the log.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "extract_internal.h"
#include "pixel.h"
#include "pool.h"
#include "read_common.h"
#include "remote.h"

typedef struct read_job {
    const rp_raster_info *raster;
    const rp_plan *plan;
    rp_value_column *const *columns;
    int ncolumns;
    const rp_extract_options *opts;
    size_t buffer_bytes; /* largest block of any column */
    atomic_uint_least64_t blocks_read;
    atomic_uint_least64_t blocks_failed;
    rp_failure_log failures;
    size_t run_length; /* blocks a task: 1, or a run of a remote file */
} read_job;

/* Builds a worker's buffers. The dataset is opened on the worker's first
 * block, so threads that get no block open nothing. */
static rp_status worker_begin(void *ctx, int index, void **state, rp_error *err) {
    (void)index;
    read_job *job = ctx;
    const rp_grid *g = &job->raster->grid;
    return rp_read_worker_begin(job->opts, job->opts->max_open_per_worker, job->buffer_bytes,
                                (size_t)(g->block_w * g->block_h), state, err);
}

static void worker_end(void *ctx, void *state) {
    (void)ctx;
    rp_read_worker_end(state);
}

/* The window of block (bx, by) of the plan's grid, clipped to the raster. */
static void block_window(const rp_grid *g, int64_t bx, int64_t by, int *xoff, int *yoff, int *w,
                         int *h) {
    *xoff = (int)(bx * g->block_w);
    *yoff = (int)(by * g->block_h);
    *w = (int)(g->width - *xoff < g->block_w ? g->width - *xoff : g->block_w);
    *h = (int)(g->height - *yoff < g->block_h ? g->height - *yoff : g->block_h);
}

/* What one column's read of one block needs. */
typedef struct block_read {
    const rp_grid *grid;
    const rp_band_info *info;
    const rp_plan_block *block;
    bool read_mask; /* the mask too (not yet read for this block) */
} block_read;

/* Reads one band's block into w->block laid out block_w wide, and its
 * mask into w->mask when asked. */
static CPLErr read_band_block(GDALRasterBandH band, rp_read_worker *w, void *ctx) {
    const block_read *r = ctx;
    const rp_grid *g = r->grid;
    const rp_band_info *info = r->info;
    int xoff, yoff, bw, bh;
    block_window(g, r->block->block_x, r->block->block_y, &xoff, &yoff, &bw, &bh);
    CPLErr e;
    if (info->block_w == g->block_w && info->block_h == g->block_h)
        e = GDALReadBlock(band, (int)r->block->block_x, (int)r->block->block_y, w->block);
    else
        e = GDALRasterIOEx(band, GF_Read, xoff, yoff, bw, bh, w->block, bw, bh, info->type,
                           info->type_size, (GSpacing)info->type_size * g->block_w, NULL);
    if (e == CE_None && r->read_mask)
        e = GDALRasterIOEx(GDALGetMaskBand(band), GF_Read, xoff, yoff, bw, bh, w->mask, bw, bh,
                           GDT_Byte, 1, g->block_w, NULL);
    return e;
}

static void scatter(const read_job *job, const rp_plan_block *b, rp_value_column *col,
                    const unsigned char *block, const unsigned char *mask, bool failed) {
    const rp_plan *plan = job->plan;
    const rp_grid *g = &job->raster->grid;
    size_t ts = (size_t)col->band.type_size;
    for (size_t k = 0; k < b->count; k++) {
        uint32_t idx = plan->order[b->start + k];
        if (failed) {
            col->status[idx] = RP_POINT_ERROR;
            continue;
        }
        size_t off = rp_plan_offset_in_block(g, plan->cell[idx]);
        const unsigned char *p = block + off * ts;
        memcpy(col->values + (size_t)idx * ts, p, ts);
        bool masked = mask && mask[off] == 0;
        col->status[idx] =
            (masked || rp_pixel_is_nodata(&col->band, p)) ? RP_POINT_NODATA : RP_POINT_OK;
    }
}

/* The failed bands of one block, said in one message (so the messages
 * count what the summary counts: unreadable blocks). */
typedef struct block_failures {
    char bands[160];
    char why[sizeof((rp_read_worker *)0)->why];
    int n;
} block_failures;

static void add_failure(block_failures *f, int band, const char *why) {
    size_t used = strlen(f->bands);
    if (used + 16 < sizeof f->bands)
        snprintf(f->bands + used, sizeof f->bands - used, "%s%d", f->n ? ", " : "", band);
    else if (!strstr(f->bands, "..."))
        snprintf(f->bands + used, sizeof f->bands - used, ", ...");
    if (!f->n)
        snprintf(f->why, sizeof f->why, "%s", why);
    f->n++;
}

static void read_block(read_job *job, rp_read_worker *w, size_t index) {
    const rp_plan_block *b = &job->plan->blocks[index];
    block_failures failed = {.n = 0};
    bool have_dataset_mask = false; /* a per-dataset mask is read once a block */
    for (int c = 0; c < job->ncolumns; c++) {
        rp_value_column *col = job->columns[c];
        bool shared = col->band.mask_per_dataset;
        block_read r = {.grid = &job->raster->grid,
                        .info = &col->band,
                        .block = b,
                        .read_mask = col->band.read_mask && !(shared && have_dataset_mask)};
        bool ok = rp_read_retrying(w, job->raster->path, col->band.band, read_band_block, &r);
        if (ok && r.read_mask)
            have_dataset_mask = shared;
        if (!ok)
            add_failure(&failed, col->band.band, w->why[0] ? w->why : "read failed");
        scatter(job, b, col, w->block, col->band.read_mask ? w->mask : NULL, !ok);
    }
    if (failed.n)
        rp_failure_log_add(&job->failures, "block x=%lld y=%lld (band%s %s): cannot read: %s",
                           (long long)b->block_x, (long long)b->block_y, failed.n > 1 ? "s" : "",
                           failed.bands, failed.why);
    atomic_fetch_add(failed.n ? &job->blocks_failed : &job->blocks_read, 1);
}

/* Task k reads blocks [k * run_length, (k + 1) * run_length). */
static rp_status run_block(void *ctx, void *state, size_t task, rp_error *err) {
    (void)err;
    read_job *job = ctx;
    size_t first = task * job->run_length;
    for (size_t i = first; i < first + job->run_length && i < job->plan->nblocks; i++)
        read_block(job, state, i);
    return RP_OK;
}

rp_status rp_extract_read_blocks(rp_pool *pool, const rp_raster_info *raster, const rp_plan *plan,
                                 rp_value_column *const *columns, int ncolumns,
                                 const rp_extract_options *opts, rp_extract_read_stats *stats,
                                 rp_error *err) {
    read_job job = {.raster = raster,
                    .plan = plan,
                    .columns = columns,
                    .ncolumns = ncolumns,
                    .opts = opts,
                    .run_length = 1};
    if (rp_path_is_remote(raster->path)) /* blocks are in row-major (file) order */
        job.run_length = rp_extract_run_length(plan->nblocks, rp_pool_threads(pool));
    const rp_grid *g = &raster->grid;
    /* every band lands in the grid's block layout (read_band_block) */
    for (int c = 0; c < ncolumns; c++) {
        size_t bytes = (size_t)(g->block_w * g->block_h) * (size_t)columns[c]->band.type_size;
        if (bytes > job.buffer_bytes)
            job.buffer_bytes = bytes;
    }
    atomic_init(&job.blocks_read, 0);
    atomic_init(&job.blocks_failed, 0);
    rp_failure_log_init(&job.failures, opts->log, raster->path, "blocks");
    rp_pool_job pj = {
        .ntasks = (plan->nblocks + job.run_length - 1) / job.run_length,
        .ctx = &job,
        .begin = worker_begin,
        .run = run_block,
        .end = worker_end,
        .progress = opts->progress,
        .progress_user = opts->progress_user,
        .progress_message = rp_read_basename(raster->path),
    };
    rp_status rc = plan->nblocks ? rp_pool_run(pool, &pj, err) : RP_OK;
    rp_failure_log_destroy(&job.failures);
    stats->blocks_read += atomic_load(&job.blocks_read);
    stats->blocks_failed += atomic_load(&job.blocks_failed);
    return rc;
}
