/*
 * valfmt.c — pixel values to text, exactly.
 *
 * Integers use a digit loop. Floats print as the shortest text that reads
 * back to the very same float32/float64 (double-conversion, through
 * valfmt_shortest.cc), so a value read from a raster and written by
 * rasterpool is the same value when read again: 0.1f prints 0.1, not
 * 0.100000001. Exponents appear below 1e-6 and from 1e17. NaN and
 * infinities print as nan, inf, -inf.
 *
 * Threads: pure functions.
 */
#include <stdio.h>
#include <string.h>

#include <gdal.h>

#include "numtext.h"
#include "valfmt.h"

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

size_t rp_format_float(char *buf, float v) {
    return rp_shortest_float(buf, RP_VALFMT_MAX, v);
}

size_t rp_format_double(char *buf, double v) {
    return rp_shortest_double(buf, RP_VALFMT_MAX, v);
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
#if GDAL_VERSION_NUM >= 3070000
    case GDT_Int8: return rp_format_int64(buf, *(const int8_t *)p);
#endif
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
    default: buf[0] = '\0'; return 0;
    }
}
