/*
 * pixel.h — reading one pixel of any GDALDataType (pixel.c): as a double,
 * exactly as a 64-bit integer, and whether it is the band's nodata. One
 * switch over the types instead of one per caller. Complex types read
 * their real part.
 */
#ifndef RP_PIXEL_H
#define RP_PIXEL_H
#include <stdbool.h>
#include <stdint.h>

#include <gdal.h>

#include "raster_info.h"

/* Signed 8-bit pixels: GDAL 3.7's GDT_Int8 (14). GDAL 3.6 has no such
 * type, and gives a Byte band with PIXELTYPE=SIGNEDBYTE instead; its
 * rp_band_info.value_type is this value (14, GDT_TypeCount there), which
 * every function here and valfmt.h read as int8. */
#if GDAL_VERSION_NUM >= 3070000
#define RP_GDT_INT8 GDT_Int8
#else
#define RP_GDT_INT8 ((GDALDataType)14)
#endif

/* The value at p (the type's native layout, any alignment) as a double:
 * exact for every type but 64-bit integers beyond 2^53 (rounded). 0 for
 * an unknown type. */
double rp_pixel_as_double(GDALDataType type, const void *p);

/* The value at p exactly as an int64: true for the integer types (and
 * complex integers' real part) when it fits (a UInt64 above INT64_MAX does
 * not); false for floating types and unknown ones. */
bool rp_pixel_as_int64(GDALDataType type, const void *p, int64_t *out);

/* Whether the pixel at p (of band b's type) equals the band's nodata:
 * NaN matches NaN; Float32 compares in float; 64-bit integers compare
 * exactly with the band's 64-bit nodata. false when the band has none. */
bool rp_pixel_is_nodata(const rp_band_info *b, const void *p);

/* GDAL's test for a VRT ComplexSource NODATA pixel (a transparent one):
 * NaN matches NaN, integers compare as doubles, Float32 in float, Float64
 * within GDAL's 1e-10 (absolute or relative). */
bool rp_pixel_is_source_nodata(GDALDataType type, const void *p, double nodata);

#endif
