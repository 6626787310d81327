/*
 * points_ogr.c — pass 1 of vector points: the dataset is opened with OGR
 * and stays open in rp_points, so pass 2 resets the layer and reads the
 * features again. Point geometries only; any other geometry, an empty one
 * or none is a bad row (warned about by feature id).
 *
 * Threads: the caller's thread only (the dataset handle never crosses
 * threads).
 */
#include "points_ogr.h"

#include <math.h>
#include <stdio.h>

#include "crs.h"
#include "error.h"
#include "gdal_errors.h"

static rp_status open_layer(const rp_points_options *opts, rp_points *pts, rp_error *err) {
    rp_gdal_capture cap;
    rp_gdal_capture_push(&cap);
    pts->vector = GDALOpenEx(opts->path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    rp_gdal_capture_pop();
    if (!pts->vector)
        return rp_error_set(err, RP_OPEN, "%s: cannot open points: %s", opts->path,
                            cap.count ? rp_gdal_capture_text(&cap)
                                      : "not a CSV file and not vector data GDAL can read");
    pts->layer = opts->layer ? GDALDatasetGetLayerByName(pts->vector, opts->layer)
                             : GDALDatasetGetLayer(pts->vector, 0);
    if (!pts->layer)
        return rp_error_set(err, opts->layer ? RP_USAGE : RP_OPEN, "%s: %s%s%s", opts->path,
                            opts->layer ? "no layer named '" : "no layer",
                            opts->layer ? opts->layer : "", opts->layer ? "'" : "");
    pts->srs = rp_crs_clone(OGR_L_GetSpatialRef(pts->layer));
    return RP_OK;
}

rp_status rp_points_ogr_read(const rp_points_options *opts, rp_points *pts, rp_xy_buf *xy,
                             rp_error *err) {
    rp_status rc = open_layer(opts, pts, err);
    if (rc != RP_OK)
        return rc;
    OGR_L_ResetReading(pts->layer);
    OGRFeatureH f;
    while (rc == RP_OK && (f = OGR_L_GetNextFeature(pts->layer)) != NULL) {
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        bool ok = g && !OGR_G_IsEmpty(g) && wkbFlatten(OGR_G_GetGeometryType(g)) == wkbPoint;
        double x = ok ? OGR_G_GetX(g, 0) : NAN, y = ok ? OGR_G_GetY(g, 0) : NAN;
        if (rp_points_should_stop(opts, xy->n, 0))
            rc = rp_error_set(err, RP_INTERRUPTED, "interrupted");
        else if (rp_xy_buf_push(xy, x, y, !ok) != 0)
            rc = rp_error_set(err, RP_NOMEM, "out of memory reading points");
        else if (!ok) {
            char where[48];
            snprintf(where, sizeof where, "feature %lld", (long long)OGR_F_GetFID(f));
            rp_points_warn_bad(opts, pts, xy->nbad, where,
                               !g || OGR_G_IsEmpty(g) ? "no geometry" : "geometry is not a point");
        }
        OGR_F_Destroy(f);
    }
    return rc;
}
