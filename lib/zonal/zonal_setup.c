/*
 * zonal_setup.c — the raster side of a zonal job, read on the caller's
 * thread before planning: the grid (north-up only), the bands and their
 * nodata/masks, and the --weights raster, which must share the grid.
 *
 * Threads: the caller's. Ownership: zonal_raster owns what it holds.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "zonal_internal.h"

static rp_status read_bands(const rp_zonal_options *o, GDALDatasetH ds, zonal_raster *r,
                            rp_error *err) {
    int n = o->nbands ? o->nbands : r->info.band_count;
    r->bands = calloc((size_t)n, sizeof *r->bands);
    if (!r->bands)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    r->nbands = n;
    for (int i = 0; i < n; i++) {
        int b = o->nbands ? o->bands[i] : i + 1;
        rp_status rc = rp_band_info_read(ds, o->raster, b, &r->bands[i], err);
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
    const rp_grid *a = &r->info.grid, *b = &r->winfo.grid;
    bool same = a->width == b->width && a->height == b->height;
    for (int i = 0; i < 6 && same; i++)
        same = a->gt[i] == b->gt[i];
    if (!same)
        rc = rp_error_set(err, RP_USAGE,
                          "--weights %s: its grid (size or geotransform) differs from %s's; "
                          "resample it to the raster's grid first",
                          o->weights_path, o->raster);
    else
        rc = rp_band_info_read(ds, o->weights_path, 1, &r->wband, err);
    GDALClose(ds);
    return rc;
}

rp_status zonal_raster_open(const rp_zonal_options *o, zonal_raster *r, rp_error *err) {
    memset(r, 0, sizeof *r);
    GDALDatasetH ds = NULL;
    rp_status rc = rp_raster_info_read(o->raster, &r->info, &ds, err);
    if (rc != RP_OK)
        return rc;
    if (r->info.grid.rotated) {
        GDALClose(ds);
        return rp_error_set(err, RP_USAGE,
                            "%s: the geotransform is rotated or sheared; zonal supports north-up "
                            "grids only (warp it with gdalwarp first)",
                            o->raster);
    }
    rc = read_bands(o, ds, r, err);
    GDALClose(ds);
    if (rc == RP_OK && o->weights_path)
        rc = open_weights(o, r, err);
    return rc;
}

void zonal_raster_free(zonal_raster *r) {
    rp_raster_info_free(&r->info);
    free(r->bands);
    if (r->has_weights)
        rp_raster_info_free(&r->winfo);
    memset(r, 0, sizeof *r);
}
