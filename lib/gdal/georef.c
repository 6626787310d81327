/*
 * georef.c — sampling rasters that have no geotransform. Without one, GDAL
 * reports an identity geotransform and a naive reader samples pixel (10,
 * 45) for the point (10, 45): a plausible, wrong number. rasterpool refuses
 * such a raster unless the user says how points reach its pixels
 * (--transformer): through GDAL's own transformers (GCP polynomial or thin
 * plate spline, RPC with an optional RPC_DEM, geolocation arrays), which
 * map georeferenced coordinates to fractional pixel/line, floored by the
 * usual cell convention; or as pixel/line coordinates themselves.
 *
 * Threads: the caller's thread (planning); the transformer is built, used
 * and destroyed in one call, on a short-lived dataset handle.
 */
#include "georef.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cpl_string.h>
#include <gdal_alg.h>

#include "crs.h"
#include "gdal_errors.h"
#include "remote.h"

static const struct {
    const char *name;
    rp_georef_method method;
    const char *gdal; /* METHOD= of GDALCreateGenImgProjTransformer2 */
} methods[] = {
    {"pixel", RP_GEOREF_PIXEL, NULL},
    {"gcp", RP_GEOREF_GCP, "GCP_POLYNOMIAL"},
    {"gcp_tps", RP_GEOREF_GCP_TPS, "GCP_TPS"},
    {"rpc", RP_GEOREF_RPC, "RPC"},
    {"geoloc", RP_GEOREF_GEOLOC, "GEOLOC_ARRAY"},
};

bool rp_georef_parse(const char *name, rp_georef_method *out) {
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcasecmp(name, methods[i].name) == 0) {
            *out = methods[i].method;
            return true;
        }
    return false;
}

static const char *method_name(rp_georef_method m) {
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (methods[i].method == m)
            return methods[i].name;
    return "?";
}

static const char *gdal_method(rp_georef_method m) {
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (methods[i].method == m)
            return methods[i].gdal;
    return NULL;
}

/* What the raster offers, as text for messages, and the values that fit. */
static void describe(const rp_raster_info *info, char *has, size_t cap, char *fit, size_t fcap) {
    has[0] = fit[0] = '\0';
    if (info->ngcps > 0) {
        snprintf(has, cap, "%d GCP%s", info->ngcps, info->ngcps == 1 ? "" : "s");
        snprintf(fit, fcap, "--transformer gcp or gcp_tps");
    }
    if (info->has_rpc) {
        size_t n = strlen(has), f = strlen(fit);
        snprintf(has + n, cap - n, "%sRPC metadata", n ? " and " : "");
        snprintf(fit + f, fcap - f, "%s--transformer rpc", f ? " or " : "");
    }
    if (info->has_geoloc) {
        size_t n = strlen(has), f = strlen(fit);
        snprintf(has + n, cap - n, "%sgeolocation arrays", n ? " and " : "");
        snprintf(fit + f, fcap - f, "%s--transformer geoloc", f ? " or " : "");
    }
}

/* The CRS of the raster's georeferencing for a method; NULL: none given. */
static OGRSpatialReferenceH method_srs(GDALDatasetH ds, rp_georef_method m) {
    if (m == RP_GEOREF_GCP || m == RP_GEOREF_GCP_TPS)
        return rp_crs_clone(GDALGetGCPSpatialRef(ds));
    if (m == RP_GEOREF_RPC) { /* RPCs map longitude/latitude on WGS 84 */
        rp_error ignored;
        return rp_crs_from_user("EPSG:4326", &ignored);
    }
    if (m == RP_GEOREF_GEOLOC) {
        const char *srs = GDALGetMetadataItem(ds, "SRS", "GEOLOCATION");
        rp_error ignored;
        return srs && *srs ? rp_crs_from_user(srs, &ignored) : NULL;
    }
    return NULL;
}

static rp_status refuse(const rp_raster_info *info, rp_georef_method method, rp_error *err) {
    char has[160], fit[160];
    describe(info, has, sizeof has, fit, sizeof fit);
    if (method == RP_GEOREF_UNSET && has[0])
        return rp_error_set(err, RP_USAGE,
                            "%s: has no geotransform, only %s: say how points reach its pixels "
                            "with %s; or --transformer pixel if the points are pixel/line "
                            "coordinates",
                            info->path, has, fit);
    if (method == RP_GEOREF_UNSET)
        return rp_error_set(err, RP_USAGE,
                            "%s: has no geotransform, GCPs, RPCs or geolocation arrays: its "
                            "pixels can be reached only as pixel/line coordinates, with "
                            "--transformer pixel",
                            info->path);
    return rp_error_set(err, RP_USAGE,
                        "%s: has no geotransform and nothing for --transformer %s (it has %s)",
                        info->path, method_name(method), has[0] ? has : "no georeferencing");
}

rp_status rp_georef_apply(rp_raster_info *info, rp_georef_method method, char **to_options,
                          rp_error *err) {
    if (info->has_geotransform)
        return RP_OK;
    bool ok = method == RP_GEOREF_PIXEL ||
              ((method == RP_GEOREF_GCP || method == RP_GEOREF_GCP_TPS) && info->ngcps > 0) ||
              (method == RP_GEOREF_RPC && info->has_rpc) ||
              (method == RP_GEOREF_GEOLOC && info->has_geoloc);
    if (!ok)
        return refuse(info, method, err);
    info->georef = (int)method;
    info->georef_options = to_options;
    if (method == RP_GEOREF_PIXEL)
        return RP_OK;
    GDALDatasetH ds = rp_remote_open(info->path, GDAL_OF_RASTER | GDAL_OF_READONLY);
    if (!ds)
        return rp_error_set(err, RP_OPEN, "%s: cannot open raster", info->path);
    if (info->srs)
        OSRDestroySpatialReference(info->srs);
    info->srs = method_srs(ds, method);
    info->srs_deferred = false; /* the georeferencing's CRS, not the raster's */
    GDALClose(ds);
    return RP_OK;
}

/* The transformer's options: METHOD=, then the user's --to ones. */
static char **transformer_options(const rp_raster_info *info) {
    char **opts = CSLSetNameValue(NULL, "METHOD", gdal_method((rp_georef_method)info->georef));
    for (char **o = info->georef_options; o && *o; o++)
        opts = CSLAddString(opts, *o);
    return opts;
}

rp_status rp_georef_to_pixel(const rp_raster_info *info, double *x, double *y, size_t n,
                             rp_error *err) {
    if (info->has_geotransform || info->georef <= RP_GEOREF_PIXEL)
        return RP_OK;
    rp_gdal_capture cap;
    rp_gdal_capture_push(&cap);
    GDALDatasetH ds = rp_remote_open(info->path, GDAL_OF_RASTER | GDAL_OF_READONLY);
    char **opts = transformer_options(info);
    void *tr = ds ? GDALCreateGenImgProjTransformer2(ds, NULL, opts) : NULL;
    CSLDestroy(opts);
    rp_status rc = RP_OK;
    if (!tr)
        rc = rp_error_set(err, RP_USAGE, "%s: cannot build GDAL's %s transformer: %s", info->path,
                          method_name((rp_georef_method)info->georef),
                          cap.count ? rp_gdal_capture_text(&cap) : "unknown reason");
    enum { CHUNK = 1 << 16 };
    int *ok = tr ? malloc(CHUNK * sizeof *ok) : NULL;
    double *z = tr ? calloc(CHUNK, sizeof *z) : NULL;
    if (tr && (!ok || !z))
        rc = rp_error_set(err, RP_NOMEM, "out of memory transforming points");
    for (size_t at = 0; rc == RP_OK && at < n; at += CHUNK) {
        int k = (int)(n - at < CHUNK ? n - at : CHUNK);
        memset(z, 0, (size_t)k * sizeof *z);
        /* bDstToSrc: georeferenced coordinates in, pixel/line out */
        GDALGenImgProjTransform(tr, TRUE, k, x + at, y + at, z, ok);
        for (int i = 0; i < k; i++)
            if (!ok[i] || !isfinite(x[at + i]) || !isfinite(y[at + i]))
                x[at + i] = y[at + i] = NAN;
    }
    rp_gdal_capture_pop();
    free(ok);
    free(z);
    if (tr)
        GDALDestroyGenImgProjTransformer(tr);
    if (ds)
        GDALClose(ds);
    return rc;
}
