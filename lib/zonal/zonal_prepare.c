/*
 * zonal_prepare.c — the polygons' geometry work (transformation to the
 * raster's CRS, the validity check and make-valid through GEOS, rings in
 * pixel units) on a pool of threads, features in chunks. It is the serial
 * part of a job otherwise; each feature is prepared by one worker into its
 * own fields, and warnings are kept per feature and printed afterwards in
 * input order (zonal_polys.c), so nothing depends on the thread count.
 *
 * Threads: rp_pool workers; each makes its own coordinate transformation
 * (OGR's are not thread-safe). GEOS is used through OGR, which makes a GEOS
 * context per call.
 */
#include <stdlib.h>

#include <ogr_api.h>

#include "crs.h"
#include "error.h"
#include "pool.h"
#include "zonal_internal.h"

enum { CHUNK = 64 };

typedef struct prep_ctx {
    const zonal_raster *r;
    zonal_polys *p;
    OGRSpatialReferenceH src, dst; /* traditional axis order; NULL: no transform */
    const char *path;
} prep_ctx;

static rp_status begin(void *vctx, int worker, void **state, rp_error *err) {
    (void)worker;
    prep_ctx *c = vctx;
    *state = NULL;
    if (!c->src)
        return RP_OK;
    *state = OCTNewCoordinateTransformation(c->src, c->dst);
    return *state ? RP_OK
                  : rp_error_set(err, RP_CRS, "%s: no transformation to the raster's CRS", c->path);
}

static rp_status run(void *vctx, void *state, size_t task, rp_error *err) {
    prep_ctx *c = vctx;
    size_t end = (task + 1) * CHUNK < c->p->n ? (task + 1) * CHUNK : c->p->n;
    for (size_t i = task * CHUNK; i < end; i++)
        if (!zonal_feature_prepare(&c->p->feats[i], state, c->r, c->path))
            return rp_error_set(err, RP_NOMEM, "out of memory (polygon rings)");
    return RP_OK;
}

static void end(void *vctx, void *state) {
    (void)vctx;
    if (state)
        OCTDestroyCoordinateTransformation(state);
}

rp_status zonal_polys_prepare(const rp_zonal_options *o, const zonal_raster *r, zonal_polys *p,
                              OGRSpatialReferenceH src, rp_error *err) {
    prep_ctx c = {r, p, NULL, NULL, o->polygons_path};
    if (src) {
        c.src = rp_crs_clone(src);
        c.dst = rp_crs_clone(r->info.srs);
    }
    int threads = o->threads > 0 ? o->threads : rp_usable_cpus();
    rp_pool *pool = rp_pool_new(threads);
    rp_status rc = RP_NOMEM;
    if (pool && (!src || (c.src && c.dst))) {
        rp_pool_job job = {.ntasks = (p->n + CHUNK - 1) / CHUNK,
                           .ctx = &c,
                           .begin = begin,
                           .run = run,
                           .end = end,
                           .progress = o->progress,
                           .progress_user = o->progress_user,
                           .progress_message = "polygons"};
        rc = rp_pool_run(pool, &job, err);
    } else {
        rp_error_set(err, RP_NOMEM, "out of memory (thread pool)");
    }
    rp_pool_free(pool);
    if (c.src)
        OSRDestroySpatialReference(c.src);
    if (c.dst)
        OSRDestroySpatialReference(c.dst);
    return rc;
}
