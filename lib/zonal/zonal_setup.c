/*
 * zonal_setup.c — the raster side of a zonal job, read on the caller's
 * thread before planning: the grid (north-up only), the bands and their
 * nodata/masks, the grid of each raster (rasters on the same grid and CRS
 * share one: its coverage is computed once for all of them), and the
 * --weights raster, which must share the grid.
 *
 * Threads: the caller's. Ownership: zonal_raster owns what it holds.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crs.h"
#include "error.h"
#include "zonal_internal.h"

/* Appends raster k's bands (-b, or all of them) to r. */
static rp_status add_bands(const rp_zonal_options *o, int k, GDALDatasetH ds, int band_count,
                           zonal_raster *r, rp_error *err) {
    int n = o->nbands ? o->nbands : band_count;
    rp_band_info *bands = realloc(r->bands, (size_t)(r->nbands + n) * sizeof *bands);
    if (bands)
        r->bands = bands;
    int *src = realloc(r->band_src, (size_t)(r->nbands + n) * sizeof *src);
    if (src)
        r->band_src = src;
    if (!bands || !src)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        int b = o->nbands ? o->bands[i] : i + 1;
        rp_status rc = rp_band_info_read(ds, o->rasters[k], b, &r->bands[r->nbands], err);
        if (rc != RP_OK)
            return rc;
        r->band_src[r->nbands++] = k;
    }
    return RP_OK;
}

/* A raster without a geotransform (GCP-only, RPC-only, geolocation arrays,
 * or nothing) has GDAL's identity geotransform: polygons would be laid over
 * its pixel/line space and give plausible, wrong numbers. Refused, naming
 * what it has (issue 15 item 2). */
static rp_status need_geotransform(const rp_raster_info *info, const char *role, rp_error *err) {
    if (info->has_geotransform)
        return RP_OK;
    char has[160] = "";
    size_t n = 0;
    if (info->ngcps > 0)
        n +=
            (size_t)snprintf(has, sizeof has, "%d GCP%s", info->ngcps, info->ngcps == 1 ? "" : "s");
    if (info->has_rpc && n < sizeof has)
        n += (size_t)snprintf(has + n, sizeof has - n, "%sRPC metadata", n ? " and " : "");
    if (info->has_geoloc && n < sizeof has)
        snprintf(has + n, sizeof has - n, "%sgeolocation arrays", n ? " and " : "");
    if (has[0])
        return rp_error_set(err, RP_USAGE,
                            "%s%s: has no geotransform, only %s; zonal needs a geotransform "
                            "(warp it to one first: gdalwarp%s)",
                            role, info->path, has,
                            info->ngcps > 0 ? " -tps or -order N"
                            : info->has_rpc ? " -rpc"
                                            : " -geoloc");
    return rp_error_set(err, RP_USAGE,
                        "%s%s: has no geotransform, GCPs, RPCs or geolocation arrays: its "
                        "polygons cannot be placed on it (give it one first, e.g. "
                        "gdal_translate -a_ullr or gdal_edit.py -a_ullr)",
                        role, info->path);
}

static bool same_grid(const rp_grid *a, const rp_grid *b) {
    bool same = a->width == b->width && a->height == b->height;
    for (int i = 0; i < 6 && same; i++)
        same = a->gt[i] == b->gt[i];
    return same;
}

/* The grid a raster shares (size, geotransform and CRS) with the rasters
 * before it, or a new one (its info moved into r's): rasters on different
 * grids are read in one job, grid by grid (zonal.c). */
static rp_status assign_grid(const rp_zonal_options *o, int k, zonal_raster *r,
                             rp_raster_info *info, rp_error *err) {
    for (int g = 0; g < r->ngrids; g++) {
        const rp_raster_info *gi = zonal_grid_info(r, g);
        if (same_grid(&gi->grid, &info->grid) && rp_crs_same_or_both_none(gi->srs, info->srs)) {
            r->grid_of[k] = g;
            return RP_OK;
        }
    }
    if (info->grid.rotated)
        return rp_error_set(err, RP_USAGE,
                            "%s: the geotransform is rotated or sheared; zonal supports north-up "
                            "grids only (warp it with gdalwarp first)",
                            o->rasters[k]);
    rp_raster_info *more = realloc(r->more_grids, (size_t)r->ngrids * sizeof *more);
    if (!more)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    r->more_grids = more;
    more[r->ngrids - 1] = *info;
    memset(info, 0, sizeof *info);
    r->grid_of[k] = r->ngrids++;
    return RP_OK;
}

/* Rasters after the first: their bands, and their grid (zonal_grid_info). */
static rp_status open_more(const rp_zonal_options *o, zonal_raster *r, rp_error *err) {
    for (int k = 1; k < o->nrasters; k++) {
        rp_raster_info info;
        GDALDatasetH ds = NULL;
        rp_status rc = rp_raster_info_read(o->rasters[k], &info, &ds, err);
        if (rc == RP_OK)
            rc = need_geotransform(&info, "", err);
        if (rc == RP_OK)
            rc = add_bands(o, k, ds, info.band_count, r, err);
        if (rc == RP_OK)
            rc = assign_grid(o, k, r, &info, err);
        if (ds)
            GDALClose(ds);
        rp_raster_info_free(&info);
        if (rc != RP_OK)
            return rc;
    }
    return RP_OK;
}

static rp_status open_weights(const rp_zonal_options *o, zonal_raster *r, rp_error *err) {
    GDALDatasetH ds = NULL;
    rp_status rc = rp_raster_info_read(o->weights_path, &r->winfo, &ds, err);
    if (rc != RP_OK)
        return rc;
    r->has_weights = true;
    rc = need_geotransform(&r->winfo, "--weights ", err);
    if (rc != RP_OK) {
        GDALClose(ds);
        return rc;
    }
    const rp_grid *a = &r->info.grid, *b = &r->winfo.grid;
    if (r->ngrids > 1)
        rc = rp_error_set(err, RP_USAGE,
                          "--weights %s: the rasters are on %d different grids, and the weights "
                          "must share the grid of every raster (resampling the weights to each "
                          "grid, as exactextract does, is not supported: run each grid "
                          "separately, or warp the rasters to one grid)",
                          o->weights_path, r->ngrids);
    else if (!same_grid(a, b))
        rc = rp_error_set(err, RP_USAGE,
                          "--weights %s: its grid (size or geotransform) differs from %s's; "
                          "resample it to the raster's grid first",
                          o->weights_path, o->raster);
    else
        rc = rp_band_info_read(ds, o->weights_path, 1, &r->wband, err);
    GDALClose(ds);
    return rc;
}

/* coverage_weight=area_spherical_m2 (or _km2) is defined on a
 * longitude/latitude grid in degrees (exactextract applies its formula to
 * any grid's coordinates; on a projected one that gives meaningless
 * numbers): a projected raster, one without a CRS, or one whose rows reach
 * past the poles is refused, naming the statistic. */
static rp_status check_spherical(const rp_zonal_options *o, const rp_raster_info *info,
                                 rp_error *err) {
    const zonal_stat *st = NULL;
    for (int i = 0; i < o->nstats && !st; i++)
        if (o->stats[i].area == ZAREA_SPHERICAL)
            st = &o->stats[i];
    if (!st)
        return RP_OK;
    char crs[256] = "no CRS";
    if (info->srs)
        rp_crs_describe(info->srs, crs, sizeof crs);
    double unit = info->srs ? OSRGetAngularUnits(info->srs, NULL) : 0;
    if (!info->srs || !OSRIsGeographic(info->srs) || fabs(unit - M_PI / 180) > 1e-12)
        return rp_error_set(err, RP_USAGE,
                            "-s %s: coverage_weight=area_spherical_* needs a raster in "
                            "longitude/latitude degrees; %s has %s (use "
                            "coverage_weight=area_cartesian for the cell area in its CRS "
                            "units, or warp it to EPSG:4326)",
                            st->name, info->path, crs);
    const rp_grid *g = &info->grid;
    double lat0 = g->gt[3], lat1 = g->gt[3] + (double)g->height * g->gt[5];
    if (fabs(lat0) > 90 + 1e-9 || fabs(lat1) > 90 + 1e-9)
        return rp_error_set(err, RP_USAGE,
                            "-s %s: %s spans latitudes %g to %g, past the poles; "
                            "coverage_weight=area_spherical_* needs latitudes in [-90, 90]",
                            st->name, info->path, lat1 < lat0 ? lat1 : lat0,
                            lat1 < lat0 ? lat0 : lat1);
    return RP_OK;
}

rp_status zonal_raster_open(const rp_zonal_options *o, zonal_raster *r, rp_error *err) {
    memset(r, 0, sizeof *r);
    GDALDatasetH ds = NULL;
    rp_status rc = rp_raster_info_read(o->raster, &r->info, &ds, err);
    if (rc != RP_OK)
        return rc;
    rc = need_geotransform(&r->info, "", err);
    if (rc != RP_OK) {
        GDALClose(ds);
        return rc;
    }
    if (r->info.grid.rotated) {
        GDALClose(ds);
        return rp_error_set(err, RP_USAGE,
                            "%s: the geotransform is rotated or sheared; zonal supports north-up "
                            "grids only (warp it with gdalwarp first)",
                            o->raster);
    }
    r->ngrids = 1;
    r->grid_of = calloc((size_t)o->nrasters, sizeof *r->grid_of);
    rc = r->grid_of ? add_bands(o, 0, ds, r->info.band_count, r, err)
                    : rp_error_set(err, RP_NOMEM, "out of memory");
    GDALClose(ds);
    if (rc == RP_OK)
        rc = open_more(o, r, err);
    if (rc == RP_OK && o->weights_path)
        rc = open_weights(o, r, err);
    for (int g = 0; g < r->ngrids && rc == RP_OK; g++)
        rc = check_spherical(o, zonal_grid_info(r, g), err);
    return rc;
}

const rp_raster_info *zonal_grid_info(const zonal_raster *r, int g) {
    return g == 0 ? &r->info : &r->more_grids[g - 1];
}

rp_status zonal_raster_view(const zonal_raster *r, int g, zonal_raster *view, int *band_global,
                            rp_error *err) {
    memset(view, 0, sizeof *view);
    view->info = *zonal_grid_info(r, g);
    view->bands = malloc((size_t)r->nbands * sizeof *view->bands);
    view->band_src = malloc((size_t)r->nbands * sizeof *view->band_src);
    if (!view->bands || !view->band_src) {
        zonal_raster_view_free(view);
        return rp_error_set(err, RP_NOMEM, "out of memory");
    }
    for (int b = 0; b < r->nbands; b++)
        if (r->grid_of[r->band_src[b]] == g) {
            band_global[view->nbands] = b;
            view->bands[view->nbands] = r->bands[b];
            view->band_src[view->nbands++] = r->band_src[b];
        }
    view->has_weights = r->has_weights;
    if (r->has_weights) {
        view->winfo = r->winfo;
        view->wband = r->wband;
    }
    view->ngrids = 1;
    view->is_view = true;
    return RP_OK;
}

void zonal_raster_view_free(zonal_raster *view) {
    free(view->bands);
    free(view->band_src);
    memset(view, 0, sizeof *view);
}

void zonal_raster_free(zonal_raster *r) {
    rp_raster_info_free(&r->info);
    for (int g = 1; g < r->ngrids; g++)
        rp_raster_info_free(&r->more_grids[g - 1]);
    free(r->more_grids);
    free(r->grid_of);
    free(r->bands);
    free(r->band_src);
    if (r->has_weights)
        rp_raster_info_free(&r->winfo);
    memset(r, 0, sizeof *r);
}
