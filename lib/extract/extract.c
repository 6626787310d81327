/*
 * extract.c — the extract job: points in, values out.
 *
 * Plan, then execute. The job first opens every raster's metadata and
 * checks every band (so a typo fails in a second, not after an hour), reads
 * the points (pass 1: coordinates only), then, one raster at a time,
 * transforms the points to the raster's CRS if needed, plans (points
 * grouped by block, plan.c) and executes the plan on the thread pool
 * (extract_read.c). Finally the rows are read again and written with their
 * values (table_out.c), in input order. --plan stops after planning and
 * prints what would be read.
 *
 * Memory: 16 bytes a point for coordinates (plus 16 more while points are
 * transformed), 12 for the plan of the raster being read, and per value
 * column the band's type size plus 1 status byte; block buffers are per
 * worker.
 *
 * Threads: runs on the caller's thread, which also reports progress; the
 * pool's workers only read blocks.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "crs.h"
#include "error.h"
#include "extract_internal.h"
#include "points_read.h"
#include "pool.h"
#include "remote.h"
#include "table_write.h"
#include "vrt_sources.h"

/* "dir/name.tif" -> "name" */
static char *file_stem(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, base, n);
        s[n] = '\0';
    }
    return s;
}

/* Value column names: b<N> for one raster; <stem>_b<N> for several, with
 * <stem>_<position> where two rasters share a stem. */
static rp_status name_columns(rp_extract_setup *s, char *const *rasters, rp_error *err) {
    for (int c = 0; c < s->ncolumns; c++) {
        rp_value_column *col = &s->columns[c];
        int r = col->raster;
        char name[1100], prefix[1024] = "";
        if (s->nrasters > 1) {
            char *stem = file_stem(rasters[r]);
            if (!stem)
                return rp_error_set(err, RP_NOMEM, "out of memory");
            bool shared = false;
            for (int o = 0; o < s->nrasters; o++) {
                char *other = o == r ? NULL : file_stem(rasters[o]);
                if (other && strcmp(other, stem) == 0)
                    shared = true;
                free(other);
            }
            if (shared)
                snprintf(prefix, sizeof prefix, "%s_%d_", stem, r + 1);
            else
                snprintf(prefix, sizeof prefix, "%s_", stem);
            free(stem);
        }
        snprintf(name, sizeof name, "%sb%d", prefix, col->band.band);
        col->name = strdup(name);
        if (s->ncolumns == 1)
            snprintf(name, sizeof name, "status");
        else
            snprintf(name, sizeof name, "%sb%d_status", prefix, col->band.band);
        col->status_name = strdup(name);
        if (!col->name || !col->status_name)
            return rp_error_set(err, RP_NOMEM, "out of memory");
    }
    return RP_OK;
}

/* Adds raster r's band columns (the bands asked for, or all), reading each
 * band's metadata from the caller's handle ds. */
static rp_status add_band_columns(rp_extract_setup *s, int r, GDALDatasetH ds, const char *path,
                                  const int *bands, int nbands, rp_error *err) {
    int count = nbands ? nbands : s->rasters[r].band_count;
    rp_value_column *grown = realloc(s->columns, (size_t)(s->ncolumns + count) * sizeof *grown);
    if (!grown)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    s->columns = grown;
    for (int k = 0; k < count; k++) {
        rp_value_column *col = &s->columns[s->ncolumns];
        memset(col, 0, sizeof *col);
        col->raster = r;
        rp_status rc = rp_band_info_read(ds, path, nbands ? bands[k] : k + 1, &col->band, err);
        if (rc != RP_OK)
            return rc;
        s->ncolumns++;
    }
    return RP_OK;
}

rp_status rp_extract_setup_init(rp_extract_setup *s, char *const *rasters, int nrasters,
                                const int *bands, int nbands, rp_error *err) {
    memset(s, 0, sizeof *s);
    s->rasters = calloc((size_t)nrasters, sizeof *s->rasters);
    if (!s->rasters)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    s->nrasters = nrasters;
    for (int r = 0; r < nrasters; r++) {
        GDALDatasetH ds = NULL;
        rp_status rc = rp_raster_info_read(rasters[r], &s->rasters[r], &ds, err);
        if (rc == RP_OK)
            rp_extract_load_vrt(&s->rasters[r]);
        if (rc == RP_OK) {
            rc = add_band_columns(s, r, ds, rasters[r], bands, nbands, err);
            GDALClose(ds);
        }
        if (rc != RP_OK)
            return rc;
    }
    return name_columns(s, rasters, err);
}

void rp_extract_setup_free(rp_extract_setup *s) {
    if (!s)
        return;
    for (int c = 0; c < s->ncolumns; c++) {
        free(s->columns[c].name);
        free(s->columns[c].status_name);
        free(s->columns[c].values);
        free(s->columns[c].status);
    }
    free(s->columns);
    for (int r = 0; r < s->nrasters; r++) {
        rp_vrt_free(s->rasters[r].vrt);
        rp_raster_info_free(&s->rasters[r]);
    }
    free(s->rasters);
    memset(s, 0, sizeof *s);
}

rp_status rp_extract_setup_alloc(rp_extract_setup *s, size_t n, rp_error *err) {
    for (int c = 0; c < s->ncolumns; c++) {
        rp_value_column *col = &s->columns[c];
        col->values = calloc(n ? n : 1, (size_t)col->band.type_size);
        col->status = malloc(n ? n : 1);
        if (!col->values || !col->status)
            return rp_error_set(err, RP_NOMEM, "out of memory for %zu values", n);
        memset(col->status, RP_POINT_OUTSIDE, n);
    }
    return RP_OK;
}

/* Points moved to one raster's CRS, kept for the next raster when it has
 * the same CRS. */
typedef struct point_scratch {
    double *x, *y;
    OGRSpatialReferenceH srs; /* the CRS x/y are in (borrowed), or NULL */
} point_scratch;

/* Plans one raster: the points, transformed to its CRS when it differs from
 * theirs, grouped by block. */
static rp_status plan_raster(const rp_raster_info *raster, OGRSpatialReferenceH points_srs,
                             const double *x, const double *y, size_t n, point_scratch *scratch,
                             rp_plan *plan, rp_error *err) {
    if (points_srs && raster->srs && !rp_crs_same(points_srs, raster->srs)) {
        if (!scratch->srs || !rp_crs_same(scratch->srs, raster->srs)) {
            if (!scratch->x) {
                scratch->x = malloc((n ? n : 1) * sizeof *scratch->x);
                scratch->y = malloc((n ? n : 1) * sizeof *scratch->y);
                if (!scratch->x || !scratch->y)
                    return rp_error_set(err, RP_NOMEM, "out of memory transforming points");
            }
            scratch->srs = NULL;
            rp_status rc =
                rp_crs_transform(points_srs, raster->srs, x, y, scratch->x, scratch->y, n, err);
            if (rc != RP_OK)
                return rc;
            scratch->srs = raster->srs;
        }
        x = scratch->x;
        y = scratch->y;
    }
    if (rp_plan_build(plan, &raster->grid, x, y, n) != 0)
        return rp_error_set(err, RP_NOMEM, "%s: cannot plan %zu points (out of memory)",
                            raster->path, n);
    return RP_OK;
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

rp_status rp_extract_execute(rp_extract_setup *s, rp_pool *pool, const double *x, const double *y,
                             const uint8_t *bad, size_t n, OGRSpatialReferenceH points_srs,
                             const rp_extract_options *opts, rp_extract_read_stats *stats,
                             rp_error *err) {
    point_scratch scratch = {NULL, NULL, NULL};
    rp_value_column **cols = malloc((size_t)(s->ncolumns ? s->ncolumns : 1) * sizeof *cols);
    rp_status rc = cols ? RP_OK : rp_error_set(err, RP_NOMEM, "out of memory");
    raster_progress progress = {opts->progress, opts->progress_user, 0, s->nrasters};
    rp_extract_options raster_opts = *opts;
    if (opts->progress) {
        raster_opts.progress = scale_progress;
        raster_opts.progress_user = &progress;
    }
    for (int r = 0; r < s->nrasters && rc == RP_OK; r++) {
        progress.index = r;
        rp_plan plan;
        rc = plan_raster(&s->rasters[r], points_srs, x, y, n, &scratch, &plan, err);
        if (rc != RP_OK)
            break;
        int ncols = 0;
        for (int c = 0; c < s->ncolumns; c++)
            if (s->columns[c].raster == r)
                cols[ncols++] = &s->columns[c];
        if (plan.inside == 0 && n > 0 && opts->log)
            fprintf(opts->log,
                    "rasterpool: warning: none of the %zu points falls on %s; are they in its "
                    "CRS? (see --points-crs)\n",
                    n, s->rasters[r].path);
        rc = rp_extract_read_raster(pool, &s->rasters[r], &plan, cols, ncols, &raster_opts, stats,
                                    err);
        rp_plan_free(&plan);
    }
    for (size_t i = 0; bad && i < n; i++)
        if (bad[i])
            for (int c = 0; c < s->ncolumns; c++)
                s->columns[c].status[i] = RP_POINT_ERROR;
    free(cols);
    free(scratch.x);
    free(scratch.y);
    return rc;
}

/* The stored bytes of the blocks a plan touches, over the bands to read
 * (pixel-interleaved files store all bands in one block: band 1 counts for
 * all); -1 when the format does not tell. */
static int64_t planned_bytes(const rp_extract_setup *s, int r, const rp_plan *plan) {
    GDALDatasetH ds = rp_remote_open(s->rasters[r].path, GDAL_OF_RASTER | GDAL_OF_READONLY);
    if (!ds)
        return -1;
    const char *il = GDALGetMetadataItem(ds, "INTERLEAVE", "IMAGE_STRUCTURE");
    bool pixel_interleaved = il && strcmp(il, "PIXEL") == 0 && GDALGetRasterCount(ds) > 1;
    int64_t bytes = 0;
    for (int c = 0; c < s->ncolumns && bytes >= 0; c++) {
        if (s->columns[c].raster != r)
            continue;
        int band = pixel_interleaved ? 1 : s->columns[c].band.band;
        for (size_t b = 0; b < plan->nblocks && bytes >= 0; b++) {
            int64_t one =
                rp_raster_block_bytes(ds, band, plan->blocks[b].block_x, plan->blocks[b].block_y);
            bytes = one < 0 ? -1 : bytes + one;
        }
        if (pixel_interleaved)
            break;
    }
    GDALClose(ds);
    return bytes;
}

/* --plan: what would be read, without reading a pixel. */
static rp_status print_plan(rp_extract_setup *s, const rp_points *pts,
                            OGRSpatialReferenceH points_srs, rp_error *err) {
    point_scratch scratch = {NULL, NULL, NULL};
    rp_status rc = RP_OK;
    printf("points: %zu\n", pts->n);
    printf("bad rows: %zu (no coordinates; not read)\n", pts->nbad);
    for (int r = 0; r < s->nrasters && rc == RP_OK; r++) {
        const rp_raster_info *ri = &s->rasters[r];
        const rp_grid *g = &ri->grid;
        rp_plan plan;
        rc = plan_raster(ri, points_srs, pts->x, pts->y, pts->n, &scratch, &plan, err);
        if (rc != RP_OK)
            break;
        int ncols = 0, nlisted = 0;
        rp_value_column *cols[256]; /* the VRT plan lines cover the first 256 */
        for (int c = 0; c < s->ncolumns; c++) {
            if (s->columns[c].raster != r)
                continue;
            ncols++;
            if (nlisted < 256)
                cols[nlisted++] = &s->columns[c];
        }
        printf("raster %s (%s): %" PRId64 " x %" PRId64 ", blocks %" PRId64 " x %" PRId64
               ", %d band(s) to read\n",
               ri->path, ri->driver, g->width, g->height, g->block_w, g->block_h, ncols);
        printf("  points inside: %zu\n", plan.inside);
        printf("  points outside: %zu\n", plan.npoints - plan.inside - pts->nbad);
        printf("  blocks touched: %zu of %" PRId64 "\n", plan.nblocks, g->blocks_x * g->blocks_y);
        int64_t bytes = planned_bytes(s, r, &plan);
        if (bytes >= 0)
            printf("  estimated bytes to read: %" PRId64 " (the touched blocks as stored)\n",
                   bytes);
        else
            printf("  estimated bytes to read: unknown (the format does not say)\n");
        rp_extract_print_vrt_plan(stdout, ri, &plan, cols, nlisted);
        rp_plan_free(&plan);
    }
    free(scratch.x);
    free(scratch.y);
    if (fflush(stdout) != 0 && rc == RP_OK)
        rc = rp_error_set(err, RP_WRITE, "cannot write to standard output");
    return rc;
}

/* Before any pixel is read: every needed CRS transformation can be built,
 * and rasters without a CRS are pointed out when points have one. */
static rp_status check_transforms(const rp_extract_setup *s, OGRSpatialReferenceH points_srs,
                                  FILE *log, rp_error *err) {
    if (!points_srs)
        return RP_OK;
    for (int r = 0; r < s->nrasters; r++) {
        const rp_raster_info *ri = &s->rasters[r];
        if (!ri->srs) {
            if (log)
                fprintf(log,
                        "rasterpool: warning: %s has no CRS; the points are used as they "
                        "are\n",
                        ri->path);
            continue;
        }
        if (rp_crs_same(points_srs, ri->srs))
            continue;
        rp_error local;
        rp_error_clear(&local);
        double x = 0, y = 0;
        if (rp_crs_transform(points_srs, ri->srs, &x, &y, &x, &y, 1, &local) != RP_OK)
            return rp_error_set(err, local.code, "%s: %s", ri->path, local.message);
    }
    return RP_OK;
}

/* Progress goes to the caller's function, else to a bar on the log. */
typedef struct progress_relay {
    const rp_extract_options *opts;
    rp_progress_bar *bar;
} progress_relay;

static int relay_progress(double fraction, const char *message, void *user) {
    progress_relay *relay = user;
    if (relay->opts->progress)
        return relay->opts->progress(fraction, message, relay->opts->progress_user);
    return rp_progress_bar_update(fraction, message, relay->bar);
}

static void count_statuses(const rp_extract_setup *s, size_t n, rp_extract_report *rep) {
    for (int c = 0; c < s->ncolumns; c++) {
        for (size_t i = 0; i < n; i++) {
            switch (s->columns[c].status[i]) {
            case RP_POINT_OK: rep->values_ok++; break;
            case RP_POINT_NODATA: rep->values_nodata++; break;
            case RP_POINT_OUTSIDE: rep->values_outside++; break;
            default: rep->values_error++; break;
            }
        }
    }
}

static void print_summary(FILE *log, const rp_extract_report *rep, const double t[4]) {
    fprintf(log,
            "rasterpool: %llu points (%llu bad rows), %llu blocks read (%llu failed), "
            "%d threads; values: %llu ok, %llu nodata, %llu outside, %llu error\n"
            "rasterpool: time: read points %.3f s, read rasters %.3f s, write %.3f s\n",
            (unsigned long long)rep->points, (unsigned long long)rep->bad_rows,
            (unsigned long long)rep->blocks_read, (unsigned long long)rep->blocks_failed,
            rep->threads, (unsigned long long)rep->values_ok,
            (unsigned long long)rep->values_nodata, (unsigned long long)rep->values_outside,
            (unsigned long long)rep->values_error, t[1] - t[0], t[2] - t[1], t[3] - t[2]);
}

/* Remote reads wait on the network: --io-threads (default 32) of them. */
static int job_threads(const rp_extract_options *opts) {
    if (opts->remote)
        return opts->io_threads > 0 ? opts->io_threads : RP_REMOTE_DEFAULT_IO_THREADS;
    return opts->threads > 0 ? opts->threads : rp_usable_cpus();
}

RP_API rp_status rp_extract_run(const rp_extract_options *opts, rp_extract_report *report,
                                rp_error *err) {
    rp_extract_report local_report;
    rp_extract_report *rep = report ? report : &local_report;
    memset(rep, 0, sizeof *rep);
    rp_gdal_config_apply_remote((const char *const *)opts->config, opts->nconfig, opts->remote,
                                true);
    rp_extract_setup setup;
    rp_points pts;
    memset(&pts, 0, sizeof pts);
    OGRSpatialReferenceH user_srs = NULL;
    rp_pool *pool = NULL;
    progress_relay relay = {.opts = opts};
    rp_extract_options run_opts = *opts;
    rp_extract_read_stats stats = {0, 0};
    double t[4]; /* start, points read, rasters read, written */
    t[0] = t[1] = t[2] = t[3] = rp_monotonic_seconds();

    rp_status rc = rp_extract_setup_init(&setup, opts->rasters, opts->nrasters, opts->bands,
                                         opts->nbands, err);
    if (rc == RP_OK && !run_opts.remote && rp_extract_setup_remote(&setup)) {
        run_opts.remote = true; /* sources of a VRT are remote */
        rp_gdal_config_apply_remote((const char *const *)opts->config, opts->nconfig, true, true);
    }
    if (rc == RP_OK && !opts->plan_only)
        rc = rp_table_check_output(opts->output_path, err);
    if (rc == RP_OK && opts->points_crs) {
        user_srs = rp_crs_from_user(opts->points_crs, err);
        if (!user_srs)
            rc = RP_USAGE;
    }
    if (rc == RP_OK) {
        rep->threads = job_threads(&run_opts);
        pool = rp_pool_new(rep->threads);
        if (!pool)
            rc = rp_error_set(err, RP_INTERNAL, "cannot start %d threads", rep->threads);
    }
    if (rc == RP_OK) {
        rp_points_options po = {.path = opts->points_path,
                                .x_col = opts->x_col,
                                .y_col = opts->y_col,
                                .layer = opts->layer,
                                .log = opts->log,
                                .progress = relay_progress,
                                .progress_user = &relay,
                                .pool = pool};
        rc = rp_points_read(&po, &pts, err);
    }
    t[1] = t[2] = t[3] = rp_monotonic_seconds();
    OGRSpatialReferenceH points_srs = user_srs ? user_srs : pts.srs;
    if (rc == RP_OK)
        rc = check_transforms(&setup, points_srs, opts->log, err);
    if (rc == RP_OK && !opts->plan_only)
        rc = rp_table_unique_names(&pts, setup.columns, setup.ncolumns, opts->status_column,
                                   opts->log, err);
    if (rc == RP_OK && !opts->plan_only) /* before any pixel work */
        rc = rp_table_check_fields(opts->output_path, &pts, setup.columns, setup.ncolumns,
                                   opts->status_column, err);
    rep->points = pts.n;
    rep->bad_rows = pts.nbad;
    if (rc == RP_OK && opts->plan_only) {
        rc = print_plan(&setup, &pts, points_srs, err);
        goto done;
    }
    if (rc == RP_OK)
        rc = rp_extract_setup_alloc(&setup, pts.n, err);
    if (rc == RP_OK) {
        run_opts.progress = relay_progress;
        run_opts.progress_user = &relay;
        rc = rp_extract_execute(&setup, pool, pts.x, pts.y, pts.bad, pts.n, points_srs, &run_opts,
                                &stats, err);
    }
    t[2] = t[3] = rp_monotonic_seconds();
    if (rc == RP_OK) {
        /* the output's CRS is the points' own, or the first raster's */
        rp_table_spec spec = {.name = opts->output_path,
                              .points = &pts,
                              .columns = setup.columns,
                              .ncolumns = setup.ncolumns,
                              .with_status = opts->status_column,
                              .srs = points_srs ? points_srs : setup.rasters[0].srs,
                              .log = opts->log,
                              .pool = pool,
                              .progress = relay_progress,
                              .progress_user = &relay};
        rc = rp_table_write(opts->output_path, &spec, err);
    }
    t[3] = rp_monotonic_seconds();
    if (rc == RP_OK)
        count_statuses(&setup, pts.n, rep);
done:
    rep->blocks_read = stats.blocks_read;
    rep->blocks_failed = stats.blocks_failed;
    if (rc == RP_OK && (pts.nbad || stats.blocks_failed)) {
        rc = RP_PARTIAL;
        if (pts.nbad && stats.blocks_failed)
            rp_error_set(err, RP_PARTIAL, "%zu bad row(s) and %llu unreadable block(s)", pts.nbad,
                         (unsigned long long)stats.blocks_failed);
        else if (pts.nbad)
            rp_error_set(err, RP_PARTIAL, "%zu bad row(s)", pts.nbad);
        else
            rp_error_set(err, RP_PARTIAL, "%llu unreadable block(s)",
                         (unsigned long long)stats.blocks_failed);
    }
    rp_progress_bar_free(relay.bar);
    if (opts->info && !opts->plan_only)
        print_summary(opts->info, rep, t);
    rp_pool_free(pool);
    if (user_srs)
        OSRDestroySpatialReference(user_srs);
    rp_points_free(&pts);
    rp_extract_setup_free(&setup);
    rp_gdal_config_apply_remote((const char *const *)opts->config, opts->nconfig, false, false);
    return rc;
}
