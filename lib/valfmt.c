/*
 * valfmt.c — pixel values to text, exactly.
 *
 * Integers use a digit loop. Floats try increasing precisions with %.*g
 * until strtof/strtod gives back the very same bits, starting where most
 * real data already round-trips (7 digits for float32, 15 for float64), so a
 * value read from a raster and written by rasterpool is the same value when
 * read again. NaN and infinities print as nan, inf, -inf.
 *
 * Threads: pure functions.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gdal.h>

#include "valfmt_internal.h"

size_t rp_format_uint64(char *buf, uint64_t v) {
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return n;
}

size_t rp_format_int64(char *buf, int64_t v) {
    if (v >= 0)
        return rp_format_uint64(buf, (uint64_t)v);
    buf[0] = '-';
    /* -(v + 1) + 1 avoids overflow at INT64_MIN */
    return 1 + rp_format_uint64(buf + 1, (uint64_t)(-(v + 1)) + 1);
}

static size_t format_special(char *buf, double v) {
    const char *s = isnan(v) ? "nan" : v > 0 ? "inf" : "-inf";
    size_t n = strlen(s);
    memcpy(buf, s, n + 1);
    return n;
}

size_t rp_format_float(char *buf, float v) {
    if (!isfinite(v))
        return format_special(buf, v);
    int n = 0;
    for (int digits = 7; digits <= 9; digits++) {
        n = snprintf(buf, RP_VALFMT_MAX, "%.*g", digits, (double)v);
        float back = strtof(buf, NULL);
        if (memcmp(&back, &v, sizeof v) == 0)
            break;
    }
    return (size_t)n;
}

size_t rp_format_double(char *buf, double v) {
    if (!isfinite(v))
        return format_special(buf, v);
    int n = 0;
    for (int digits = 15; digits <= 17; digits++) {
        n = snprintf(buf, RP_VALFMT_MAX, "%.*g", digits, v);
        double back = strtod(buf, NULL);
        if (memcmp(&back, &v, sizeof v) == 0)
            break;
    }
    return (size_t)n;
}

/* "re+imj" (or "re-imj") from the two parts already formatted. */
static size_t join_complex(char *buf, const char *re, const char *im) {
    size_t n = strlen(re);
    memcpy(buf, re, n);
    if (im[0] != '-')
        buf[n++] = '+';
    size_t m = strlen(im);
    memcpy(buf + n, im, m);
    n += m;
    buf[n++] = 'j';
    buf[n] = '\0';
    return n;
}

size_t rp_format_value(char *buf, int gdal_type, const void *p) {
    char re[RP_VALFMT_MAX / 2], im[RP_VALFMT_MAX / 2];
    switch ((GDALDataType)gdal_type) {
    case GDT_Byte: {
        uint8_t v;
        memcpy(&v, p, sizeof v);
        return rp_format_uint64(buf, v);
    }
    case GDT_UInt16: {
        uint16_t v;
        memcpy(&v, p, sizeof v);
        return rp_format_uint64(buf, v);
    }
    case GDT_Int16: {
        int16_t v;
        memcpy(&v, p, sizeof v);
        return rp_format_int64(buf, v);
    }
    case GDT_UInt32: {
        uint32_t v;
        memcpy(&v, p, sizeof v);
        return rp_format_uint64(buf, v);
    }
    case GDT_Int32: {
        int32_t v;
        memcpy(&v, p, sizeof v);
        return rp_format_int64(buf, v);
    }
    case GDT_UInt64: {
        uint64_t v;
        memcpy(&v, p, sizeof v);
        return rp_format_uint64(buf, v);
    }
    case GDT_Int64: {
        int64_t v;
        memcpy(&v, p, sizeof v);
        return rp_format_int64(buf, v);
    }
    case GDT_Float32: {
        float v;
        memcpy(&v, p, sizeof v);
        return rp_format_float(buf, v);
    }
    case GDT_Float64: {
        double v;
        memcpy(&v, p, sizeof v);
        return rp_format_double(buf, v);
    }
    case GDT_CInt16: {
        int16_t v[2];
        memcpy(v, p, sizeof v);
        rp_format_int64(re, v[0]);
        rp_format_int64(im, v[1]);
        return join_complex(buf, re, im);
    }
    case GDT_CInt32: {
        int32_t v[2];
        memcpy(v, p, sizeof v);
        rp_format_int64(re, v[0]);
        rp_format_int64(im, v[1]);
        return join_complex(buf, re, im);
    }
    case GDT_CFloat32: {
        float v[2];
        memcpy(v, p, sizeof v);
        rp_format_float(re, v[0]);
        rp_format_float(im, v[1]);
        return join_complex(buf, re, im);
    }
    case GDT_CFloat64: {
        double v[2];
        memcpy(v, p, sizeof v);
        rp_format_double(re, v[0]);
        rp_format_double(im, v[1]);
        return join_complex(buf, re, im);
    }
    default:
        buf[0] = '\0';
        return 0;
    }
}
