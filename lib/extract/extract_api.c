/*
 * extract_api.c — extraction for C callers and bindings, in memory: the
 * options from the same argv parser as the CLI (points not needed), arrays
 * of coordinates in (any stride), a result object out with one column per
 * (raster, band): its name, GDAL type, values in the band's own type
 * (exact, 64-bit integers included) or as doubles, and statuses. The same
 * engine as rp_extract_run (setup, plan, readers); each raster's metadata
 * is opened once, on the caller's thread, and the workers open their own.
 *
 * rp_extract_points, the older fixed-shape call, runs on the same path.
 *
 * Threads: runs on the caller's thread with its own pool for the call. A
 * result is immutable but for the doubles it converts on first ask
 * (rp_extract_result_values_f64): share it between threads only after
 * that.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "crs.h"
#include "error.h"
#include "extract_internal.h"
#include "pixel.h"
#include "pool.h"

struct rp_extract_result {
    size_t n;
    rp_value_column *columns; /* owned: names, values, statuses */
    int ncolumns;
    double **f64; /* per column, converted on first ask (or NULL) */
};

RP_API void rp_extract_result_free(rp_extract_result *r) {
    if (!r)
        return;
    for (int c = 0; c < r->ncolumns; c++) {
        free(r->columns[c].name);
        free(r->columns[c].status_name);
        free(r->columns[c].values);
        free(r->columns[c].status);
        if (r->f64)
            free(r->f64[c]);
    }
    free(r->columns);
    free(r->f64);
    free(r);
}

RP_API size_t rp_extract_result_npoints(const rp_extract_result *r) {
    return r->n;
}

RP_API int rp_extract_result_ncols(const rp_extract_result *r) {
    return r->ncolumns;
}

static const rp_value_column *column(const rp_extract_result *r, int col) {
    return col >= 0 && col < r->ncolumns ? &r->columns[col] : NULL;
}

RP_API const char *rp_extract_result_name(const rp_extract_result *r, int col) {
    const rp_value_column *c = column(r, col);
    return c ? c->name : NULL;
}

RP_API int rp_extract_result_type(const rp_extract_result *r, int col) {
    const rp_value_column *c = column(r, col);
    return c ? (int)c->band.value_type : (int)GDT_Unknown;
}

RP_API int rp_extract_result_type_size(const rp_extract_result *r, int col) {
    const rp_value_column *c = column(r, col);
    return c ? c->band.type_size : 0;
}

RP_API const void *rp_extract_result_values_raw(const rp_extract_result *r, int col) {
    const rp_value_column *c = column(r, col);
    return c ? c->values : NULL;
}

RP_API const uint8_t *rp_extract_result_status(const rp_extract_result *r, int col) {
    const rp_value_column *c = column(r, col);
    return c ? c->status : NULL;
}

RP_API const double *rp_extract_result_values_f64(rp_extract_result *r, int col) {
    const rp_value_column *c = column(r, col);
    if (!c)
        return NULL;
    if (!r->f64 && !(r->f64 = calloc((size_t)r->ncolumns, sizeof *r->f64)))
        return NULL;
    if (r->f64[col])
        return r->f64[col];
    double *v = malloc((r->n ? r->n : 1) * sizeof *v);
    if (!v)
        return NULL;
    size_t ts = (size_t)c->band.type_size;
    for (size_t i = 0; i < r->n; i++)
        v[i] = c->status[i] == RP_POINT_OUTSIDE || c->status[i] == RP_POINT_ERROR
                   ? NAN
                   : rp_pixel_as_double(c->band.value_type, c->values + i * ts);
    r->f64[col] = v;
    return v;
}

/* x[i] and y[i] at stride_bytes apart, as contiguous arrays: the caller's
 * own when they already are (*owned false). */
static rp_status gather_points(const double *x, const double *y, size_t n, size_t stride,
                               const double **gx, const double **gy, bool *owned, rp_error *err) {
    *owned = false;
    if (stride == 0 || stride == sizeof(double)) {
        *gx = x;
        *gy = y;
        return RP_OK;
    }
    double *cx = malloc((n ? n : 1) * sizeof *cx), *cy = malloc((n ? n : 1) * sizeof *cy);
    if (!cx || !cy) {
        free(cx);
        free(cy);
        return rp_error_set(err, RP_NOMEM, "out of memory for %zu points", n);
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(&cx[i], (const char *)x + i * stride, sizeof(double));
        memcpy(&cy[i], (const char *)y + i * stride, sizeof(double));
    }
    *gx = cx;
    *gy = cy;
    *owned = true;
    return RP_OK;
}

/* Hands the setup's columns to a new result. */
static rp_status take_columns(rp_extract_setup *setup, size_t n, rp_extract_result **out,
                              rp_error *err) {
    rp_extract_result *r = calloc(1, sizeof *r);
    if (!r)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    r->n = n;
    r->columns = setup->columns;
    r->ncolumns = setup->ncolumns;
    setup->columns = NULL;
    setup->ncolumns = 0;
    *out = r;
    return RP_OK;
}

/* The rasters' setup, remote detection, points CRS and pool. */
static rp_status prepare(rp_extract_options *run_opts, rp_extract_setup *setup,
                         OGRSpatialReferenceH *srs, rp_pool **pool, rp_error *err) {
    rp_status rc = rp_extract_setup_init(setup, run_opts->rasters, run_opts->nrasters,
                                         run_opts->bands, run_opts->nbands, err);
    if (rc == RP_OK)
        rc = rp_extract_setup_options(setup, run_opts, err);
    if (rc == RP_OK)
        rc = rp_sample_setup(setup, run_opts, err);
    if (rc == RP_OK && !run_opts->remote && rp_extract_setup_remote(setup)) {
        run_opts->remote = true;
        rp_gdal_config_apply_remote((const char *const *)(run_opts)->config, (run_opts)->nconfig,
                                    (run_opts)->remote, true);
    }
    if (rc == RP_OK && run_opts->points_crs &&
        !(*srs = rp_crs_from_user(run_opts->points_crs, err)))
        rc = RP_USAGE;
    if (rc == RP_OK)
        rc = rp_extract_check_transforms(setup, *srs, run_opts->log, err);
    if (rc == RP_OK) {
        int threads = rp_extract_job_threads(run_opts);
        *pool = rp_pool_new(threads);
        if (!*pool)
            rc = rp_error_set(err, RP_INTERNAL, "cannot start %d threads", threads);
    }
    return rc;
}

RP_API rp_status rp_extract_run_arrays(const rp_extract_options *opts, const double *x,
                                       const double *y, size_t n, size_t stride_bytes,
                                       rp_extract_result **out, rp_error *err) {
    *out = NULL;
    rp_extract_options run_opts = *opts;
    rp_gdal_config_apply_remote((const char *const *)(opts)->config, (opts)->nconfig,
                                (opts)->remote, true);
    rp_extract_setup setup;
    memset(&setup, 0, sizeof setup);
    OGRSpatialReferenceH srs = NULL;
    rp_pool *pool = NULL;
    rp_extract_read_stats stats = {0, 0, 0};
    const double *gx = NULL, *gy = NULL;
    bool owned = false;
    rp_status rc = prepare(&run_opts, &setup, &srs, &pool, err);
    if (rc == RP_OK)
        rc = gather_points(x, y, n, stride_bytes, &gx, &gy, &owned, err);
    if (rc == RP_OK)
        rc = rp_extract_setup_alloc(&setup, n, err);
    if (rc == RP_OK)
        rc = rp_extract_execute(&setup, pool, gx, gy, NULL, n, srs, &run_opts, &stats, err);
    if (rc == RP_OK)
        rc = take_columns(&setup, n, out, err);
    if (rc == RP_OK && stats.rasters_failed)
        rc = rp_error_set(err, RP_PARTIAL, "%llu raster(s) whose CRS cannot be reached",
                          (unsigned long long)stats.rasters_failed);
    else if (rc == RP_OK && stats.blocks_failed)
        rc = rp_error_set(err, RP_PARTIAL, "%llu unreadable block(s)",
                          (unsigned long long)stats.blocks_failed);
    if (owned) {
        free((void *)gx);
        free((void *)gy);
    }
    rp_pool_free(pool);
    if (srs)
        OSRDestroySpatialReference(srs);
    rp_extract_setup_free(&setup);
    rp_gdal_config_apply_remote((const char *const *)(&run_opts)->config, (&run_opts)->nconfig,
                                (&run_opts)->remote, false);
    return rc;
}

RP_API rp_status rp_extract_count_columns(const char *const *rasters, int nrasters,
                                          const int *bands, int nbands, int *ncols, rp_error *err) {
    rp_extract_setup setup;
    rp_status rc =
        rp_extract_setup_init(&setup, (char *const *)rasters, nrasters, bands, nbands, err);
    *ncols = rc == RP_OK ? setup.ncolumns : 0;
    rp_extract_setup_free(&setup);
    return rc;
}

RP_API rp_status rp_extract_points(const char *const *rasters, int nrasters, const int *bands,
                                   int nbands, const double *x, const double *y, size_t n,
                                   int threads, double *values, uint8_t *status, rp_error *err) {
    rp_extract_options opts;
    memset(&opts, 0, sizeof opts);
    opts.rasters = (char **)rasters;
    opts.nrasters = nrasters;
    opts.bands = (int *)bands;
    opts.nbands = nbands;
    opts.threads = threads;
    opts.max_open_per_worker = 64;
    rp_extract_result *r = NULL;
    rp_status rc = rp_extract_run_arrays(&opts, x, y, n, 0, &r, err);
    for (int c = 0; r && c < r->ncolumns; c++) {
        const rp_value_column *col = &r->columns[c];
        for (size_t i = 0; i < n; i++) {
            size_t k = (size_t)c * n + i;
            status[k] = col->status[i];
            values[k] = col->status[i] == RP_POINT_OK
                            ? rp_pixel_as_double(col->band.value_type,
                                                 col->values + i * (size_t)col->band.type_size)
                            : 0.0;
        }
    }
    rp_extract_result_free(r);
    return rc;
}
