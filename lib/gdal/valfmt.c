/*
 * valfmt.c — pixel values to text, exactly.
 *
 * Integers use a digit loop. Floats print as the shortest text that reads
 * back to the very same float32/float64 (double-conversion, through
 * valfmt_shortest.cc), so a value read from a raster and written by
 * rasterpool is the same value when read again: 0.1f prints 0.1, not
 * 0.100000001. Exponents appear below 1e-6 and from 1e17. NaN and
 * infinities print as nan, inf, -inf. Pixels are read with pixel.c.
 *
 * Threads: pure functions.
 */
#include <stdio.h>
#include <string.h>

#include <gdal.h>

#include "numtext.h"
#include "pixel.h"
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

/* the buffers of RP_VALFMT_MAX bytes take the shortest formatter's
 * in-place writes */
_Static_assert(RP_VALFMT_MAX >= RP_SHORTEST_ROOM, "valfmt buffers too small");

size_t rp_format_float(char *buf, float v) {
    return rp_shortest_float_room(buf, v);
}

size_t rp_format_double(char *buf, double v) {
    return rp_shortest_double_room(buf, v);
}

/* "re+imi" (or "re-imi") from the two parts already formatted. */
static size_t join_complex(char *buf, const char *re, const char *im) {
    size_t n = strlen(re);
    memcpy(buf, re, n);
    if (im[0] != '-')
        buf[n++] = '+';
    size_t m = strlen(im);
    memcpy(buf + n, im, m);
    n += m;
    buf[n++] = 'i'; /* as R and GDAL write them (Python writes j) */
    buf[n] = '\0';
    return n;
}

/* A complex type's part type; the type itself for the others. */
static GDALDataType part_type(GDALDataType type) {
    switch (type) {
    case GDT_CInt16: return GDT_Int16;
    case GDT_CInt32: return GDT_Int32;
    case GDT_CFloat32: return GDT_Float32;
    case GDT_CFloat64: return GDT_Float64;
    default: return type;
    }
}

/* One real value, read with pixel.c: integers exactly, floats in their
 * own precision. */
static size_t format_real(char *buf, GDALDataType type, const void *p) {
    int64_t i;
    if (type == GDT_UInt64) {
        uint64_t v;
        memcpy(&v, p, sizeof v);
        return rp_format_uint64(buf, v);
    }
    if (rp_pixel_as_int64(type, p, &i))
        return rp_format_int64(buf, i);
    if (type == GDT_Float32) /* float -> double -> float is exact */
        return rp_format_float(buf, (float)rp_pixel_as_double(type, p));
    if (type == GDT_Float64)
        return rp_format_double(buf, rp_pixel_as_double(type, p));
    buf[0] = '\0';
    return 0;
}

size_t rp_format_value(char *buf, int gdal_type, const void *p) {
    GDALDataType type = (GDALDataType)gdal_type;
    if (type == GDT_Float32) { /* the common cases first, without the type switches */
        float f;
        memcpy(&f, p, sizeof f);
        return rp_shortest_float_room(buf, f);
    }
    if (type == GDT_Float64) {
        double v;
        memcpy(&v, p, sizeof v);
        return rp_shortest_double_room(buf, v);
    }
    GDALDataType part = part_type(type);
    if (part == type)
        return format_real(buf, type, p);
    char re[RP_VALFMT_MAX], im[RP_VALFMT_MAX]; /* the formatters' room; the parts take 27 at most */
    format_real(re, part, p);
    format_real(im, part, (const unsigned char *)p + GDALGetDataTypeSizeBytes(part));
    return join_complex(buf, re, im);
}
