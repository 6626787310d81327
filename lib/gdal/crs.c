/*
 * crs.c — points' and rasters' CRSs and bulk transformation.
 *
 * Every CRS is set to the traditional GIS axis order (x = longitude or
 * easting) so that a CSV's x/lon column is always x, whatever the EPSG axis
 * order says. Transformation goes through OCTTransformEx over whole arrays in
 * large chunks (one call per chunk, not per point); points it cannot
 * transform become NaN, which the grid treats as outside.
 *
 * Threads: called on the job's caller thread; a transformation object is
 * created and destroyed within one call.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <ogr_srs_api.h>

#include "crs.h"
#include "gdal_errors.h"

OGRSpatialReferenceH rp_crs_from_user(const char *text, rp_error *err) {
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    rp_gdal_capture cap;
    rp_gdal_capture_push(&cap);
    OGRErr e = OSRSetFromUserInput(srs, text);
    rp_gdal_capture_pop();
    if (e != OGRERR_NONE) {
        OSRDestroySpatialReference(srs);
        rp_error_set(err, RP_USAGE, "unknown CRS '%s'%s%s", text, cap.count ? ": " : "",
                     rp_gdal_capture_text(&cap));
        return NULL;
    }
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    return srs;
}

OGRSpatialReferenceH rp_crs_from_wkt(const char *wkt) {
    if (!wkt || !*wkt)
        return NULL;
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    if (OSRImportFromWkt(srs, (char **)&wkt) != OGRERR_NONE) {
        OSRDestroySpatialReference(srs);
        return NULL;
    }
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    return srs;
}

OGRSpatialReferenceH rp_crs_clone(OGRSpatialReferenceH srs) {
    if (!srs)
        return NULL;
    OGRSpatialReferenceH c = OSRClone(srs);
    if (c)
        OSRSetAxisMappingStrategy(c, OAMS_TRADITIONAL_GIS_ORDER);
    return c;
}

/* Both defined: equivalent, whatever the axis order and mapping. This is
 * also what OSRIsSame says of two CRSs read with GDAL's default
 * (authority-compliant) mapping. */
static bool same_defined(OGRSpatialReferenceH a, OGRSpatialReferenceH b) {
    const char *options[] = {"IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES",
                             "CRITERION=EQUIVALENT_EXCEPT_AXIS_ORDER_GEOGCRS", NULL};
    return OSRIsSameEx(a, b, options) != 0;
}

bool rp_crs_same(OGRSpatialReferenceH a, OGRSpatialReferenceH b) {
    if (!a || !b)
        return true; /* an unknown CRS is taken to be the other one */
    return same_defined(a, b);
}

bool rp_crs_same_or_both_none(OGRSpatialReferenceH a, OGRSpatialReferenceH b) {
    if (!a || !b)
        return !a && !b;
    return same_defined(a, b);
}

const char *rp_crs_label(OGRSpatialReferenceH srs, char *buf, size_t cap) {
    if (!srs) {
        snprintf(buf, cap, "(none)");
        return buf;
    }
    const char *auth = OSRGetAuthorityName(srs, NULL);
    const char *code = OSRGetAuthorityCode(srs, NULL);
    if (auth && code)
        snprintf(buf, cap, "%s:%s", auth, code);
    else
        snprintf(buf, cap, "%s", OSRGetName(srs) ? OSRGetName(srs) : "(unnamed CRS)");
    return buf;
}

const char *rp_crs_describe(OGRSpatialReferenceH srs, char *buf, size_t cap) {
    if (!srs) {
        snprintf(buf, cap, "none");
        return buf;
    }
    const char *auth = OSRGetAuthorityName(srs, NULL);
    const char *code = OSRGetAuthorityCode(srs, NULL);
    const char *name = OSRGetName(srs);
    if (auth && code)
        snprintf(buf, cap, "%s:%s (%s)", auth, code, name ? name : "unnamed");
    else
        snprintf(buf, cap, "%s", name ? name : "unnamed CRS");
    return buf;
}

rp_status rp_crs_transform(OGRSpatialReferenceH src, OGRSpatialReferenceH dst, const double *x,
                           const double *y, double *out_x, double *out_y, size_t n, rp_error *err) {
    char a[128], b[128];
    rp_gdal_capture cap;
    rp_gdal_capture_push(&cap);
    OGRCoordinateTransformationH ct = OCTNewCoordinateTransformation(src, dst);
    rp_gdal_capture_pop();
    if (!ct)
        return rp_error_set(err, RP_CRS, "cannot transform points from %s to %s: %s",
                            rp_crs_label(src, a, sizeof a), rp_crs_label(dst, b, sizeof b),
                            rp_gdal_capture_text(&cap));
    enum { CHUNK = 1 << 20 };
    int *ok = malloc(CHUNK * sizeof *ok);
    if (!ok) {
        OCTDestroyCoordinateTransformation(ct);
        return rp_error_set(err, RP_NOMEM, "out of memory transforming points");
    }
    if (out_x != x)
        memcpy(out_x, x, n * sizeof *x);
    if (out_y != y)
        memcpy(out_y, y, n * sizeof *y);
    rp_gdal_capture_push(&cap); /* per-point failures are reported as NaN */
    for (size_t start = 0; start < n; start += CHUNK) {
        int count = (int)(n - start < CHUNK ? n - start : CHUNK);
        OCTTransformEx(ct, count, out_x + start, out_y + start, NULL, ok);
        for (int i = 0; i < count; i++)
            if (!ok[i] || !isfinite(out_x[start + i]) || !isfinite(out_y[start + i]))
                out_x[start + i] = out_y[start + i] = NAN;
    }
    rp_gdal_capture_pop();
    free(ok);
    OCTDestroyCoordinateTransformation(ct);
    return RP_OK;
}
