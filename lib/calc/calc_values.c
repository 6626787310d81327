/*
 * calc_values.c — expression results (doubles) stored as the output type.
 *
 * The rule, the same for every type and documented in the README:
 * integers round half away from zero and clamp to the type's range (so 300
 * is 255 in Byte, -1 is 0 in UInt16); NaN, which an integer cannot hold,
 * becomes the output's nodata (or 0 without one); Float32 rounds to nearest
 * and values beyond its range become +-inf, as a numpy cast does.
 *
 * rp_calc_count_stored_as finds valid results that the conversion would make
 * equal to the output's nodata (they would read back as nodata).
 *
 * Threads: stateless.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>

#include "calc_internal.h"

static bool type_range(GDALDataType type, double *lo, double *hi) {
    switch (type) {
    case GDT_Byte: *lo = 0, *hi = 255; return true;
    case GDT_UInt16: *lo = 0, *hi = 65535; return true;
    case GDT_Int16: *lo = -32768, *hi = 32767; return true;
    case GDT_UInt32: *lo = 0, *hi = 4294967295.0; return true;
    case GDT_Int32: *lo = -2147483648.0, *hi = 2147483647.0; return true;
    default: return false;
    }
}

bool rp_calc_value_fits(double v, GDALDataType type) {
    double lo, hi;
    if (type_range(type, &lo, &hi))
        return !isnan(v) && v >= lo && v <= hi && v == floor(v);
    if (type == GDT_Float32)
        return isnan(v) || isinf(v) || (fabs(v) <= FLT_MAX && (double)(float)v == v);
    return type == GDT_Float64;
}

/* Round half away from zero, then clamp; NaN -> nan_value. */
static double to_integer(double v, double lo, double hi, double nan_value) {
    if (isnan(v))
        return nan_value;
    v = round(v);
    return v < lo ? lo : v > hi ? hi : v;
}

#define CONVERT_INT(ctype)                                                                         \
    do {                                                                                           \
        ctype *d = dst;                                                                            \
        for (size_t i = 0; i < n; i++)                                                             \
            d[i] = (ctype)to_integer(src[i], lo, hi, nan_value);                                   \
    } while (0)

void rp_calc_convert(const double *src, size_t n, GDALDataType type, void *dst, double nan_value) {
    double lo = 0, hi = 0;
    if (type_range(type, &lo, &hi)) {
        /* nan_value itself must fit; the caller checked an explicit nodata */
        nan_value = isnan(nan_value) ? 0 : to_integer(nan_value, lo, hi, 0);
    }
    switch (type) {
    case GDT_Byte: CONVERT_INT(uint8_t); break;
    case GDT_UInt16: CONVERT_INT(uint16_t); break;
    case GDT_Int16: CONVERT_INT(int16_t); break;
    case GDT_UInt32: CONVERT_INT(uint32_t); break;
    case GDT_Int32: CONVERT_INT(int32_t); break;
    case GDT_Float32: {
        float *d = dst;
        for (size_t i = 0; i < n; i++) {
            double v = src[i];
            /* out of float's range: inf (a C cast would be undefined) */
            if (v > FLT_MAX || v < -FLT_MAX) {
                /* IEEE round to nearest: up to half an ulp above FLT_MAX
                 * rounds down to it, anything further is inf */
                float big = fabs(v) >= 0x1.ffffffp127 ? INFINITY : FLT_MAX;
                d[i] = v > 0 ? big : -big;
            } else {
                d[i] = (float)v;
            }
        }
        break;
    }
    default: { /* GDT_Float64 */
        double *d = dst;
        for (size_t i = 0; i < n; i++)
            d[i] = src[i];
        break;
    }
    }
}

/* v as Float32 stores it (rp_calc_convert's rule), widened back. */
static double stored_float32(double v) {
    if (v > FLT_MAX || v < -FLT_MAX) {
        float big = fabs(v) >= 0x1.ffffffp127 ? INFINITY : FLT_MAX;
        return v > 0 ? big : -big;
    }
    return (float)v;
}

size_t rp_calc_count_stored_as(const double *src, size_t n, GDALDataType type, double value,
                               const double *const *skip, int nskip) {
    double lo = 0, hi = 0;
    bool integer = type_range(type, &lo, &hi);
    if (isnan(value))
        return 0; /* NaN results are nodata by design, not by collision */
    double want = type == GDT_Float32 ? stored_float32(value) : value;
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        double v = src[i];
        if (isnan(v))
            continue;
        double got = integer               ? to_integer(v, lo, hi, 0)
                     : type == GDT_Float32 ? stored_float32(v)
                                           : v;
        if (got != want)
            continue;
        bool skipped = false;
        for (int k = 0; k < nskip && !skipped; k++)
            skipped = skip[k][i] != 0;
        count += !skipped;
    }
    return count;
}
