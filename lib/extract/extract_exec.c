/*
 * extract_exec.c — executing a job's plan: one raster after the other,
 * plan its points (extract_plan.c), then hand each column to its reader:
 * a VRT column whose sources are plain 1:1 copies to the source reader
 * (read_sources.c), every other column to the block reader
 * (read_blocks.c). The progress of all rasters is one bar. A raster whose
 * CRS the points cannot reach fails only its columns; with --unscale the
 * columns of scaled bands become Float64 value * scale + offset once read.
 *
 * Also the extract job's remote policy: how many workers read remote
 * files, and how their blocks are grouped into pool tasks.
 *
 * Threads: the caller's thread; the readers run the pool.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "extract_internal.h"
#include "pixel.h"
#include "pool.h"
#include "read_common.h"
#include "read_sources.h"
#include "vrt_survey.h"

size_t rp_extract_run_length(size_t ntasks, int threads) {
    size_t per = 2 * (size_t)(threads > 0 ? threads : 1);
    size_t k = (ntasks + per - 1) / per;
    return k < 1 ? 1 : k > 16 ? 16 : k;
}

size_t rp_extract_block_run_length(size_t block_bytes) {
    return rp_read_block_run_length(block_bytes);
}

size_t rp_extract_block_runs(const rp_plan *plan, size_t max_len, size_t *first, size_t *count) {
    size_t nruns = 0;
    for (size_t i = 0; i < plan->nblocks; i++) {
        const rp_plan_block *b = &plan->blocks[i];
        if (nruns) {
            size_t k = nruns - 1;
            const rp_plan_block *last = &plan->blocks[first[k] + count[k] - 1];
            if (count[k] < max_len && last->block_y == b->block_y &&
                last->block_x + 1 == b->block_x) {
                count[k]++;
                continue;
            }
        }
        first[nruns] = i;
        count[nruns++] = 1;
    }
    return nruns;
}

static int by_size_descending(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

int rp_extract_io_workers(const size_t *run_count, size_t nruns, size_t block_bytes,
                          double round_trip) {
    if (nruns == 0 || round_trip < RP_EXTRACT_GROW_RTT)
        return 0;
    size_t want = nruns < RP_EXTRACT_AUTO_IO_THREADS ? nruns : RP_EXTRACT_AUTO_IO_THREADS;
    size_t *sorted = malloc(nruns * sizeof *sorted);
    if (!sorted) /* no memory to sort: the budget over the longest run */
        return 1;
    memcpy(sorted, run_count, nruns * sizeof *sorted);
    qsort(sorted, nruns, sizeof *sorted, by_size_descending);
    /* the k largest runs in flight at once must fit the budget */
    size_t k = 0, bytes = 0;
    while (k < want) {
        size_t run = sorted[k] * block_bytes * RP_EXTRACT_RUN_COPIES;
        if (k > 0 && bytes + run > RP_EXTRACT_IO_BUDGET)
            break;
        bytes += run;
        k++;
    }
    free(sorted);
    return (int)k;
}

int rp_extract_job_threads(const rp_extract_options *opts) {
    if (opts->remote)
        return opts->io_threads > 0 ? opts->io_threads : RP_EXTRACT_IO_THREADS;
    return opts->threads > 0 ? opts->threads : rp_usable_cpus();
}

rp_status rp_extract_read_raster(rp_pool *pool, const rp_extract_raster *raster,
                                 const rp_plan *plan, rp_value_column *const *columns, int ncolumns,
                                 const rp_extract_options *opts, rp_extract_read_stats *stats,
                                 rp_error *err) {
    if (!raster->vrt)
        return rp_extract_read_blocks(pool, &raster->info, raster->open_seconds / 2, plan, columns,
                                      ncolumns, opts, stats, err);
    rp_value_column **through = malloc((size_t)(ncolumns ? ncolumns : 1) * sizeof *through);
    if (!through)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    int nthrough = 0;
    rp_status rc = RP_OK;
    for (int c = 0; c < ncolumns && rc == RP_OK; c++) {
        rp_vrt_survey sv;
        char why[256];
        if (!rp_vrt_survey_band(raster, columns[c], plan, &sv, why, sizeof why)) {
            through[nthrough++] = columns[c];
            continue;
        }
        rc = rp_extract_read_sources(pool, raster, plan, columns[c], &sv, opts, stats, err);
        rp_vrt_survey_free(&sv);
    }
    if (rc == RP_OK && nthrough)
        rc = rp_extract_read_blocks(pool, &raster->info, raster->open_seconds / 2, plan, through,
                                    nthrough, opts, stats, err);
    free(through);
    return rc;
}

size_t rp_extract_warn_usable(const uint8_t *bad, size_t n, FILE *log) {
    /* when no row has a usable point, the rows are the problem, not the CRS */
    size_t nusable = n;
    for (size_t i = 0; bad && i < n; i++)
        nusable -= bad[i] != 0;
    if (nusable == 0 && n > 0 && log)
        fprintf(log,
                "rasterpool: warning: none of the %zu rows has a usable point (see the bad "
                "rows above), so no value can be read\n",
                n);
    return nusable;
}

void rp_extract_warn_no_points(const char *raster, size_t nusable, FILE *log) {
    if (nusable > 0 && log)
        fprintf(log,
                "rasterpool: warning: none of the %zu points falls on %s; are they in its "
                "CRS? (see --points-crs)\n",
                nusable, raster);
}

/* One progress bar over all rasters: raster i of n covers [i/n, (i+1)/n]. */
typedef struct raster_progress {
    rp_progress_fn fn;
    void *user;
    int index, count;
} raster_progress;

static int scale_progress(double fraction, const char *message, void *user) {
    raster_progress *p = user;
    return p->fn((p->index + fraction) / p->count, message, p->user);
}

/* Plans and reads raster r's columns. */
static rp_status execute_raster(rp_extract_setup *s, int r, rp_pool *pool, const double *x,
                                const double *y, size_t n, size_t nusable,
                                OGRSpatialReferenceH points_srs, rp_point_scratch *scratch,
                                rp_value_column **cols, const rp_extract_options *opts,
                                rp_extract_read_stats *stats, rp_error *err) {
    rp_plan plan;
    const rp_raster_info *info = &s->rasters[r].info;
    if (s->rasters[r].crs_error[0]) { /* said once by rp_extract_check_transforms */
        for (int c = 0; c < s->ncolumns; c++)
            if (s->columns[c].raster == r)
                memset(s->columns[c].status, RP_POINT_ERROR, n);
        stats->rasters_failed++;
        return RP_OK;
    }
    rp_status rc = rp_extract_plan_raster(info, points_srs, x, y, n, scratch, &plan, err);
    if (rc != RP_OK)
        return rc;
    int ncols = 0;
    for (int c = 0; c < s->ncolumns; c++)
        if (s->columns[c].raster == r)
            cols[ncols++] = &s->columns[c];
    if (stats->raster_inside)
        stats->raster_inside[r] += plan.inside;
    else if (plan.inside == 0)
        rp_extract_warn_no_points(info->path, nusable, opts->log);
    const double *rx, *ry;
    if (s->sample) /* the points in the raster's CRS, as planned */
        rc = rp_extract_raster_coords(info, points_srs, x, y, n, scratch, &rx, &ry, err);
    if (rc == RP_OK)
        rc = s->sample ? rp_sample_read_raster(pool, s, r, &plan, rx, ry, opts, stats, err)
                       : rp_extract_read_raster(pool, &s->rasters[r], &plan, cols, ncols, opts,
                                                stats, err);
    rp_plan_free(&plan);
    return rc;
}

rp_status rp_extract_execute(rp_extract_setup *s, rp_pool *pool, const double *x, const double *y,
                             const uint8_t *bad, size_t n, OGRSpatialReferenceH points_srs,
                             const rp_extract_options *opts, rp_extract_read_stats *stats,
                             rp_error *err) {
    rp_point_scratch scratch = {NULL, NULL, NULL, pool}; /* plans on the pool */
    rp_value_column **cols = malloc((size_t)(s->ncolumns ? s->ncolumns : 1) * sizeof *cols);
    rp_status rc = cols ? RP_OK : rp_error_set(err, RP_NOMEM, "out of memory");
    raster_progress progress = {opts->progress, opts->progress_user, 0, s->nrasters};
    size_t nusable = rp_extract_warn_usable(bad, n, opts->log);
    rp_extract_options raster_opts = *opts;
    if (opts->progress) {
        raster_opts.progress = scale_progress;
        raster_opts.progress_user = &progress;
    }
    for (int r = 0; r < s->nrasters && rc == RP_OK; r++) {
        progress.index = r;
        /* a cancel is seen before each raster, however short its read */
        if (raster_opts.progress &&
            raster_opts.progress(0, rp_read_basename(s->rasters[r].info.path),
                                 raster_opts.progress_user) != 0) {
            rc = rp_error_set(err, RP_INTERRUPTED, "interrupted");
            break;
        }
        rc = execute_raster(s, r, pool, x, y, n, nusable, points_srs, &scratch, cols, &raster_opts,
                            stats, err);
    }
    for (size_t i = 0; bad && i < n; i++)
        if (bad[i])
            for (int c = 0; c < s->ncolumns; c++)
                s->columns[c].status[i] = RP_POINT_ERROR;
    if (rc == RP_OK)
        rc = rp_extract_unscale(s, n, opts, err);
    free(cols);
    rp_point_scratch_free(&scratch);
    return rc;
}

bool rp_extract_unscaled(const rp_extract_options *opts, const rp_value_column *col) {
    return opts->unscale && col->band.has_scale && !GDALDataTypeIsComplex(col->band.type);
}

rp_band_info rp_extract_written_band(const rp_extract_options *opts, const rp_value_column *col) {
    rp_band_info b = col->band;
    if (rp_extract_unscaled(opts, col)) {
        b.type = b.value_type = GDT_Float64;
        b.type_size = 8;
        b.has_nodata = false; /* nodata was matched on the stored values */
        b.has_scale = false;
    }
    return b;
}

rp_status rp_extract_unscale(rp_extract_setup *s, size_t n, const rp_extract_options *opts,
                             rp_error *err) {
    for (int c = 0; c < s->ncolumns; c++) {
        rp_value_column *col = &s->columns[c];
        if (!rp_extract_unscaled(opts, col))
            continue;
        double *v = calloc(n ? n : 1, sizeof *v);
        if (!v)
            return rp_error_set(err, RP_NOMEM, "out of memory for %zu values", n);
        size_t ts = (size_t)col->band.type_size;
        for (size_t i = 0; i < n; i++)
            if (col->status[i] == RP_POINT_OK)
                v[i] = rp_pixel_as_double(col->band.value_type, col->values + i * ts) *
                           col->band.scale +
                       col->band.offset;
        free(col->values);
        col->values = (unsigned char *)v;
        col->band = rp_extract_written_band(opts, col);
    }
    return RP_OK;
}
