/*
 * crs.h — coordinate reference systems of points and rasters, and
 * moving points between them in bulk.
 */
#ifndef RP_CRS_H
#define RP_CRS_H
#include <stdbool.h>
#include <stddef.h>

#include <ogr_srs_api.h>

#include "rasterpool.h"

/* A CRS from anything OSRSetFromUserInput accepts (EPSG:4326, WKT, PROJ
 * strings, a file), with x = easting/longitude axis order. NULL with
 * RP_USAGE naming the text when it is not a CRS. Free with OSRDestroySpatialReference. */
OGRSpatialReferenceH rp_crs_from_user(const char *text, rp_error *err);
/* A CRS from WKT (a raster's), traditional GIS axis order; NULL if empty. */
OGRSpatialReferenceH rp_crs_from_wkt(const char *wkt);
/* A clone of srs with traditional GIS axis order; NULL for NULL. */
OGRSpatialReferenceH rp_crs_clone(OGRSpatialReferenceH srs);
/* Two CRSs compare as equivalent for coordinate operations: names,
 * identifiers, a geographic CRS's axis order and the data axis mapping are
 * ignored (EPSG:4326 is OGC:CRS84). They differ in what a missing CRS
 * (NULL) means:
 * rp_crs_same: a missing CRS is taken to be the other one (extract: points
 *   or a raster without a CRS are used as they are).
 * rp_crs_same_or_both_none: a missing CRS matches only another missing one
 *   (calc: inputs must share one grid; a raster without a CRS and one with
 *   it do not). */
bool rp_crs_same(OGRSpatialReferenceH a, OGRSpatialReferenceH b);
bool rp_crs_same_or_both_none(OGRSpatialReferenceH a, OGRSpatialReferenceH b);
/* A short name for messages: "EPSG:32633" or the CRS's name. */
const char *rp_crs_label(OGRSpatialReferenceH srs, char *buf, size_t cap);
/* A longer name for messages that set two CRSs side by side:
 * "EPSG:32633 (WGS 84 / UTM zone 33N)", the CRS's name when it has no
 * authority code, "none" for NULL. */
const char *rp_crs_describe(OGRSpatialReferenceH srs, char *buf, size_t cap);

/* Transforms n points from src to dst into out_x/out_y (which may be x/y).
 * Points that cannot be transformed become NaN (and so fall outside). */
rp_status rp_crs_transform(OGRSpatialReferenceH src, OGRSpatialReferenceH dst, const double *x,
                           const double *y, double *out_x, double *out_y, size_t n, rp_error *err);

#endif
