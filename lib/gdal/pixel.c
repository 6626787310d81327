/*
 * pixel.c — the one switch over GDALDataType that reads a pixel (pixel.h).
 *
 * A pixel is loaded into a tagged value (signed, unsigned or floating) by
 * memcpy, so any alignment is fine; the public functions only compare or
 * convert that value. Pure functions: any thread.
 */
#include <math.h>
#include <string.h>

#include "pixel.h"

typedef enum { PX_UNKNOWN, PX_SIGNED, PX_UNSIGNED, PX_FLOAT } px_kind;

typedef struct px {
    px_kind kind;
    int64_t i;  /* PX_SIGNED */
    uint64_t u; /* PX_UNSIGNED */
    double f;   /* PX_FLOAT (a float widened exactly) */
} px;

#define LOAD(ctype, field, k)                                                                      \
    do {                                                                                           \
        ctype t_;                                                                                  \
        memcpy(&t_, p, sizeof t_);                                                                 \
        v.field = t_;                                                                              \
        v.kind = k;                                                                                \
    } while (0)

static px load(GDALDataType type, const void *p) {
    px v = {PX_UNKNOWN, 0, 0, 0};
    if (type == RP_GDT_INT8) {
        LOAD(int8_t, i, PX_SIGNED);
        return v;
    }
    switch (type) {
    case GDT_Byte: LOAD(uint8_t, u, PX_UNSIGNED); break;
    case GDT_UInt16: LOAD(uint16_t, u, PX_UNSIGNED); break;
    case GDT_Int16:
    case GDT_CInt16: LOAD(int16_t, i, PX_SIGNED); break;
    case GDT_UInt32: LOAD(uint32_t, u, PX_UNSIGNED); break;
    case GDT_Int32:
    case GDT_CInt32: LOAD(int32_t, i, PX_SIGNED); break;
    case GDT_UInt64: LOAD(uint64_t, u, PX_UNSIGNED); break;
    case GDT_Int64: LOAD(int64_t, i, PX_SIGNED); break;
    case GDT_Float32:
    case GDT_CFloat32: LOAD(float, f, PX_FLOAT); break;
    case GDT_Float64:
    case GDT_CFloat64: LOAD(double, f, PX_FLOAT); break;
    default: break;
    }
    return v;
}

static double as_double(px v) {
    switch (v.kind) {
    case PX_SIGNED: return (double)v.i;
    case PX_UNSIGNED: return (double)v.u;
    case PX_FLOAT: return v.f;
    default: return 0;
    }
}

double rp_pixel_as_double(GDALDataType type, const void *p) {
    return as_double(load(type, p));
}

bool rp_pixel_as_int64(GDALDataType type, const void *p, int64_t *out) {
    px v = load(type, p);
    if (v.kind == PX_SIGNED) {
        *out = v.i;
        return true;
    }
    if (v.kind == PX_UNSIGNED && v.u <= (uint64_t)INT64_MAX) {
        *out = (int64_t)v.u;
        return true;
    }
    return false;
}

static bool is_float32(GDALDataType type) {
    return type == GDT_Float32 || type == GDT_CFloat32;
}

bool rp_pixel_is_nodata(const rp_band_info *b, const void *p) {
    if (!b->has_nodata)
        return false;
    /* value_type unset (a band filled by hand): its GDAL type */
    GDALDataType vt = b->value_type != GDT_Unknown ? b->value_type : b->type;
    px v = load(vt, p);
    if (b->type == GDT_Int64)
        return v.i == b->nodata_i64;
    if (b->type == GDT_UInt64)
        return v.u == b->nodata_u64;
    if (v.kind == PX_FLOAT) {
        if (isnan(b->nodata))
            return isnan(v.f);
        return is_float32(vt) ? (float)v.f == (float)b->nodata : v.f == b->nodata;
    }
    return v.kind != PX_UNKNOWN && as_double(v) == b->nodata;
}

bool rp_pixel_is_source_nodata(GDALDataType type, const void *p, double nodata) {
    px v = load(type, p);
    if (v.kind == PX_UNKNOWN)
        return false;
    if (v.kind != PX_FLOAT)
        return !isnan(nodata) && as_double(v) == nodata;
    if (isnan(nodata))
        return isnan(v.f);
    if (is_float32(type))
        return (float)v.f == (float)nodata;
    return v.f == nodata || fabs(v.f - nodata) < 1e-10 ||
           (nodata != 0 && fabs(1 - v.f / nodata) < 1e-10);
}
