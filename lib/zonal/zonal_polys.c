/*
 * zonal_polys.c — the polygons of a zonal job: every feature of an OGR
 * layer in input order, its attributes as text, its geometry transformed
 * to the raster's CRS, checked (invalid rings are repaired with
 * OGR_G_MakeValid, which needs GDAL built with GEOS; a feature that cannot
 * be repaired fails alone), flattened to rings and put in pixel units.
 *
 * Threads: the caller's. Ownership: zonal_polys owns every feature.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_error.h>
#include <ogr_api.h>

#include "crs.h"
#include "error.h"
#include "zonal_internal.h"

typedef struct ring_buf {
    double *xy;
    size_t nxy, capxy; /* doubles */
    size_t *starts;    /* ring start (in vertices) */
    unsigned char *hole;
    size_t nrings, caprings;
} ring_buf;

static bool buf_ring(ring_buf *b, OGRGeometryH ring, bool hole, const double *gt) {
    int n = OGR_G_GetPointCount(ring);
    if (n < 3)
        return true;
    if (b->nxy + 2 * (size_t)n > b->capxy) {
        size_t cap = (b->capxy + 2 * (size_t)n) * 2;
        double *g = realloc(b->xy, cap * sizeof *g);
        if (!g)
            return false;
        b->xy = g;
        b->capxy = cap;
    }
    if (b->nrings == b->caprings) {
        size_t cap = b->caprings ? b->caprings * 2 : 4;
        size_t *s = realloc(b->starts, cap * sizeof *s);
        if (s)
            b->starts = s;
        unsigned char *h = realloc(b->hole, cap);
        if (h)
            b->hole = h;
        if (!s || !h)
            return false;
        b->caprings = cap;
    }
    b->starts[b->nrings] = b->nxy / 2;
    b->hole[b->nrings++] = hole;
    for (int i = 0; i < n; i++) {
        b->xy[b->nxy++] = (OGR_G_GetX(ring, i) - gt[0]) / gt[1];
        b->xy[b->nxy++] = (OGR_G_GetY(ring, i) - gt[3]) / gt[5];
    }
    return true;
}

/* Adds the polygonal parts of g; *other counts parts that are not. */
static bool buf_geom(ring_buf *b, OGRGeometryH g, const double *gt, int *other) {
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t == wkbPolygon) {
        for (int i = 0; i < OGR_G_GetGeometryCount(g); i++)
            if (!buf_ring(b, OGR_G_GetGeometryRef(g, i), i > 0, gt))
                return false;
        return true;
    }
    if (t == wkbMultiPolygon || t == wkbGeometryCollection) {
        for (int i = 0; i < OGR_G_GetGeometryCount(g); i++)
            if (!buf_geom(b, OGR_G_GetGeometryRef(g, i), gt, other))
                return false;
        return true;
    }
    (*other)++;
    return true;
}

/* Moves the buffered rings into the feature. */
static bool take_rings(zonal_feature *f, ring_buf *b) {
    f->xy = b->xy;
    f->rings = calloc(b->nrings ? b->nrings : 1, sizeof *f->rings);
    f->a_hole = b->hole;
    if (!f->rings)
        return false;
    for (size_t i = 0; i < b->nrings; i++) {
        size_t end = (i + 1 < b->nrings) ? b->starts[i + 1] : b->nxy / 2;
        f->rings[i] = (rp_cov_ring){b->xy + 2 * b->starts[i], end - b->starts[i], 0};
    }
    f->poly = (rp_cov_poly){f->rings, f->a_hole, b->nrings, 0, 0, 0, 0};
    free(b->starts);
    memset(b, 0, sizeof *b);
    rp_cov_poly_prepare(&f->poly);
    return true;
}

static void set_window(zonal_feature *f, const rp_grid *g) {
    const rp_cov_poly *p = &f->poly;
    if (p->nrings == 0 || !isfinite(p->xmin) || !isfinite(p->ymax)) {
        f->c0 = f->c1 = f->r0 = f->r1 = 0;
        return;
    }
    f->c0 = (int64_t)fmax(floor(p->xmin), 0);
    f->r0 = (int64_t)fmax(floor(p->ymin), 0);
    f->c1 = (int64_t)fmin(ceil(p->xmax), (double)g->width);
    f->r1 = (int64_t)fmin(ceil(p->ymax), (double)g->height);
}

/* Sets the feature's warning (printed later, in input order). */
static void feature_msg(zonal_feature *f, const char *path, const char *what) {
    size_t n = strlen(path) + strlen(what) + 64;
    free(f->msg);
    f->msg = malloc(n);
    if (f->msg)
        snprintf(f->msg, n, "%s: feature FID %lld: %s", path, (long long)f->fid, what);
}

/* Makes g valid, or says why not; returns the geometry to use (owned). */
static OGRGeometryH check_valid(OGRGeometryH g, zonal_feature *f, const char *path) {
    CPLPushErrorHandler(CPLQuietErrorHandler);
    int valid = OGR_G_IsValid(g);
    CPLPopErrorHandler();
    if (valid)
        return g;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    OGRGeometryH fixed = OGR_G_MakeValid(g);
    CPLPopErrorHandler();
    if (!fixed) {
        f->status = ZST_INVALID;
        feature_msg(f, path,
                    "invalid geometry (self-intersecting or bad rings) and this GDAL cannot "
                    "repair it (make-valid needs GEOS); its values are empty");
        OGR_G_DestroyGeometry(g);
        return NULL;
    }
    f->status = ZST_REPAIRED;
    feature_msg(f, path, "invalid geometry, repaired with make-valid");
    OGR_G_DestroyGeometry(g);
    return fixed;
}

/* Takes the feature's geometry (linearised, owned by f->geom) and, with
 * --include-geom, its WKB; status no_geometry when it has none. */
static bool feature_take(OGRFeatureH feat, zonal_feature *f, bool keep_wkb) {
    OGRGeometryH g0 = OGR_F_GetGeometryRef(feat);
    if (!g0 || OGR_G_IsEmpty(g0)) {
        f->status = ZST_NO_GEOMETRY;
        return true;
    }
    if (keep_wkb) {
        f->wkb_size = (size_t)OGR_G_WkbSizeEx(g0);
        f->wkb = malloc(f->wkb_size ? f->wkb_size : 1);
        if (!f->wkb || OGR_G_ExportToIsoWkb(g0, wkbNDR, f->wkb) != OGRERR_NONE)
            return false;
    }
    f->geom =
        OGR_G_HasCurveGeometry(g0, TRUE) ? OGR_G_GetLinearGeometry(g0, 0, NULL) : OGR_G_Clone(g0);
    return f->geom != NULL;
}

bool zonal_feature_prepare(zonal_feature *f, void *ct, const zonal_raster *r, const char *path) {
    OGRGeometryH g = f->geom;
    f->geom = NULL;
    ring_buf b = {0};
    if (!g)
        return take_rings(f, &b);
    CPLPushErrorHandler(CPLQuietErrorHandler);
    bool moved = !ct || OGR_G_Transform(g, (OGRCoordinateTransformationH)ct) == OGRERR_NONE;
    CPLPopErrorHandler();
    if (!moved) {
        feature_msg(f, path, "cannot be transformed to the raster's CRS");
        f->status = ZST_INVALID;
        OGR_G_DestroyGeometry(g);
        return take_rings(f, &b);
    }
    g = check_valid(g, f, path);
    int other = 0;
    bool ok = !g || buf_geom(&b, g, r->info.grid.gt, &other);
    if (g && b.nrings == 0 && other > 0) {
        feature_msg(f, path, "not a polygon; its values are empty");
        f->status = ZST_INVALID;
    }
    OGR_G_DestroyGeometry(g);
    if (!ok) {
        free(b.xy);
        free(b.starts);
        free(b.hole);
        return false;
    }
    if (!take_rings(f, &b))
        return false;
    set_window(f, &r->info.grid);
    if (f->status == ZST_OK && (f->c0 >= f->c1 || f->r0 >= f->r1))
        f->status = ZST_OUTSIDE;
    return true;
}

/* The written columns: --fid's first, then all attributes or the
 * --include-col ones in their order. */
static rp_status pick_columns(const rp_zonal_options *o, zonal_polys *p, rp_error *err) {
    int first = o->fid ? 1 : 0;
    int n = o->include_all_cols ? p->ncols : o->ninclude_cols + first;
    p->out_cols = calloc((size_t)(n ? n : 1), sizeof *p->out_cols);
    if (!p->out_cols)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        if (o->include_all_cols || i < first) {
            p->out_cols[i] = i;
            continue;
        }
        const char *want = o->include_cols[i - first];
        int found = -1;
        for (int c = first; c < p->ncols && found < 0; c++)
            if (strcmp(p->col_names[c], want) == 0)
                found = c;
        if (found < 0)
            return rp_error_set(err, RP_USAGE, "--include-col %s: %s has no such attribute", want,
                                o->polygons_path);
        p->out_cols[i] = found;
    }
    p->nout_cols = n;
    return RP_OK;
}

static rp_status read_columns(OGRLayerH layer, const rp_zonal_options *o, zonal_polys *p,
                              rp_error *err) {
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(layer);
    int first = o->fid ? 1 : 0; /* --fid: the FID is column 0 */
    p->ncols = OGR_FD_GetFieldCount(defn) + first;
    p->col_names = calloc((size_t)(p->ncols ? p->ncols : 1), sizeof *p->col_names);
    p->col_types = calloc((size_t)(p->ncols ? p->ncols : 1), sizeof *p->col_types);
    if (!p->col_names || !p->col_types)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    if (first) {
        p->col_names[0] = strdup("fid");
        p->col_types[0] = (int)OFTInteger64;
        if (!p->col_names[0])
            return rp_error_set(err, RP_NOMEM, "out of memory");
    }
    for (int i = first; i < p->ncols; i++) {
        p->col_names[i] = strdup(OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i - first)));
        p->col_types[i] = (int)OGR_Fld_GetType(OGR_FD_GetFieldDefn(defn, i - first));
        if (!p->col_names[i])
            return rp_error_set(err, RP_NOMEM, "out of memory");
    }
    return pick_columns(o, p, err);
}

static rp_status read_feature(OGRFeatureH feat, zonal_polys *p, const rp_zonal_options *o,
                              rp_error *err) {
    if (p->n % 1024 == 0) {
        zonal_feature *g = realloc(p->feats, (p->n + 1024) * sizeof *g);
        if (!g)
            return rp_error_set(err, RP_NOMEM, "out of memory");
        p->feats = g;
    }
    zonal_feature *f = &p->feats[p->n++];
    memset(f, 0, sizeof *f);
    f->fid = OGR_F_GetFID(feat);
    f->attrs = calloc((size_t)(p->ncols ? p->ncols : 1), sizeof *f->attrs);
    if (!f->attrs)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    int first = o->fid ? 1 : 0;
    if (first) {
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", (long long)f->fid);
        if (!(f->attrs[0] = strdup(buf)))
            return rp_error_set(err, RP_NOMEM, "out of memory");
    }
    for (int i = first; i < p->ncols; i++)
        if (OGR_F_IsFieldSetAndNotNull(feat, i - first) &&
            !(f->attrs[i] = strdup(OGR_F_GetFieldAsString(feat, i - first))))
            return rp_error_set(err, RP_NOMEM, "out of memory");
    if (!feature_take(feat, f, o->include_geom))
        return rp_error_set(err, RP_NOMEM, "out of memory");
    return RP_OK;
}

static OGRCoordinateTransformationH make_transform(OGRLayerH layer, const zonal_raster *r) {
    OGRSpatialReferenceH src = OGR_L_GetSpatialRef(layer);
    if (!src || !r->info.srs || rp_crs_same(src, r->info.srs))
        return NULL;
    OGRSpatialReferenceH a = rp_crs_clone(src), b = rp_crs_clone(r->info.srs);
    OGRCoordinateTransformationH ct = OCTNewCoordinateTransformation(a, b);
    OSRDestroySpatialReference(a);
    OSRDestroySpatialReference(b);
    return ct;
}

/* Prints the features' warnings in input order (those not the same as
 * given before, in given) and counts the invalid ones. */
static void print_warnings(const rp_zonal_options *o, zonal_polys *p, char *const *given) {
    p->invalid = 0;
    for (size_t i = 0; i < p->n; i++) {
        zonal_feature *f = &p->feats[i];
        if (f->msg && o->log && !(given && given[i] && strcmp(given[i], f->msg) == 0))
            fprintf(o->log, "%s\n", f->msg);
        if (f->status == ZST_INVALID || f->status == ZST_REPAIRED)
            p->invalid++;
    }
}

rp_status zonal_polys_read(const rp_zonal_options *o, const zonal_raster *r, zonal_polys *p,
                           rp_error *err) {
    memset(p, 0, sizeof *p);
    GDALDatasetH ds =
        GDALOpenEx(o->polygons_path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds)
        return rp_error_set(err, RP_OPEN, "%s: cannot open as a vector dataset%s%s",
                            o->polygons_path,
                            CPLGetLastErrorMsg()[0] ? ": "
                                                    : " (no such file, "
                                                      "or not a format GDAL reads)",
                            CPLGetLastErrorMsg());
    OGRLayerH layer = o->layer
                          ? GDALDatasetGetLayerByName(ds, o->layer)
                          : (GDALDatasetGetLayerCount(ds) > 0 ? GDALDatasetGetLayer(ds, 0) : NULL);
    rp_status rc = RP_OK;
    if (!layer)
        rc = rp_error_set(err, o->layer ? RP_USAGE : RP_OPEN, "%s: %s", o->polygons_path,
                          o->layer ? "no layer of that --layer name" : "has no layer");
    if (rc == RP_OK)
        rc = read_columns(layer, o, p, err);
    if (rc == RP_OK && OGR_L_GetSpatialRef(layer))
        p->srs = OSRClone(OGR_L_GetSpatialRef(layer));
    OGRCoordinateTransformationH ct = rc == RP_OK ? make_transform(layer, r) : NULL;
    if (rc == RP_OK && OGR_L_GetSpatialRef(layer) && r->info.srs &&
        !rp_crs_same(OGR_L_GetSpatialRef(layer), r->info.srs) && !ct)
        rc = rp_error_set(err, RP_CRS, "%s: no transformation from its CRS to %s's",
                          o->polygons_path, o->raster);
    if (rc == RP_OK) {
        OGR_L_ResetReading(layer);
        OGRFeatureH feat;
        while (rc == RP_OK && (feat = OGR_L_GetNextFeature(layer)) != NULL) {
            rc = read_feature(feat, p, o, err);
            OGR_F_Destroy(feat);
        }
    }
    bool transform = ct != NULL;
    if (ct) /* a probe: the workers make their own */
        OCTDestroyCoordinateTransformation(ct);
    GDALClose(ds);
    if (rc == RP_OK && o->shard.count > 0)
        zonal_polys_shard(&o->shard, p);
    for (size_t i = 0; i < p->n && rc == RP_OK && r->ngrids > 1; i++)
        if (p->feats[i].geom && !(p->feats[i].geom_src = OGR_G_Clone(p->feats[i].geom)))
            rc = rp_error_set(err, RP_NOMEM, "out of memory");
    if (rc == RP_OK)
        rc = zonal_polys_prepare(o, r, p, transform ? p->srs : NULL, err);
    print_warnings(o, p, NULL);
    return rc;
}

rp_status zonal_polys_regrid(const rp_zonal_options *o, const zonal_raster *r, zonal_polys *p,
                             rp_error *err) {
    char **old = calloc(p->n ? p->n : 1, sizeof *old);
    if (!old)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    rp_status rc = RP_OK;
    for (size_t i = 0; i < p->n && rc == RP_OK; i++) {
        zonal_feature *f = &p->feats[i];
        old[i] = f->msg;
        f->msg = NULL;
        free(f->xy);
        free(f->rings);
        free(f->a_hole);
        f->xy = NULL;
        f->rings = NULL;
        f->a_hole = NULL;
        memset(&f->poly, 0, sizeof f->poly);
        f->c0 = f->c1 = f->r0 = f->r1 = 0;
        f->status = f->geom_src ? ZST_OK : ZST_NO_GEOMETRY;
        if (f->geom_src && !(f->geom = OGR_G_Clone(f->geom_src)))
            rc = rp_error_set(err, RP_NOMEM, "out of memory");
    }
    bool transform = p->srs && r->info.srs && !rp_crs_same(p->srs, r->info.srs);
    if (rc == RP_OK)
        rc = zonal_polys_prepare(o, r, p, transform ? p->srs : NULL, err);
    print_warnings(o, p, old);
    for (size_t i = 0; i < p->n; i++)
        free(old[i]);
    free(old);
    return rc;
}

void zonal_feature_free(zonal_feature *f, int ncols) {
    for (int c = 0; f->attrs && c < ncols; c++)
        free(f->attrs[c]);
    free(f->attrs);
    free(f->xy);
    free(f->rings);
    free(f->a_hole);
    free(f->wkb);
    free(f->msg);
    OGR_G_DestroyGeometry(f->geom);
    OGR_G_DestroyGeometry(f->geom_src);
}

void zonal_polys_free(zonal_polys *p) {
    for (size_t i = 0; i < p->n; i++)
        zonal_feature_free(&p->feats[i], p->ncols);
    if (p->srs)
        OSRDestroySpatialReference(p->srs);
    free(p->feats);
    for (int c = 0; c < p->ncols; c++)
        free(p->col_names[c]);
    free(p->col_names);
    free(p->col_types);
    free(p->out_cols);
    memset(p, 0, sizeof *p);
}
