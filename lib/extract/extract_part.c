/*
 * extract_part.c — a part of an extract job (extract_part.h): the job's
 * setup seen through a view whose value columns hold one part's points,
 * read by rp_extract_execute with the job's options less --unscale, and
 * with the points on each raster counted instead of warned about.
 *
 * Threads: the caller's; rp_extract_execute runs the pool. Ownership: the
 * view's columns array and value arrays are the part's; names, bands and
 * rasters are borrowed from the job's setup.
 */
#include <stdlib.h>
#include <string.h>

#include "crs.h"
#include "error.h"
#include "extract_part.h"
#include "pool.h"

static rp_status make_view(rp_extract_part *p, rp_error *err) {
    const rp_extract_setup *s = p->job;
    p->view = *s;
    p->view.columns = calloc((size_t)(s->ncolumns ? s->ncolumns : 1), sizeof *p->view.columns);
    p->inside = calloc((size_t)(s->nrasters ? s->nrasters : 1), sizeof *p->inside);
    if (!p->view.columns || !p->inside)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    for (int c = 0; c < s->ncolumns; c++) {
        p->view.columns[c] = s->columns[c];
        p->view.columns[c].values = NULL;
        p->view.columns[c].status = NULL;
    }
    p->opts.unscale = false;
    p->opts.execute = NULL;
    p->opts.progress = NULL; /* the farm reports the job's progress */
    p->stats.raster_inside = p->inside;
    return RP_OK;
}

rp_status rp_extract_part_borrow(rp_extract_part *p, rp_extract_setup *job, rp_pool *pool,
                                 OGRSpatialReferenceH points_srs, const rp_extract_options *opts,
                                 rp_error *err) {
    memset(p, 0, sizeof *p);
    p->job = job;
    p->pool = pool;
    p->srs = points_srs;
    p->opts = *opts;
    return make_view(p, err);
}

/* As rp_extract_run's setup stage: rasters, columns, sampling, remote. */
static rp_status open_setup(rp_extract_part *p, rp_error *err) {
    const rp_extract_options *o = &p->opts;
    rp_status rc = rp_extract_setup_init(p->job, o->rasters, o->nrasters, o->bands, o->nbands, err);
    if (rc == RP_OK)
        rc = rp_extract_setup_options(p->job, o, err);
    if (rc == RP_OK)
        rc = rp_sample_setup(p->job, o, err);
    if (rc == RP_OK && !p->opts.remote && rp_extract_setup_remote(p->job)) {
        p->opts.remote = true; /* sources of a VRT are remote */
        rp_gdal_config_apply_remote((const char *const *)o->config, o->nconfig, true, true);
    }
    return rc;
}

rp_status rp_extract_part_open(rp_extract_part *p, const rp_extract_options *opts, rp_error *err) {
    memset(p, 0, sizeof *p);
    p->owns = true;
    p->opts = *opts;
    p->job = calloc(1, sizeof *p->job);
    rp_gdal_config_apply_remote((const char *const *)opts->config, opts->nconfig, opts->remote,
                                true); /* --config on this thread, as rp_extract_run */
    if (!p->job)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    rp_status rc = open_setup(p, err);
    if (rc == RP_OK) {
        int threads = rp_extract_job_threads(&p->opts);
        p->pool = rp_pool_new(threads);
        if (!p->pool)
            rc = rp_error_set(err, RP_INTERNAL, "cannot start %d threads", threads);
    }
    return rc == RP_OK ? make_view(p, err) : rc;
}

rp_status rp_extract_part_points_crs(rp_extract_part *p, const char *points_wkt, rp_error *err) {
    if (p->opts.points_crs) {
        p->srs = rp_crs_from_user(p->opts.points_crs, err);
        if (!p->srs)
            return RP_USAGE;
    } else if (points_wkt && *points_wkt) {
        p->srs = rp_crs_from_wkt(points_wkt);
        if (!p->srs)
            return rp_error_set(err, RP_INTERNAL, "cannot read back the points' CRS");
    }
    /* crs_error per raster, as the job found it (and said so) */
    return rp_extract_check_transforms(p->job, p->srs, NULL, err);
}

static rp_status reserve(rp_extract_part *p, size_t k, rp_error *err) {
    if (k <= p->cap)
        return RP_OK;
    for (int c = 0; c < p->view.ncolumns; c++) {
        rp_value_column *col = &p->view.columns[c];
        free(col->values);
        free(col->status);
        col->values = malloc(k * (size_t)col->band.type_size);
        col->status = malloc(k);
        if (!col->values || !col->status) {
            p->cap = 0;
            return rp_error_set(err, RP_NOMEM, "out of memory for %zu values", k);
        }
    }
    p->cap = k;
    return RP_OK;
}

rp_status rp_extract_part_run(rp_extract_part *p, const double *x, const double *y, size_t k,
                              rp_error *err) {
    rp_status rc = reserve(p, k, err);
    for (int c = 0; rc == RP_OK && c < p->view.ncolumns; c++) {
        rp_value_column *col = &p->view.columns[c];
        memset(col->values, 0, k * (size_t)col->band.type_size);
        memset(col->status, RP_POINT_OUTSIDE, k);
    }
    if (rc == RP_OK && k > 0)
        rc = rp_extract_execute(&p->view, p->pool, x, y, NULL, k, p->srs, &p->opts, &p->stats, err);
    return rc;
}

size_t rp_extract_part_point_bytes(const rp_extract_part *p) {
    size_t bytes = 0;
    for (int c = 0; c < p->view.ncolumns; c++)
        bytes += (size_t)p->view.columns[c].band.type_size + 1;
    return bytes;
}

void rp_extract_part_free(rp_extract_part *p) {
    if (p->view.columns) {
        for (int c = 0; c < p->view.ncolumns; c++) {
            free(p->view.columns[c].values);
            free(p->view.columns[c].status);
        }
        free(p->view.columns);
    }
    free(p->inside);
    if (p->owns) {
        rp_pool_free(p->pool);
        if (p->srs)
            OSRDestroySpatialReference(p->srs);
        if (p->job) {
            rp_extract_setup_free(p->job);
            free(p->job);
        }
        rp_gdal_config_apply_remote((const char *const *)p->opts.config, p->opts.nconfig,
                                    p->opts.remote, false);
    }
    memset(p, 0, sizeof *p);
}
