/*
 * extract_read.c — execute one raster's plan: each touched block is read
 * once and its points' values are scattered into the value columns.
 *
 * The design: one pool task per touched block (for a remote raster, per
 * run of up to 16 consecutive blocks, so that GDAL's read-ahead merges
 * requests; remote.c). A worker opens its own dataset handle in its own thread (handles.c; never
 * shared), keeps one block buffer and one mask buffer, and for every band column reads the block
 * with GDALReadBlock (the whole-block path; for pixel-interleaved GeoTIFFs GDAL decodes the tile
 * once for all bands). A band whose block size differs from the plan's grid is read through
 * RasterIO over the same window into the same layout. Values are copied in the band's own type, so
 * every type is carried exactly.
 *
 * Each point index belongs to exactly one block, so workers write disjoint
 * elements of the columns and need no lock. A block that cannot be read
 * marks only its points `error`; the first failures go to the log under a
 * mutex. Opening the raster failing in a worker stops the job.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "extract_internal.h"
#include "gdal_errors.h"
#include "handles.h"
#include "pool.h"
#include "remote.h"

enum { MAX_LOGGED_FAILURES = 10 };

typedef struct read_job {
    const rp_raster_info *raster;
    const rp_plan *plan;
    rp_value_column *const *columns;
    int ncolumns;
    const rp_extract_options *opts;
    size_t buffer_bytes; /* largest block of any column */
    atomic_uint_least64_t blocks_read;
    atomic_uint_least64_t blocks_failed;
    pthread_mutex_t log_lock;
    int failures_logged;
    size_t run_length; /* blocks a task: 1, or a run of a remote file (remote.c) */
} read_job;

typedef struct read_worker {
    rp_handles *handles;
    GDALDatasetH dataset;
    unsigned char *block;
    unsigned char *mask;
    rp_gdal_capture capture;
} read_worker;

/* Builds a worker's buffers. The dataset is opened on the worker's first
 * task, so threads that get no block open nothing. */
static rp_status worker_begin(void *ctx, int index, void **state, rp_error *err) {
    (void)index;
    read_job *job = ctx;
    rp_gdal_config_apply_remote((const char *const *)job->opts->config, job->opts->nconfig,
                                job->opts->remote, true);
    read_worker *w = calloc(1, sizeof *w);
    if (!w)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    *state = w;
    w->handles = rp_handles_new(job->opts->max_open_per_worker);
    w->block = malloc(job->buffer_bytes);
    const rp_grid *g = &job->raster->grid;
    w->mask = malloc((size_t)(g->block_w * g->block_h));
    if (!w->handles || !w->block || !w->mask)
        return rp_error_set(err, RP_NOMEM, "out of memory for block buffers");
    return RP_OK;
}

/* The worker's thread-local --config stays set: pool threads only ever
 * work for this job's options, and the caller's own settings must survive
 * when the pool runs inline on the caller's thread. */
static void worker_end(void *ctx, void *state) {
    (void)ctx;
    read_worker *w = state;
    if (!w)
        return;
    rp_handles_free(w->handles);
    free(w->block);
    free(w->mask);
    free(w);
}

/* The window of block (bx, by) of the plan's grid, clipped to the raster. */
static void block_window(const rp_grid *g, int64_t bx, int64_t by, int *xoff, int *yoff, int *w,
                         int *h) {
    *xoff = (int)(bx * g->block_w);
    *yoff = (int)(by * g->block_h);
    *w = (int)(g->width - *xoff < g->block_w ? g->width - *xoff : g->block_w);
    *h = (int)(g->height - *yoff < g->block_h ? g->height - *yoff : g->block_h);
}

/* Reads one band's block into buf laid out block_w wide. */
static CPLErr read_band_block(const rp_grid *g, GDALRasterBandH band, const rp_band_info *info,
                              const rp_plan_block *b, unsigned char *buf) {
    if (info->block_w == g->block_w && info->block_h == g->block_h)
        return GDALReadBlock(band, (int)b->block_x, (int)b->block_y, buf);
    int xoff, yoff, w, h;
    block_window(g, b->block_x, b->block_y, &xoff, &yoff, &w, &h);
    return GDALRasterIOEx(band, GF_Read, xoff, yoff, w, h, buf, w, h, info->type, info->type_size,
                          (GSpacing)info->type_size * g->block_w, NULL);
}

static CPLErr read_mask_block(const rp_grid *g, GDALRasterBandH band, const rp_plan_block *b,
                              unsigned char *mask) {
    int xoff, yoff, w, h;
    block_window(g, b->block_x, b->block_y, &xoff, &yoff, &w, &h);
    return GDALRasterIOEx(GDALGetMaskBand(band), GF_Read, xoff, yoff, w, h, mask, w, h, GDT_Byte, 1,
                          g->block_w, NULL);
}

bool rp_band_is_nodata(const rp_band_info *b, const unsigned char *p) {
    if (!b->has_nodata)
        return false;
    switch (b->type) {
    case GDT_Float32:
    case GDT_CFloat32: {
        float v;
        memcpy(&v, p, sizeof v);
        return isnan(b->nodata) ? isnan(v) : v == (float)b->nodata;
    }
    case GDT_Float64:
    case GDT_CFloat64: {
        double v;
        memcpy(&v, p, sizeof v);
        return isnan(b->nodata) ? isnan(v) : v == b->nodata;
    }
    case GDT_Int64: {
        int64_t v;
        memcpy(&v, p, sizeof v);
        return v == b->nodata_i64;
    }
    case GDT_UInt64: {
        uint64_t v;
        memcpy(&v, p, sizeof v);
        return v == b->nodata_u64;
    }
    default: {
        double v = 0;
        switch (b->type) {
        case GDT_Byte: v = *p; break;
#if GDAL_VERSION_NUM >= 3070000
        case GDT_Int8: v = *(const int8_t *)p; break;
#endif
        case GDT_UInt16: {
            uint16_t t;
            memcpy(&t, p, sizeof t);
            v = t;
            break;
        }
        case GDT_Int16:
        case GDT_CInt16: {
            int16_t t;
            memcpy(&t, p, sizeof t);
            v = t;
            break;
        }
        case GDT_UInt32: {
            uint32_t t;
            memcpy(&t, p, sizeof t);
            v = t;
            break;
        }
        case GDT_Int32:
        case GDT_CInt32: {
            int32_t t;
            memcpy(&t, p, sizeof t);
            v = t;
            break;
        }
        default: return false;
        }
        return v == b->nodata;
    }
    }
}

static void log_block_failure(read_job *job, const rp_plan_block *b, int band, const char *why) {
    FILE *log = job->opts->log;
    if (!log)
        return;
    pthread_mutex_lock(&job->log_lock);
    if (job->failures_logged < MAX_LOGGED_FAILURES)
        fprintf(log, "rasterpool: %s: band %d, block x=%lld y=%lld: cannot read: %s\n",
                job->raster->path, band, (long long)b->block_x, (long long)b->block_y,
                why && *why ? why : "read failed");
    else if (job->failures_logged == MAX_LOGGED_FAILURES)
        fprintf(log, "rasterpool: %s: more blocks cannot be read; only the first %d are shown\n",
                job->raster->path, MAX_LOGGED_FAILURES);
    job->failures_logged++;
    pthread_mutex_unlock(&job->log_lock);
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
            (masked || rp_band_is_nodata(&col->band, p)) ? RP_POINT_NODATA : RP_POINT_OK;
    }
}

/* A remote read that failed, or succeeded after a connection failed on the
 * way (GDAL may then hand back zeros: remote.c), is tried again on a fresh
 * handle. Returns the last try's outcome; a suspect success is a failure. */
static CPLErr retry_remote_read(read_job *job, read_worker *w, GDALRasterBandH *band,
                                rp_value_column *col, const rp_plan_block *b, CPLErr e) {
    const char *path = job->raster->path;
    const rp_grid *g = &job->raster->grid;
    for (int attempt = 1; (e != CE_None || rp_remote_suspect(path, &w->capture)) &&
                          rp_remote_retry(path, &w->capture, attempt);
         attempt++) {
        rp_handles_drop(w->handles, path);
        rp_error ignored;
        rp_error_clear(&ignored);
        w->dataset = rp_handles_get(w->handles, path, &ignored);
        rp_gdal_capture_reset(&w->capture);
        if (!w->dataset) {
            e = CE_Failure;
            continue;
        }
        *band = GDALGetRasterBand(w->dataset, col->band.band);
        e = read_band_block(g, *band, &col->band, b, w->block);
    }
    return e == CE_None && rp_remote_suspect(path, &w->capture) ? CE_Failure : e;
}

static void read_block(read_job *job, read_worker *w, size_t index) {
    const rp_plan_block *b = &job->plan->blocks[index];
    const rp_grid *g = &job->raster->grid;
    bool any_failed = false;
    bool have_dataset_mask = false; /* a per-dataset mask is read once a block */
    for (int c = 0; c < job->ncolumns; c++) {
        rp_value_column *col = job->columns[c];
        /* a failed remote reopen (retry_remote_read) leaves no dataset */
        GDALRasterBandH band = w->dataset ? GDALGetRasterBand(w->dataset, col->band.band) : NULL;
        rp_gdal_capture_push(&w->capture);
        CPLErr e = band ? read_band_block(g, band, &col->band, b, w->block) : CE_Failure;
        if (band)
            e = retry_remote_read(job, w, &band, col, b, e);
        const unsigned char *mask = NULL;
        if (e == CE_None && col->band.read_mask) {
            bool shared = col->band.mask_per_dataset;
            if (!(shared && have_dataset_mask)) {
                e = read_mask_block(g, band, b, w->mask);
                have_dataset_mask = e == CE_None && shared;
            }
            mask = w->mask;
        }
        rp_gdal_capture_pop();
        bool failed = e != CE_None;
        if (failed) {
            any_failed = true;
            log_block_failure(job, b, col->band.band,
                              w->capture.count ? rp_gdal_capture_text(&w->capture)
                                               : w->capture.http);
        }
        scatter(job, b, col, w->block, mask, failed);
    }
    atomic_fetch_add(any_failed ? &job->blocks_failed : &job->blocks_read, 1);
}

/* Task k reads blocks [k * run_length, (k + 1) * run_length). */
static rp_status run_block(void *ctx, void *state, size_t task, rp_error *err) {
    read_job *job = ctx;
    read_worker *w = state;
    if (!w->dataset) {
        w->dataset = rp_handles_get(w->handles, job->raster->path, err);
        if (!w->dataset)
            return err->code; /* the raster opened on the caller: stop the job */
    }
    size_t first = task * job->run_length;
    for (size_t i = first; i < first + job->run_length && i < job->plan->nblocks; i++)
        read_block(job, w, i);
    return RP_OK;
}

rp_status rp_extract_read_plan(rp_pool *pool, const rp_raster_info *raster, const rp_plan *plan,
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
        job.run_length = rp_remote_run_length(plan->nblocks, rp_pool_threads(pool));
    const rp_grid *g = &raster->grid;
    /* every band lands in the grid's block layout (read_band_block) */
    for (int c = 0; c < ncolumns; c++) {
        size_t bytes = (size_t)(g->block_w * g->block_h) * (size_t)columns[c]->band.type_size;
        if (bytes > job.buffer_bytes)
            job.buffer_bytes = bytes;
    }
    atomic_init(&job.blocks_read, 0);
    atomic_init(&job.blocks_failed, 0);
    pthread_mutex_init(&job.log_lock, NULL);
    char message[256];
    const char *base = strrchr(raster->path, '/');
    snprintf(message, sizeof message, "%s", base ? base + 1 : raster->path);
    rp_pool_job pj = {
        .ntasks = (plan->nblocks + job.run_length - 1) / job.run_length,
        .ctx = &job,
        .begin = worker_begin,
        .run = run_block,
        .end = worker_end,
        .progress = opts->progress,
        .progress_user = opts->progress_user,
        .progress_message = message,
    };
    rp_status rc = plan->nblocks ? rp_pool_run(pool, &pj, err) : RP_OK;
    pthread_mutex_destroy(&job.log_lock);
    stats->blocks_read += atomic_load(&job.blocks_read);
    stats->blocks_failed += atomic_load(&job.blocks_failed);
    return rc;
}
