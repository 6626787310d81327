/*
 * read_blocks.c — the plain reader: execute one raster's plan through
 * GDAL, each touched block read once and its points' values scattered
 * into the value columns.
 *
 * The design: one pool task per touched block. For a remote raster, one
 * task per run of horizontally adjacent touched blocks (same block row,
 * consecutive columns, at most rp_extract_run_length of them): the run is
 * read with one RasterIO over its whole window, so GDAL's GTiff driver
 * fetches its tiles with merged range requests (one GET a run instead of
 * one a tile); a run stored in one range goes in GDAL's SINGLE_GET mode,
 * which copies the answer once (use_single_get says when and why). A run
 * whose read fails is read again (in GDAL's default mode when it was one
 * GET), then block by block, so a failure inside a merged range fails only
 * the points of the blocks that cannot be read. The pool grows to one worker a run when
 * --io-threads is not given and round trips are long (bounded: extract_internal.h), so all requests
 * go out in one round trip and each worker decodes its run as its response arrives; the blocks GDAL
 * decoded for a run leave its block cache when the run is read (read_band_run), so a worker holds
 * one run at a time. A run's values are read in place, from the blocks GDAL decoded into its block
 * cache (read_band_run, scatter_cached: no copy of the run), and a block alone of a GeoTIFF goes
 * the same way (one GET of its range, not through /vsicurl/'s chunk cache). A worker opens its own
 * dataset handle in its own thread (read_common.c; never shared), keeps one block buffer and one
 * mask buffer, and for every band column reads the block with GDALReadBlock (the whole-block path;
 * for pixel-interleaved GeoTIFFs GDAL decodes the tile once for all bands). A band whose block size
 * differs from the plan's grid is read through RasterIO over the same window into the same layout.
 * Values are copied in the band's own type, so every type is carried exactly.
 *
 * Each point index belongs to exactly one block, so workers write disjoint
 * elements of the columns and need no lock. A block that cannot be opened
 * or read marks only its points `error` (read_common.h); the first
 * failures go to the log.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>

#include "cached_block.h"
#include "extract_internal.h"
#include "net_stats.h"
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
    /* remote: the runs of adjacent blocks, one a task (NULL: a block a task) */
    size_t *run_first, *run_count;
    size_t nruns;
    size_t max_run;  /* the longest run (1 without runs) */
    bool single_get; /* a remote GeoTIFF: a run in one range may go in one GET (read_band_run) */
    bool in_place;   /* a GeoTIFF, and GDAL's block cache holds every worker's run: read
                      * runs in place */
} read_job;

/* Builds a worker's buffers. The dataset is opened on the worker's first
 * block, so threads that get no block open nothing. */
static rp_status worker_begin(void *ctx, int index, void **state, rp_error *err) {
    (void)index;
    read_job *job = ctx;
    const rp_grid *g = &job->raster->grid;
    return rp_read_worker_begin(job->opts->config, job->opts->nconfig, job->opts->remote,
                                job->opts->max_open_per_worker, job->buffer_bytes,
                                (size_t)(g->block_w * g->block_h) * job->max_run, state, err);
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

/* How many points ahead scatter() asks for the memory it will touch: the
 * points of a block are spread over the whole input, so their cell, value
 * and status are cache misses, taken several at a time this way. */
enum { SCATTER_AHEAD = 16 };

static void scatter(const read_job *job, const rp_plan_block *b, rp_value_column *col,
                    const unsigned char *block, const unsigned char *mask, bool failed) {
    const rp_plan *plan = job->plan;
    const rp_grid *g = &job->raster->grid;
    size_t ts = (size_t)col->band.type_size;
    const uint32_t *order = plan->order + b->start;
    /* the block's first row and column: one division a point, not three */
    uint64_t width = (uint64_t)g->width;
    uint64_t row0 = (uint64_t)(b->block_y * g->block_h), col0 = (uint64_t)(b->block_x * g->block_w);
    for (size_t k = 0; k < b->count; k++) {
        if (k + SCATTER_AHEAD < b->count) {
            uint32_t ahead = order[k + SCATTER_AHEAD];
            __builtin_prefetch(&plan->cell[ahead]);
            __builtin_prefetch(col->values + (size_t)ahead * ts, 1);
            __builtin_prefetch(&col->status[ahead], 1);
        }
        uint32_t idx = order[k];
        if (failed) {
            col->status[idx] = RP_POINT_ERROR;
            continue;
        }
        uint64_t cell = plan->cell[idx];
        uint64_t row = cell / width, column = cell - row * width;
        size_t off = (size_t)((row - row0) * (uint64_t)g->block_w + (column - col0));
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

/* What one column's read of a run of blocks needs: the run's window, read
 * into the worker's buffers `w` pixels wide. */
typedef struct run_read {
    const read_job *job;
    rp_value_column *col;
    const rp_band_info *info;
    int xoff, yoff, w, h;
    int bx, by, count; /* the run's blocks */
    size_t first;      /* the run's first block in the plan */
    bool read_mask;
    bool single_get; /* may fetch a run stored in one range with GDAL's SINGLE_GET */
    bool may_read_in_place;
    bool in_place; /* out: the values were scattered from GDAL's block cache */
} run_read;

/* Scatters one block's points from a buffer holding the window at
 * (xoff, yoff), `stride` pixels wide. */
static void scatter_window(const read_job *job, const rp_plan_block *b, rp_value_column *col,
                           const unsigned char *buf, const unsigned char *mask, int xoff, int yoff,
                           int stride) {
    const rp_plan *plan = job->plan;
    uint64_t width = (uint64_t)job->raster->grid.width;
    size_t ts = (size_t)col->band.type_size;
    for (size_t k = 0; k < b->count; k++) {
        uint32_t idx = plan->order[b->start + k];
        uint64_t cell = plan->cell[idx];
        size_t off = (size_t)((int64_t)(cell / width) - yoff) * (size_t)stride +
                     (size_t)((int64_t)(cell % width) - xoff);
        const unsigned char *p = buf + off * ts;
        memcpy(col->values + (size_t)idx * ts, p, ts);
        bool masked = mask && mask[off] == 0;
        col->status[idx] =
            (masked || rp_pixel_is_nodata(&col->band, p)) ? RP_POINT_NODATA : RP_POINT_OK;
    }
}

/* GDAL 3.6's /vsicurl/ reads the one range of a run through its chunk
 * cache: the download is copied into 16 KiB cache entries, into a string,
 * and then into the driver's buffer, all fresh memory (perf, bench R4: a
 * quarter of the job's CPU in those copies and their page faults). With
 * GDAL_HTTP_MULTIRANGE=SINGLE_GET it copies the answer once, straight into
 * the driver's buffer, and leaves the cache to the header (so no header
 * chunk is evicted and fetched again). That mode sends every range of the
 * read in one multi-range request, which many servers (S3) do not serve,
 * so it is set only around a read that asks for one range: the first band
 * of a run (no block of it in GDAL's cache) whose blocks are stored one
 * after the other (rp_read_run_is_one_range), never for the mask, and not
 * when the user set GDAL_HTTP_MULTIRANGE. It does no HTTP retries of its
 * own: a failed run is read again in GDAL's default mode (read_run's
 * caller). */
static bool use_single_get(GDALRasterBandH band, const run_read *r) {
    return r->single_get && !CPLGetConfigOption("GDAL_HTTP_MULTIRANGE", NULL) &&
           rp_read_run_is_one_range(band, r->bx, r->by, r->count);
}

/* Scatters the run's points straight from the blocks GDAL decoded into its
 * block cache (no copy of the run); false when one of them is not there
 * (evicted, or never read), and the caller copies the run instead. */
static bool scatter_cached(GDALRasterBandH band, const run_read *r) {
    const read_job *job = r->job;
    const rp_grid *g = &job->raster->grid;
    for (int i = 0; i < r->count; i++) {
        const rp_plan_block *b = &job->plan->blocks[r->first + (size_t)i];
        rp_cached_block cached;
        if (!rp_cached_block_get(band, (int)b->block_x, (int)b->block_y, &cached))
            return false;
        scatter_window(job, b, r->col, cached.data, NULL, (int)(b->block_x * g->block_w),
                       (int)(b->block_y * g->block_h), (int)g->block_w);
        rp_cached_block_release(&cached);
    }
    return true;
}

/* Reads one column of a run. Its values are read in place where they can
 * be (no mask to read, the band's own type): one RasterIO over the run's
 * window into a buffer of one row (the window's middle row: every block
 * of the run is decoded into GDAL's block cache, and GDAL's GTiff driver
 * fetches them in the same one request), then the points' values come
 * from the cached blocks (scatter_cached), never copied as a whole run
 * into the worker's buffer: a copy of every decoded pixel into fresh
 * memory saved (bench R4: 85 MB a job). The buffer has as many columns
 * as the window, so GDAL picks no overview. Otherwise, or when a block is
 * no longer cached, the run is copied into w->block (and its mask into
 * w->mask) and the caller scatters from there. */
static CPLErr read_band_run(GDALRasterBandH band, rp_read_worker *w, void *ctx) {
    run_read *r = ctx;
    bool single = use_single_get(band, r);
    const rp_grid *g = &r->job->raster->grid;
    int band_bw = 0, band_bh = 0;
    GDALGetBlockSize(band, &band_bw, &band_bh);
    /* in place: the band's blocks are the plan's (scatter_cached finds them
     * by the plan's block numbers) and hold the band's own type */
    bool in_place = r->may_read_in_place && !r->read_mask && band_bw == g->block_w &&
                    band_bh == g->block_h && GDALGetRasterDataType(band) == r->info->type;
    GSpacing line = (GSpacing)r->info->type_size * r->w;
    if (single)
        CPLSetThreadLocalConfigOption("GDAL_HTTP_MULTIRANGE", "SINGLE_GET");
    CPLErr e = GDALRasterIOEx(band, GF_Read, r->xoff, r->yoff, r->w, r->h, w->block, r->w,
                              in_place ? 1 : r->h, r->info->type, r->info->type_size, line, NULL);
    if (single)
        CPLSetThreadLocalConfigOption("GDAL_HTTP_MULTIRANGE", NULL);
    r->in_place = e == CE_None && in_place && scatter_cached(band, r);
    if (e == CE_None && in_place && !r->in_place)
        e = GDALRasterIOEx(band, GF_Read, r->xoff, r->yoff, r->w, r->h, w->block, r->w, r->h,
                           r->info->type, r->info->type_size, line, NULL);
    if (e == CE_None && r->read_mask)
        e = GDALRasterIOEx(GDALGetMaskBand(band), GF_Read, r->xoff, r->yoff, r->w, r->h, w->mask,
                           r->w, r->h, GDT_Byte, 1, r->w, NULL);
    /* RasterIO decoded the run's blocks into GDAL's block cache, which
     * keeps them (GDAL_CACHEMAX is 5% of RAM) until the worker closes the
     * dataset: every block a worker ever read, times all the workers. Its
     * values are scattered or in w->block now, so the copies go at once. */
    GDALFlushRasterCache(band);
    if (r->read_mask)
        GDALFlushRasterCache(GDALGetMaskBand(band));
    return e;
}

/* Reads the run of adjacent blocks [first, first + count) with one RasterIO
 * a column (the first one in one GET when single_get allows: read_band_run);
 * false (nothing counted) when a column's read fails, and the caller reads
 * the run again or block by block. */
static bool read_run(read_job *job, rp_read_worker *w, size_t first, size_t count,
                     bool single_get) {
    const rp_grid *g = &job->raster->grid;
    const rp_plan_block *b0 = &job->plan->blocks[first];
    int xoff, yoff, bw, bh, last_x, last_y, last_w, last_h;
    block_window(g, b0->block_x, b0->block_y, &xoff, &yoff, &bw, &bh);
    block_window(g, b0->block_x + (int64_t)count - 1, b0->block_y, &last_x, &last_y, &last_w,
                 &last_h);
    bool have_dataset_mask = false;
    bool in_place = true; /* every column's values read in place */
    for (int c = 0; c < job->ncolumns; c++) {
        rp_value_column *col = job->columns[c];
        bool shared = col->band.mask_per_dataset;
        run_read r = {.job = job,
                      .col = col,
                      .info = &col->band,
                      .xoff = xoff,
                      .yoff = yoff,
                      .w = last_x + last_w - xoff,
                      .h = bh,
                      .bx = (int)b0->block_x,
                      .by = (int)b0->block_y,
                      .count = (int)count,
                      .first = first,
                      .may_read_in_place = job->in_place,
                      .read_mask = col->band.read_mask && !(shared && have_dataset_mask),
                      .single_get = single_get && c == 0};
        if (!rp_read_retrying(w, job->raster->path, col->band.band, read_band_run, &r))
            return false;
        if (r.read_mask)
            have_dataset_mask = shared;
        in_place = in_place && r.in_place;
        for (size_t i = first; i < first + count && !r.in_place; i++)
            scatter_window(job, &job->plan->blocks[i], col, w->block,
                           col->band.read_mask ? w->mask : NULL, xoff, yoff, r.w);
    }
    atomic_fetch_add(&job->blocks_read, count);
    rp_net_stats_count_run(in_place);
    return true;
}

/* Task k reads one block, or run k of a remote raster. */
static rp_status run_block(void *ctx, void *state, size_t task, rp_error *err) {
    (void)err;
    read_job *job = ctx;
    if (!job->run_first) {
        read_block(job, state, task);
        return RP_OK;
    }
    size_t first = job->run_first[task], count = job->run_count[task];
    /* a block alone is read like a run where it can go in one GET (so it
     * is fetched without GDAL's /vsicurl/ chunk cache and read in place);
     * a run that failed in one GET gets GDAL's own retries in its default
     * mode, then block by block (a block alone: that is the same read) */
    if (count == 1 ? job->single_get && read_run(job, state, first, 1, true)
                   : read_run(job, state, first, count, job->single_get) ||
                         (job->single_get && read_run(job, state, first, count, false)))
        return RP_OK;
    for (size_t i = first; i < first + count; i++)
        read_block(job, state, i);
    return RP_OK;
}

/* Whether GDAL's block cache holds every worker's run at once, twice over:
 * a run read in place stays there from its decoding to its scatter, and a
 * block evicted in between (GDAL_CACHEMAX set low, a small machine) would
 * be fetched again by the copying read that follows, so then runs are
 * copied as they are decoded. Counts every band of the file: reading one
 * band of a pixel-interleaved GeoTIFF caches the others' blocks too. */
static bool cache_holds_runs(const read_job *job, int threads, size_t widest) {
    const rp_grid *g = &job->raster->grid;
    double run_bytes = (double)(g->block_w * g->block_h) * (double)widest * (double)job->max_run *
                       (double)(job->raster->band_count > 0 ? job->raster->band_count : 1);
    return 2.0 * run_bytes * (double)threads <= (double)GDALGetCacheMax64();
}

/* Splits the plan's blocks (row-major) into runs of horizontally adjacent
 * blocks of at most max_len each. Returns false when memory runs out. */
static bool make_runs(read_job *job, size_t max_len) {
    const rp_plan *plan = job->plan;
    job->run_first = malloc((plan->nblocks ? plan->nblocks : 1) * sizeof *job->run_first);
    job->run_count = malloc((plan->nblocks ? plan->nblocks : 1) * sizeof *job->run_count);
    if (!job->run_first || !job->run_count)
        return false;
    job->nruns = rp_extract_block_runs(plan, max_len, job->run_first, job->run_count);
    for (size_t i = 0; i < job->nruns; i++)
        if (job->run_count[i] > job->max_run)
            job->max_run = job->run_count[i];
    return true;
}

rp_status rp_extract_read_blocks(rp_pool *pool, const rp_raster_info *raster, double round_trip,
                                 const rp_plan *plan, rp_value_column *const *columns, int ncolumns,
                                 const rp_extract_options *opts, rp_extract_read_stats *stats,
                                 rp_error *err) {
    read_job job = {.raster = raster,
                    .plan = plan,
                    .columns = columns,
                    .ncolumns = ncolumns,
                    .opts = opts,
                    .max_run = 1};
    const rp_grid *g = &raster->grid;
    size_t widest = 1; /* the largest pixel of any column */
    for (int c = 0; c < ncolumns; c++)
        if ((size_t)columns[c]->band.type_size > widest)
            widest = (size_t)columns[c]->band.type_size;
    if (rp_path_is_remote(raster->path)) {
        size_t block_bytes = (size_t)(g->block_w * g->block_h) * widest;
        job.single_get = raster->driver && strcmp(raster->driver, "GTiff") == 0;
        if (!make_runs(&job, rp_extract_block_run_length(block_bytes))) {
            free(job.run_first);
            free(job.run_count);
            return rp_error_set(err, RP_NOMEM, "out of memory for %zu block runs", plan->nblocks);
        }
        /* latency-bound: one worker a run, every request in one round
         * (bounded: extract_internal.h), unless --io-threads was given */
        if (opts->io_threads <= 0)
            rp_pool_grow(pool, rp_extract_io_workers(job.run_count, job.nruns,
                                                     block_bytes * (size_t)ncolumns, round_trip));
        /* GDAL's GTiff driver decodes a RasterIO's blocks into the block
         * cache; other drivers may not (VRT reads its sources straight into
         * the buffer), and a run not found there would be read twice */
        job.in_place = job.single_get && cache_holds_runs(&job, rp_pool_threads(pool), widest);
    }
    /* every band lands in the grid's block layout (read_band_block), a run
     * in one buffer max_run blocks wide */
    job.buffer_bytes = (size_t)(g->block_w * g->block_h) * widest * job.max_run;
    atomic_init(&job.blocks_read, 0);
    atomic_init(&job.blocks_failed, 0);
    rp_failure_log_init(&job.failures, opts->log, raster->path, "blocks");
    rp_pool_job pj = {
        .ntasks = job.run_first ? job.nruns : plan->nblocks,
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
    free(job.run_first);
    free(job.run_count);
    stats->blocks_read += atomic_load(&job.blocks_read);
    stats->blocks_failed += atomic_load(&job.blocks_failed);
    return rc;
}
