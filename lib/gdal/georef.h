/*
 * georef.h — rasters without a geotransform (GCP-only, RPC-only, with
 * geolocation arrays, or with nothing): how points reach their pixels,
 * chosen by the user (--transformer), never guessed (georef.c).
 */
#ifndef RP_GEOREF_H
#define RP_GEOREF_H
#include <stdbool.h>
#include <stddef.h>

#include "raster_info.h"

/* How points reach the pixels of a raster without a geotransform. */
typedef enum rp_georef_method {
    RP_GEOREF_UNSET = 0, /* not chosen: such a raster is refused */
    RP_GEOREF_PIXEL,     /* the points are pixel/line coordinates */
    RP_GEOREF_GCP,       /* GDAL's GCP polynomial transformer */
    RP_GEOREF_GCP_TPS,   /* GDAL's GCP thin plate spline transformer */
    RP_GEOREF_RPC,       /* GDAL's RPC transformer (RPC_DEM=... with --to) */
    RP_GEOREF_GEOLOC     /* GDAL's geolocation array transformer */
} rp_georef_method;

/* "pixel", "gcp", "gcp_tps", "rpc", "geoloc" (any case); false otherwise. */
bool rp_georef_parse(const char *name, rp_georef_method *out);
/* The names rp_georef_parse takes, for messages. */
#define RP_GEOREF_NAMES "gcp, gcp_tps, rpc, geoloc or pixel"

/* Chooses how points reach info's pixels: nothing for a raster with a
 * geotransform. Without one, the method must be chosen and the raster must
 * have what it needs (GCPs, RPC or GEOLOCATION metadata); info->srs then
 * becomes the CRS of that georeferencing (the GCPs' CRS, WGS 84 for RPC,
 * the geolocation arrays' SRS), so that points are moved into it first.
 * to_options: KEY=VALUE transformer options (RPC_DEM=dem.tif, ...),
 * borrowed until the job ends. RP_USAGE with a message that names the
 * raster, what it has and the --transformer values that fit. */
rp_status rp_georef_apply(rp_raster_info *info, rp_georef_method method, char **to_options,
                          rp_error *err);

/* Moves n points given in info->srs to pixel/line coordinates in place,
 * through GDAL's transformer (the method rp_georef_apply chose); a point
 * the transformer cannot map becomes NaN (outside). Nothing for a raster
 * with a geotransform or the pixel method. RP_OPEN/RP_USAGE when the
 * transformer cannot be built. */
rp_status rp_georef_to_pixel(const rp_raster_info *info, double *x, double *y, size_t n,
                             rp_error *err);

#endif
