/*
 * source_read.c — reading a VRT band straight from its source files.
 *
 * Per-point tools read a mosaic through the VRT: every VRT block touches
 * every source under it, and one missing file fails its neighbours. Here a
 * band whose sources are plain 1:1 copies (vrt_sources.c) is planned
 * against the sources themselves: each point goes to the source GDAL
 * paints on top at its cell (source_plan.c), points are grouped by
 * (source, source block) on the source's own block grid, and each such
 * block is read once with GDALReadBlock: one block a pool task, or for
 * remote sources a run of up to 16 blocks of one file in file order, so
 * that GDAL's read-ahead merges requests and fewer workers open each file.
 *
 * Per-source NODATA is transparent: a point whose pixel equals it goes to
 * the next source down in another pass (passes repeat until every point is
 * settled; usually one or two). A point no source paints gets the VRT's
 * nodata value (status nodata), or 0 when the VRT has none, as GDAL fills.
 *
 * Threads: planning runs on the caller (it may open sources whose XML does
 * not give their size). Workers each keep a bounded LRU of open sources
 * (handles.c; --max-open, lowered to fit the open-files limit) and one
 * block buffer. Each point belongs to one task per pass, so workers write
 * disjoint elements and need no lock; failure messages go to the log under
 * a mutex. A source that cannot be opened or read fails only its points.
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "extract_internal.h"
#include "gdal_errors.h"
#include "handles.h"
#include "pool.h"
#include "remote.h"
#include "source_plan.h"

enum { MAX_LOGGED_FAILURES = 10 };
/* Larger source blocks (untiled images) are read pixel by pixel instead. */
#define MAX_BLOCK_BYTES ((size_t)16 << 20)
/* The bucket index may hold this many (bucket, source) entries. */
#define MAX_INDEX_ITEMS ((uint64_t)64 << 20)

/* ---------------------------------------------------------------------- */
/* Which columns qualify, and the first pass                               */
/* ---------------------------------------------------------------------- */

typedef struct band_survey {
    rp_source_index index;
    uint32_t *top;         /* per point: the source painted on top, or RP_NO_SOURCE */
    size_t sources_top;    /* distinct sources on top of some point */
    size_t sources_any;    /* ... or under a transparent pixel of one */
    size_t files_any;      /* distinct files among sources_any */
    size_t sources_failed; /* that cannot be opened */
} band_survey;

static void survey_free(band_survey *sv) {
    rp_source_index_free(&sv->index);
    free(sv->top);
    memset(sv, 0, sizeof *sv);
}

static int compare_paths(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The topmost source at (col, row) below limit, learning sources' sizes as
 * they come up (which may clip them away). */
static uint32_t lookup_resolving(band_survey *sv, rp_vrt_band *vb, int64_t col, int64_t row,
                                 uint32_t limit) {
    for (;;) {
        uint32_t s = rp_source_lookup(&sv->index, vb, col, row, limit);
        if (s == RP_NO_SOURCE)
            return s;
        rp_vrt_source *src = &vb->sources[s];
        if (src->props_known || src->props_failed)
            return s;
        char why[16];
        if (!rp_vrt_source_props(src, why, sizeof why))
            return s; /* its points fail with the open error when read */
        /* known now: look again, the file may be smaller than its window */
    }
}

/* Whether column col of raster can be read from its sources; when it can,
 * fills the survey (index, top source of each point, counts). why says
 * why not. Opens sources on this thread when their XML lacks sizes. */
static bool survey_band(const rp_raster_info *raster, const rp_value_column *col,
                        const rp_plan *plan, band_survey *sv, char *why, size_t wsize) {
    memset(sv, 0, sizeof *sv);
    const rp_vrt *vrt = raster->vrt;
    if (!vrt) {
        snprintf(why, wsize, "%s", raster->vrt_why[0] ? raster->vrt_why : "not a VRT");
        return false;
    }
    if (col->band.band > vrt->nbands) {
        snprintf(why, wsize, "band %d is not in the VRT's XML", col->band.band);
        return false;
    }
    rp_vrt_band *vb = &vrt->bands[col->band.band - 1];
    if (!vb->direct) {
        snprintf(why, wsize, "%s", vb->reason);
        return false;
    }
    if (col->band.read_mask) {
        snprintf(why, wsize, "band %d has a mask", col->band.band);
        return false;
    }
    if (vb->type != col->band.type) {
        snprintf(why, wsize, "band %d: its XML type differs from GDAL's", col->band.band);
        return false;
    }
    if (vb->nsources >= RP_NO_SOURCE) {
        snprintf(why, wsize, "band %d has too many sources", col->band.band);
        return false;
    }
    const rp_grid *g = &raster->grid;
    if (rp_source_index_build(&sv->index, vb, g->width, g->height, MAX_INDEX_ITEMS) != 0) {
        snprintf(why, wsize, "band %d: its sources overlap too much to index", col->band.band);
        return false;
    }
    sv->top = malloc((plan->npoints ? plan->npoints : 1) * sizeof *sv->top);
    unsigned char *seen = calloc(vb->nsources ? vb->nsources : 1, 1); /* 1 top, 2 under */
    if (!sv->top || !seen) {
        free(seen);
        survey_free(sv);
        snprintf(why, wsize, "out of memory");
        return false;
    }
    for (size_t i = 0; i < plan->npoints; i++) {
        sv->top[i] = RP_NO_SOURCE;
        if (plan->cell[i] == RP_CELL_OUTSIDE)
            continue;
        int64_t c = (int64_t)(plan->cell[i] % (uint64_t)g->width);
        int64_t r = (int64_t)(plan->cell[i] / (uint64_t)g->width);
        uint32_t limit = (uint32_t)vb->nsources;
        bool first = true;
        uint32_t s;
        while ((s = lookup_resolving(sv, vb, c, r, limit)) != RP_NO_SOURCE) {
            if (first)
                sv->top[i] = s;
            seen[s] |= first ? 1 : 2;
            first = false;
            if (!vb->sources[s].has_nodata || vb->sources[s].props_failed)
                break; /* opaque: nothing below shows */
            limit = s;
        }
    }
    const char **paths = malloc((vb->nsources ? vb->nsources : 1) * sizeof *paths);
    bool ok = paths != NULL;
    if (!ok)
        snprintf(why, wsize, "out of memory");
    for (size_t s = 0; ok && s < vb->nsources; s++) {
        if (!seen[s])
            continue;
        const rp_vrt_source *src = &vb->sources[s];
        if (src->props_known && src->type != vb->type) {
            snprintf(why, wsize, "band %d: source %s is %s, the band %s (values are converted)",
                     col->band.band, src->path, GDALGetDataTypeName(src->type),
                     GDALGetDataTypeName(vb->type));
            ok = false;
            break;
        }
        sv->sources_top += (seen[s] & 1) != 0;
        sv->sources_failed += src->props_failed;
        paths[sv->sources_any++] = src->path;
    }
    if (ok) {
        qsort(paths, sv->sources_any, sizeof *paths, compare_paths);
        for (size_t k = 0; k < sv->sources_any; k++)
            sv->files_any += k == 0 || strcmp(paths[k - 1], paths[k]) != 0;
    }
    free(paths);
    free(seen);
    if (!ok)
        survey_free(sv);
    return ok;
}

/* ---------------------------------------------------------------------- */
/* Reading: one pool job per pass                                          */
/* ---------------------------------------------------------------------- */

typedef struct source_job {
    const rp_raster_info *raster;
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
    pthread_mutex_t log_lock;
    int failures_logged;
    const size_t *run_start; /* pool task k reads tasks [run_start[k], run_start[k + 1]) */
} source_job;

typedef struct source_worker {
    rp_handles *handles;
    unsigned char *block;
    rp_gdal_capture capture;
} source_worker;

static rp_status source_begin(void *ctx, int index, void **state, rp_error *err) {
    (void)index;
    source_job *job = ctx;
    rp_gdal_config_apply_remote((const char *const *)job->opts->config, job->opts->nconfig,
                                job->opts->remote, true);
    source_worker *w = calloc(1, sizeof *w);
    if (!w)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    *state = w;
    w->handles = rp_handles_new(job->max_open);
    w->block = malloc(job->buffer_bytes ? job->buffer_bytes : 1);
    if (!w->handles || !w->block)
        return rp_error_set(err, RP_NOMEM, "out of memory for block buffers");
    return RP_OK;
}

static void source_end(void *ctx, void *state) {
    (void)ctx;
    source_worker *w = state;
    if (!w)
        return;
    rp_handles_free(w->handles);
    free(w->block);
    free(w);
}

static void log_failure(source_job *job, const rp_vrt_source *src, const rp_source_task *t,
                        const char *why) {
    FILE *log = job->opts->log;
    if (!log)
        return;
    pthread_mutex_lock(&job->log_lock);
    if (job->failures_logged < MAX_LOGGED_FAILURES) {
        if (t)
            fprintf(log,
                    "rasterpool: %s: source %s, band %d, block x=%lld y=%lld: cannot read: %s\n",
                    job->raster->path, src->path, src->band, (long long)t->block_x,
                    (long long)t->block_y, why && *why ? why : "read failed");
        else
            fprintf(log, "rasterpool: %s: source %s: %s\n", job->raster->path, src->path,
                    why && *why ? why : "cannot open");
    } else if (job->failures_logged == MAX_LOGGED_FAILURES) {
        fprintf(log,
                "rasterpool: %s: more sources or blocks cannot be read; only the first %d "
                "are shown\n",
                job->raster->path, MAX_LOGGED_FAILURES);
    }
    job->failures_logged++;
    pthread_mutex_unlock(&job->log_lock);
}

/* GDAL's test for a ComplexSource NODATA pixel: NaN matches NaN, else the
 * values are equal (within GDAL's 1e-10 for floats). */
static bool transparent(GDALDataType type, const unsigned char *p, double nodata) {
    double v;
    switch (type) {
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
    case GDT_UInt64: {
        uint64_t t;
        memcpy(&t, p, sizeof t);
        v = (double)t;
        break;
    }
    case GDT_Int64: {
        int64_t t;
        memcpy(&t, p, sizeof t);
        v = (double)t;
        break;
    }
    case GDT_Float32:
    case GDT_CFloat32: {
        float f;
        memcpy(&f, p, sizeof f);
        if (isnan(nodata))
            return isnan(f);
        return f == (float)nodata;
    }
    case GDT_Float64:
    case GDT_CFloat64: {
        memcpy(&v, p, sizeof v);
        if (isnan(nodata))
            return isnan(v);
        return v == nodata || fabs(v - nodata) < 1e-10 ||
               (nodata != 0 && fabs(1 - v / nodata) < 1e-10);
    }
    default: return false;
    }
    return !isnan(nodata) && v == nodata;
}

/* One pixel's outcome: a value, or transparent (look below). */
static void settle(source_job *job, uint32_t p, uint32_t s, const unsigned char *pixel) {
    const rp_vrt_source *src = &job->vb->sources[s];
    rp_value_column *col = job->col;
    size_t ts = (size_t)col->band.type_size;
    if (src->has_nodata && transparent(col->band.type, pixel, src->nodata)) {
        job->limit[p] = s;
        job->again[p] = 1;
        return;
    }
    memcpy(col->values + (size_t)p * ts, pixel, ts);
    col->status[p] = rp_band_is_nodata(&col->band, pixel) ? RP_POINT_NODATA : RP_POINT_OK;
}

static void fail_points(source_job *job, const rp_source_task *t) {
    for (size_t k = 0; k < t->count; k++)
        job->col->status[job->tasks->order[t->start + k]] = RP_POINT_ERROR;
}

static void read_source_block(source_job *job, source_worker *w, size_t task) {
    const rp_source_task *t = &job->tasks->tasks[task];
    const rp_vrt_source *src = &job->vb->sources[t->source];
    const rp_grid *vg = &job->raster->grid;
    rp_error open_err;
    rp_error_clear(&open_err);
    GDALDatasetH ds = rp_handles_get(w->handles, src->path, &open_err);
    GDALRasterBandH band = ds ? GDALGetRasterBand(ds, src->band) : NULL;
    if (!band) {
        if (ds)
            snprintf(open_err.message, sizeof open_err.message, "has no band %d", src->band);
        log_failure(job, src, NULL, open_err.message);
        fail_points(job, t);
        atomic_fetch_add(&job->blocks_failed, 1);
        return;
    }
    const rp_band_info *info = &job->col->band;
    size_t ts = (size_t)info->type_size;
    int bw = 0, bh = 0;
    GDALGetBlockSize(band, &bw, &bh);
    /* the whole block when the file is as its XML says and the block fits */
    bool whole = bw == src->block_w && bh == src->block_h &&
                 GDALGetRasterDataType(band) == info->type &&
                 (size_t)bw * (size_t)bh * ts <= job->buffer_bytes;
    rp_gdal_capture_push(&w->capture);
    CPLErr e = CE_None;
    if (whole) {
        e = GDALReadBlock(band, (int)t->block_x, (int)t->block_y, w->block);
        /* a failure, or a success after a connection failed on the way (GDAL
         * may then hand back zeros: remote.c), is tried on a fresh handle */
        for (int attempt = 1; (e != CE_None || rp_remote_suspect(src->path, &w->capture)) &&
                              rp_remote_retry(src->path, &w->capture, attempt);
             attempt++) {
            rp_handles_drop(w->handles, src->path);
            rp_gdal_capture_reset(&w->capture);
            ds = rp_handles_get(w->handles, src->path, &open_err);
            band = ds ? GDALGetRasterBand(ds, src->band) : NULL;
            e = band ? GDALReadBlock(band, (int)t->block_x, (int)t->block_y, w->block) : CE_Failure;
        }
        if (e == CE_None && rp_remote_suspect(src->path, &w->capture))
            e = CE_Failure;
    }
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
    rp_gdal_capture_pop();
    if (e == CE_None && !whole && rp_remote_suspect(src->path, &w->capture))
        e = CE_Failure; /* pixel reads after a network failure: not trusted */
    if (e != CE_None) {
        log_failure(job, src, t,
                    w->capture.count ? rp_gdal_capture_text(&w->capture) : w->capture.http);
        fail_points(job, t); /* also those settled before a per-pixel failure */
        for (size_t k = 0; k < t->count; k++)
            job->again[job->tasks->order[t->start + k]] = 0;
    }
    atomic_fetch_add(e == CE_None ? &job->blocks_read : &job->blocks_failed, 1);
}

static rp_status run_source_run(void *ctx, void *state, size_t run, rp_error *err) {
    (void)err;
    source_job *job = ctx;
    for (size_t t = job->run_start[run]; t < job->run_start[run + 1]; t++)
        read_source_block(job, state, t);
    return RP_OK;
}

/* Pool tasks over the source blocks: one block each, or for remote sources
 * runs of up to rp_remote_run_length blocks of one source in file order
 * (remote.c). Fills run_start (ntasks + 1 entries); returns the count. */
static size_t group_runs(const rp_source_tasks *tasks, const rp_vrt_band *vb, int threads,
                         size_t *run_start) {
    size_t k = 1, nruns = 0;
    bool remote = false;
    for (size_t s = 0; s < vb->nsources && !remote; s++)
        remote = rp_path_is_remote(vb->sources[s].path);
    if (remote)
        k = rp_remote_run_length(tasks->ntasks, threads);
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

/* Datasets a worker may keep open: --max-open, lowered so that all
 * workers together stay well under the open-files limit. */
static int open_budget(const rp_extract_options *opts, int threads) {
    int cap = opts->max_open_per_worker > 0 ? opts->max_open_per_worker : 64;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        /* keep a quarter (and 32) for GDAL's own files, the output, ... */
        long spare = (long)rl.rlim_cur - (long)rl.rlim_cur / 4 - 32;
        long per = spare / (threads > 0 ? threads : 1);
        if (per < cap)
            cap = per < 1 ? 1 : (int)per;
    }
    return cap;
}

/* Reads column col from its sources; sv holds the first pass. */
static rp_status read_from_sources(rp_pool *pool, const rp_raster_info *raster, const rp_plan *plan,
                                   rp_value_column *col, band_survey *sv,
                                   const rp_extract_options *opts, rp_extract_read_stats *stats,
                                   rp_error *err) {
    rp_vrt_band *vb = &raster->vrt->bands[col->band.band - 1];
    size_t n = plan->npoints;
    source_job job = {.raster = raster,
                      .vb = vb,
                      .col = col,
                      .plan = plan,
                      .opts = opts,
                      .max_open = open_budget(opts, rp_pool_threads(pool))};
    job.limit = malloc((n ? n : 1) * sizeof *job.limit);
    job.again = calloc(n ? n : 1, 1);
    uint32_t *points = malloc((n ? n : 1) * sizeof *points);
    uint32_t *sources = malloc((n ? n : 1) * sizeof *sources);
    atomic_init(&job.blocks_read, 0);
    atomic_init(&job.blocks_failed, 0);
    pthread_mutex_init(&job.log_lock, NULL);
    unsigned char *failed_logged = calloc(vb->nsources ? vb->nsources : 1, 1);
    rp_status rc = job.limit && job.again && points && sources && failed_logged
                       ? RP_OK
                       : rp_error_set(err, RP_NOMEM, "out of memory planning %zu points", n);
    char message[256];
    const char *base = strrchr(raster->path, '/');
    snprintf(message, sizeof message, "%s", base ? base + 1 : raster->path);
    size_t npending = 0;
    for (size_t i = 0; rc == RP_OK && i < n; i++) {
        if (plan->cell[i] == RP_CELL_OUTSIDE)
            continue;
        if (sv->top[i] == RP_NO_SOURCE) {
            fill_gap(col, (uint32_t)i);
            continue;
        }
        points[npending] = (uint32_t)i;
        sources[npending++] = sv->top[i];
    }
    while (rc == RP_OK && npending > 0) {
        /* points on sources that cannot be opened fail here, named once */
        size_t keep = 0;
        for (size_t k = 0; k < npending; k++) {
            rp_vrt_source *src = &vb->sources[sources[k]];
            if (!src->props_failed) {
                points[keep] = points[k];
                sources[keep++] = sources[k];
                continue;
            }
            col->status[points[k]] = RP_POINT_ERROR;
            if (!failed_logged[sources[k]]) {
                failed_logged[sources[k]] = 1;
                char why[512];
                src->props_failed = false; /* ask again, for the message */
                rp_vrt_source_props(src, why, sizeof why);
                log_failure(&job, src, NULL, why);
                atomic_fetch_add(&job.blocks_failed, 1);
            }
        }
        npending = keep;
        rp_source_tasks tasks;
        if (rp_source_tasks_build(&tasks, vb, raster->grid.width, plan->cell, points, sources,
                                  npending) != 0) {
            rc = rp_error_set(err, RP_NOMEM, "out of memory grouping %zu points", npending);
            break;
        }
        job.tasks = &tasks;
        job.buffer_bytes = 0;
        for (size_t t = 0; t < tasks.ntasks; t++) {
            const rp_vrt_source *src = &vb->sources[tasks.tasks[t].source];
            size_t bytes =
                (size_t)src->block_w * (size_t)src->block_h * (size_t)col->band.type_size;
            if (bytes <= MAX_BLOCK_BYTES && bytes > job.buffer_bytes)
                job.buffer_bytes = bytes;
        }
        size_t *run_start = malloc((tasks.ntasks + 1) * sizeof *run_start);
        if (!run_start) {
            rp_source_tasks_free(&tasks);
            rc = rp_error_set(err, RP_NOMEM, "out of memory");
            break;
        }
        job.run_start = run_start;
        size_t nruns = group_runs(&tasks, vb, rp_pool_threads(pool), run_start);
        rp_pool_job pj = {.ntasks = nruns,
                          .ctx = &job,
                          .begin = source_begin,
                          .run = run_source_run,
                          .end = source_end,
                          .progress = opts->progress,
                          .progress_user = opts->progress_user,
                          .progress_message = message};
        if (tasks.ntasks)
            rc = rp_pool_run(pool, &pj, err);
        free(run_start);
        job.run_start = NULL;
        /* the next pass: transparent pixels look at the source below */
        size_t next = 0;
        for (size_t k = 0; rc == RP_OK && k < tasks.norder; k++) {
            uint32_t p = tasks.order[k];
            if (!job.again[p])
                continue;
            job.again[p] = 0;
            int64_t c = (int64_t)(plan->cell[p] % (uint64_t)raster->grid.width);
            int64_t r = (int64_t)(plan->cell[p] / (uint64_t)raster->grid.width);
            uint32_t s = lookup_resolving(sv, vb, c, r, job.limit[p]);
            if (s == RP_NO_SOURCE) {
                fill_gap(col, p);
                continue;
            }
            points[next] = p;
            sources[next++] = s;
        }
        npending = next;
        rp_source_tasks_free(&tasks);
    }
    stats->blocks_read += atomic_load(&job.blocks_read);
    stats->blocks_failed += atomic_load(&job.blocks_failed);
    pthread_mutex_destroy(&job.log_lock);
    free(failed_logged);
    free(points);
    free(sources);
    free(job.limit);
    free(job.again);
    return rc;
}

rp_status rp_extract_read_raster(rp_pool *pool, const rp_raster_info *raster, const rp_plan *plan,
                                 rp_value_column *const *columns, int ncolumns,
                                 const rp_extract_options *opts, rp_extract_read_stats *stats,
                                 rp_error *err) {
    if (!raster->vrt)
        return rp_extract_read_plan(pool, raster, plan, columns, ncolumns, opts, stats, err);
    rp_value_column **through = malloc((size_t)(ncolumns ? ncolumns : 1) * sizeof *through);
    if (!through)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    int nthrough = 0;
    rp_status rc = RP_OK;
    for (int c = 0; c < ncolumns && rc == RP_OK; c++) {
        band_survey sv;
        char why[256];
        if (!survey_band(raster, columns[c], plan, &sv, why, sizeof why)) {
            through[nthrough++] = columns[c];
            continue;
        }
        rc = read_from_sources(pool, raster, plan, columns[c], &sv, opts, stats, err);
        survey_free(&sv);
    }
    if (rc == RP_OK && nthrough)
        rc = rp_extract_read_plan(pool, raster, plan, through, nthrough, opts, stats, err);
    free(through);
    return rc;
}

void rp_extract_load_vrt(rp_raster_info *info) {
    if (!info->driver || strcmp(info->driver, "VRT") != 0)
        return;
    info->vrt = rp_vrt_read(info->path, info->vrt_why, sizeof info->vrt_why);
    if (!info->vrt && !info->vrt_why[0])
        snprintf(info->vrt_why, sizeof info->vrt_why, "its XML cannot be read");
}

bool rp_extract_setup_remote(const rp_extract_setup *s) {
    for (int r = 0; r < s->nrasters; r++)
        if (rp_path_is_remote(s->rasters[r].path) ||
            (s->rasters[r].vrt && s->rasters[r].vrt->remote))
            return true;
    return false;
}

void rp_extract_print_vrt_plan(FILE *out, const rp_raster_info *raster, const rp_plan *plan,
                               rp_value_column *const *columns, int ncolumns) {
    if (!raster->vrt && !raster->vrt_why[0])
        return;
    for (int c = 0; c < ncolumns; c++) {
        band_survey sv;
        char why[256];
        int band = columns[c]->band.band;
        if (!survey_band(raster, columns[c], plan, &sv, why, sizeof why)) {
            fprintf(out, "  band %d: read through GDAL's VRT reader: %s\n", band, why);
            continue;
        }
        const rp_vrt_band *vb = &raster->vrt->bands[band - 1];
        fprintf(out,
                "  band %d: read from its sources directly: %zu of %zu sources on top of "
                "some point, %zu files touched",
                band, sv.sources_top, vb->nsources, sv.files_any);
        if (sv.sources_any > sv.sources_top)
            fprintf(out, " (%zu sources may show through per-source nodata)",
                    sv.sources_any - sv.sources_top);
        fprintf(out, "\n");
        if (sv.sources_failed)
            fprintf(out, "  band %d: %zu source(s) cannot be opened: their points will fail\n",
                    band, sv.sources_failed);
        /* first-pass source blocks */
        size_t n = 0;
        uint32_t *pts = malloc((plan->npoints ? plan->npoints : 1) * sizeof *pts);
        uint32_t *srcs = malloc((plan->npoints ? plan->npoints : 1) * sizeof *srcs);
        for (size_t i = 0; pts && srcs && i < plan->npoints; i++) {
            if (sv.top[i] == RP_NO_SOURCE || vb->sources[sv.top[i]].props_failed)
                continue;
            pts[n] = (uint32_t)i;
            srcs[n++] = sv.top[i];
        }
        rp_source_tasks tasks;
        if (pts && srcs &&
            rp_source_tasks_build(&tasks, vb, raster->grid.width, plan->cell, pts, srcs, n) == 0) {
            fprintf(out, "  band %d: source blocks to read: %zu (first pass)\n", band,
                    tasks.ntasks);
            rp_source_tasks_free(&tasks);
        }
        free(pts);
        free(srcs);
        survey_free(&sv);
    }
}
