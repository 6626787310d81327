/*
 * read_sources.c — reading a VRT band straight from its source files.
 *
 * Per-point tools read a mosaic through the VRT: every VRT block touches
 * every source under it, and one missing file fails its neighbours. Here a
 * band whose sources are plain 1:1 copies (vrt_xml.c) is planned against
 * the sources themselves: each point goes to the source GDAL paints on top
 * at its cell (vrt_survey.c), points are grouped by (source, source block)
 * on the source's own block grid (vrt_plan.c), and each such block is read
 * once with GDALReadBlock: one block a pool task, or for remote sources a
 * run of up to 16 blocks of one file in file order, so that GDAL's
 * read-ahead merges requests and fewer workers open each file.
 *
 * Per-source NODATA is transparent: a point whose pixel equals it goes to
 * the next source down in another pass (passes repeat until every point is
 * settled; usually one or two). A point no source paints gets the VRT's
 * nodata value (status nodata), or 0 when the VRT has none, as GDAL fills.
 *
 * Threads: the passes are planned on the caller. Workers (read_common.c)
 * each keep a bounded LRU of open sources (--max-open, lowered to fit the
 * open-files limit) and one block buffer. Each point belongs to one task
 * per pass, so workers write disjoint elements and need no lock. A source
 * that cannot be opened or read fails only its points (read_common.h).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "pixel.h"
#include "pool.h"
#include "read_common.h"
#include "read_sources.h"
#include "remote.h"
#include "vrt_xml.h"

/* Larger source blocks (untiled images) are read pixel by pixel instead. */
#define MAX_BLOCK_BYTES ((size_t)16 << 20)

typedef struct source_job {
    const rp_extract_raster *raster;
    const rp_vrt_band *vb;
    rp_value_column *col;
    const rp_plan *plan;
    const rp_source_tasks *tasks;
    const rp_extract_options *opts;
    size_t buffer_bytes;
    int max_open;
    uint32_t *limit; /* per point: the source that last answered */
    uint8_t *again;  /* per point: that pixel was transparent */
    atomic_uint_least64_t blocks_read, blocks_failed;
    rp_failure_log failures;
    const size_t *run_start; /* pool task k reads tasks [run_start[k], run_start[k + 1]) */
} source_job;

static rp_status source_begin(void *ctx, int index, void **state, rp_error *err) {
    (void)index;
    source_job *job = ctx;
    return rp_read_worker_begin(job->opts->config, job->opts->nconfig, job->opts->remote,
                                job->max_open, job->buffer_bytes, 0, state, err);
}

static void source_end(void *ctx, void *state) {
    (void)ctx;
    rp_read_worker_end(state);
}

/* One pixel's outcome: a value, or transparent (look below). */
static void settle(source_job *job, uint32_t p, uint32_t s, const unsigned char *pixel) {
    const rp_vrt_source *src = &job->vb->sources[s];
    rp_value_column *col = job->col;
    size_t ts = (size_t)col->band.type_size;
    if (src->has_nodata && rp_pixel_is_source_nodata(col->band.value_type, pixel, src->nodata)) {
        job->limit[p] = s;
        job->again[p] = 1;
        return;
    }
    job->again[p] = 0; /* a retried read may answer what a failed one did not */
    memcpy(col->values + (size_t)p * ts, pixel, ts);
    col->status[p] = rp_pixel_is_nodata(&col->band, pixel) ? RP_POINT_NODATA : RP_POINT_OK;
}

static void fail_points(source_job *job, const rp_source_task *t) {
    for (size_t k = 0; k < t->count; k++) {
        uint32_t p = job->tasks->order[t->start + k];
        job->col->status[p] = RP_POINT_ERROR; /* also those settled before a failure */
        job->again[p] = 0;
    }
}

typedef struct task_read {
    source_job *job;
    const rp_source_task *task;
} task_read;

/* Reads a task's pixels from the source band and settles its points: the
 * whole block when the file is as its XML says and the block fits, else
 * pixel by pixel. */
static CPLErr read_task(GDALRasterBandH band, rp_read_worker *w, void *ctx) {
    const task_read *r = ctx;
    source_job *job = r->job;
    const rp_source_task *t = r->task;
    const rp_vrt_source *src = &job->vb->sources[t->source];
    const rp_grid *vg = &job->raster->info.grid;
    const rp_band_info *info = &job->col->band;
    size_t ts = (size_t)info->type_size;
    int bw = 0, bh = 0;
    GDALGetBlockSize(band, &bw, &bh);
    bool whole = bw == src->block_w && bh == src->block_h &&
                 GDALGetRasterDataType(band) == info->type &&
                 (size_t)bw * (size_t)bh * ts <= job->buffer_bytes;
    CPLErr e = whole ? GDALReadBlock(band, (int)t->block_x, (int)t->block_y, w->block) : CE_None;
    for (size_t k = 0; k < t->count && e == CE_None; k++) {
        uint32_t p = job->tasks->order[t->start + k];
        int64_t col = (int64_t)(job->plan->cell[p] % (uint64_t)vg->width);
        int64_t row = (int64_t)(job->plan->cell[p] / (uint64_t)vg->width);
        int64_t sx, sy;
        rp_source_pixel(src, col, row, &sx, &sy);
        const unsigned char *pixel;
        unsigned char one[16];
        if (whole) {
            pixel = w->block + ((size_t)(sy % bh) * (size_t)bw + (size_t)(sx % bw)) * ts;
        } else {
            e = GDALRasterIO(band, GF_Read, (int)sx, (int)sy, 1, 1, one, 1, 1, info->type, 0, 0);
            pixel = one;
        }
        if (e == CE_None)
            settle(job, p, t->source, pixel);
    }
    return e;
}

static void read_source_block(source_job *job, rp_read_worker *w, size_t task) {
    const rp_source_task *t = &job->tasks->tasks[task];
    const rp_vrt_source *src = &job->vb->sources[t->source];
    task_read r = {job, t};
    bool ok = rp_read_retrying(w, src->path, src->band, read_task, &r);
    if (!ok && w->open_failed)
        rp_failure_log_add(&job->failures, "source %s: %s", src->path,
                           w->why[0] ? w->why : "cannot open");
    else if (!ok)
        rp_failure_log_add(&job->failures,
                           "source %s, band %d, block x=%lld y=%lld: cannot read: %s", src->path,
                           src->band, (long long)t->block_x, (long long)t->block_y,
                           w->why[0] ? w->why : "read failed");
    if (!ok)
        fail_points(job, t);
    atomic_fetch_add(ok ? &job->blocks_read : &job->blocks_failed, 1);
}

static rp_status run_source_run(void *ctx, void *state, size_t run, rp_error *err) {
    (void)err;
    source_job *job = ctx;
    for (size_t t = job->run_start[run]; t < job->run_start[run + 1]; t++)
        read_source_block(job, state, t);
    return RP_OK;
}

/* Pool tasks over the source blocks: one block each, or for remote sources
 * runs of up to rp_extract_run_length blocks of one source in file order.
 * Fills run_start (ntasks + 1 entries); returns the count. */
static size_t group_runs(const rp_source_tasks *tasks, const rp_vrt_band *vb, int threads,
                         size_t *run_start) {
    size_t k = 1, nruns = 0;
    bool remote = false;
    for (size_t s = 0; s < vb->nsources && !remote; s++)
        remote = rp_path_is_remote(vb->sources[s].path);
    if (remote)
        k = rp_extract_run_length(tasks->ntasks, threads);
    for (size_t t = 0; t < tasks->ntasks; t++) {
        bool joins = nruns > 0 && t - run_start[nruns - 1] < k &&
                     tasks->tasks[t].source == tasks->tasks[run_start[nruns - 1]].source;
        if (!joins)
            run_start[nruns++] = t;
    }
    run_start[nruns] = tasks->ntasks;
    return nruns;
}

/* A point no source paints: the VRT's nodata value, or 0, as GDAL fills. */
static void fill_gap(rp_value_column *col, uint32_t p) {
    const rp_band_info *b = &col->band;
    unsigned char *dst = col->values + (size_t)p * (size_t)b->type_size;
    memset(dst, 0, (size_t)b->type_size);
    if (!b->has_nodata) {
        col->status[p] = RP_POINT_OK;
        return;
    }
    if (b->type == GDT_Int64)
        memcpy(dst, &b->nodata_i64, sizeof b->nodata_i64);
    else if (b->type == GDT_UInt64)
        memcpy(dst, &b->nodata_u64, sizeof b->nodata_u64);
    else
        GDALCopyWords(&b->nodata, GDT_Float64, 0, dst, b->type, 0, 1);
    col->status[p] = RP_POINT_NODATA;
}

/* The points of one pass and the source each is to be read from. */
typedef struct pass_points {
    uint32_t *points, *sources;
    size_t n;
    unsigned char *failed_logged; /* per source: its open failure was named */
} pass_points;

/* Points on sources that cannot be opened fail here, each source named
 * once on the log; the others stay. */
static void drop_failed_sources(source_job *job, rp_vrt_band *vb, pass_points *pp) {
    size_t keep = 0;
    for (size_t k = 0; k < pp->n; k++) {
        rp_vrt_source *src = &vb->sources[pp->sources[k]];
        if (!src->props_failed) {
            pp->points[keep] = pp->points[k];
            pp->sources[keep++] = pp->sources[k];
            continue;
        }
        job->col->status[pp->points[k]] = RP_POINT_ERROR;
        if (!pp->failed_logged[pp->sources[k]]) {
            pp->failed_logged[pp->sources[k]] = 1;
            char why[512];
            src->props_failed = false; /* ask again, for the message */
            rp_vrt_source_props(src, why, sizeof why);
            rp_failure_log_add(&job->failures, "source %s: %s", src->path,
                               why[0] ? why : "cannot open");
            atomic_fetch_add(&job->blocks_failed, 1);
        }
    }
    pp->n = keep;
}

/* Reads one pass's source blocks on the pool. */
static rp_status run_pass(source_job *job, rp_pool *pool, const rp_source_tasks *tasks,
                          rp_error *err) {
    job->tasks = tasks;
    job->buffer_bytes = 0;
    for (size_t t = 0; t < tasks->ntasks; t++) {
        const rp_vrt_source *src = &job->vb->sources[tasks->tasks[t].source];
        size_t bytes =
            (size_t)src->block_w * (size_t)src->block_h * (size_t)job->col->band.type_size;
        if (bytes <= MAX_BLOCK_BYTES && bytes > job->buffer_bytes)
            job->buffer_bytes = bytes;
    }
    size_t *run_start = malloc((tasks->ntasks + 1) * sizeof *run_start);
    if (!run_start)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    job->run_start = run_start;
    size_t nruns = group_runs(tasks, job->vb, rp_pool_threads(pool), run_start);
    rp_pool_job pj = {.ntasks = nruns,
                      .ctx = job,
                      .begin = source_begin,
                      .run = run_source_run,
                      .end = source_end,
                      .progress = job->opts->progress,
                      .progress_user = job->opts->progress_user,
                      .progress_message = rp_read_basename(job->raster->info.path)};
    rp_status rc = tasks->ntasks ? rp_pool_run(pool, &pj, err) : RP_OK;
    free(run_start);
    job->run_start = NULL;
    return rc;
}

/* The next pass: points whose pixel was transparent look at the source
 * below (or get the gap's value when there is none). */
static void next_pass(source_job *job, rp_vrt_survey *sv, rp_vrt_band *vb,
                      const rp_source_tasks *tasks, pass_points *pp) {
    const rp_grid *g = &job->raster->info.grid;
    size_t next = 0;
    for (size_t k = 0; k < tasks->norder; k++) {
        uint32_t p = tasks->order[k];
        if (!job->again[p])
            continue;
        job->again[p] = 0;
        int64_t c = (int64_t)(job->plan->cell[p] % (uint64_t)g->width);
        int64_t r = (int64_t)(job->plan->cell[p] / (uint64_t)g->width);
        uint32_t s = rp_vrt_lookup_resolving(sv, vb, c, r, job->limit[p]);
        if (s == RP_NO_SOURCE) {
            fill_gap(job->col, p);
            continue;
        }
        pp->points[next] = p;
        pp->sources[next++] = s;
    }
    pp->n = next;
}

/* The first pass: every point on the raster, at its top source. */
static void first_pass(source_job *job, const rp_vrt_survey *sv, pass_points *pp) {
    pp->n = 0;
    for (size_t i = 0; i < job->plan->npoints; i++) {
        if (job->plan->cell[i] == RP_CELL_OUTSIDE)
            continue;
        if (sv->top[i] == RP_NO_SOURCE) {
            fill_gap(job->col, (uint32_t)i);
            continue;
        }
        pp->points[pp->n] = (uint32_t)i;
        pp->sources[pp->n++] = sv->top[i];
    }
}

static rp_status run_passes(source_job *job, rp_pool *pool, rp_vrt_survey *sv, rp_vrt_band *vb,
                            pass_points *pp, rp_error *err) {
    rp_status rc = RP_OK;
    first_pass(job, sv, pp);
    while (rc == RP_OK && pp->n > 0) {
        drop_failed_sources(job, vb, pp);
        rp_source_tasks tasks;
        if (rp_source_tasks_build(&tasks, vb, job->raster->info.grid.width, job->plan->cell,
                                  pp->points, pp->sources, pp->n) != 0)
            return rp_error_set(err, RP_NOMEM, "out of memory grouping %zu points", pp->n);
        rc = run_pass(job, pool, &tasks, err);
        if (rc == RP_OK)
            next_pass(job, sv, vb, &tasks, pp);
        rp_source_tasks_free(&tasks);
    }
    return rc;
}

rp_status rp_extract_read_sources(rp_pool *pool, const rp_extract_raster *raster,
                                  const rp_plan *plan, rp_value_column *col, rp_vrt_survey *sv,
                                  const rp_extract_options *opts, rp_extract_read_stats *stats,
                                  rp_error *err) {
    rp_vrt_band *vb = &raster->vrt->bands[col->band.band - 1];
    size_t n = plan->npoints ? plan->npoints : 1;
    source_job job = {.raster = raster,
                      .vb = vb,
                      .col = col,
                      .plan = plan,
                      .opts = opts,
                      .max_open =
                          rp_read_open_budget(opts->max_open_per_worker, rp_pool_threads(pool))};
    job.limit = malloc(n * sizeof *job.limit);
    job.again = calloc(n, 1);
    pass_points pp = {.points = malloc(n * sizeof *pp.points),
                      .sources = malloc(n * sizeof *pp.sources),
                      .failed_logged = calloc(vb->nsources ? vb->nsources : 1, 1)};
    atomic_init(&job.blocks_read, 0);
    atomic_init(&job.blocks_failed, 0);
    rp_failure_log_init(&job.failures, opts->log, raster->info.path, "sources or blocks");
    rp_status rc = job.limit && job.again && pp.points && pp.sources && pp.failed_logged
                       ? run_passes(&job, pool, sv, vb, &pp, err)
                       : rp_error_set(err, RP_NOMEM, "out of memory planning %zu points", n);
    stats->blocks_read += atomic_load(&job.blocks_read);
    stats->blocks_failed += atomic_load(&job.blocks_failed);
    rp_failure_log_destroy(&job.failures);
    free(pp.failed_logged);
    free(pp.points);
    free(pp.sources);
    free(job.limit);
    free(job.again);
    return rc;
}
