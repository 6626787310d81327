/*
 * points_ogr.c — pass 1 of vector points: the dataset is opened with OGR
 * and stays open in rp_points, so pass 2 resets the layer and reads the
 * features again. Point geometries, and MultiPoints of one point (as
 * ArcGIS exports points); any other geometry, an empty one or none is a
 * bad row (warned about by feature id; MultiPoints of several points
 * once, with their count).
 *
 * Threads: the caller's thread only (the dataset handle never crosses
 * threads).
 */
#include "points_ogr.h"

#include <math.h>
#include <stdio.h>

#include <ogr_api.h>

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

/* The point of a feature's geometry: a point, or a MultiPoint of one point
 * (ArcGIS exports points so). False with the reason in why, or, for a
 * MultiPoint of several points (said once for all), why "" and their
 * count in *several. */
static bool feature_point(OGRGeometryH g, double *x, double *y, char *why, size_t cap,
                          int *several) {
    *several = 0;
    if (!g || OGR_G_IsEmpty(g)) {
        snprintf(why, cap, "no geometry");
        return false;
    }
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t == wkbMultiPoint && OGR_G_GetGeometryCount(g) == 1)
        g = OGR_G_GetGeometryRef(g, 0);
    else if (t == wkbMultiPoint) {
        *several = OGR_G_GetGeometryCount(g);
        why[0] = '\0';
        return false;
    } else if (t != wkbPoint) {
        snprintf(why, cap, "geometry is a %s, not a point", OGRGeometryTypeToName(t));
        return false;
    }
    *x = OGR_G_GetX(g, 0);
    *y = OGR_G_GetY(g, 0);
    return true;
}

rp_status rp_points_ogr_read(const rp_points_options *opts, rp_points *pts, rp_xy_buf *xy,
                             rp_error *err) {
    rp_status rc = open_layer(opts, pts, err);
    if (rc != RP_OK)
        return rc;
    OGR_L_ResetReading(pts->layer);
    OGRFeatureH f;
    size_t nmulti = 0;
    int most = 0;
    while (rc == RP_OK && (f = OGR_L_GetNextFeature(pts->layer)) != NULL) {
        double x = NAN, y = NAN;
        char why[RP_POINTS_WHY];
        int several;
        bool ok = feature_point(OGR_F_GetGeometryRef(f), &x, &y, why, sizeof why, &several);
        if (rp_points_should_stop(opts, xy->n, 0))
            rc = rp_error_set(err, RP_INTERRUPTED, "interrupted");
        else if (rp_xy_buf_push(xy, ok ? x : NAN, ok ? y : NAN, !ok) != 0)
            rc = rp_error_set(err, RP_NOMEM, "out of memory reading points");
        else if (!ok && several) {
            nmulti++;
            most = several > most ? several : most;
        } else if (!ok) {
            char where[48];
            snprintf(where, sizeof where, "feature %lld", (long long)OGR_F_GetFID(f));
            rp_points_warn_bad(opts, pts, xy->nbad, where, why);
        }
        OGR_F_Destroy(f);
    }
    if (nmulti && opts->log)
        fprintf(opts->log,
                "rasterpool: %s: %zu feature(s) are MultiPoints of several points (up to %d): "
                "one value a feature cannot hold them, so they are bad rows (empty values, "
                "status error); split them first (ogr2ogr -explodecollections)\n",
                pts->display_name, nmulti, most);
    return rc;
}
