/*
 * reverse_bands.c — an example kernel for `rasterpool calc --kernel`: the
 * CPU-heavy function of rasterio's concurrency guide, in C. It writes the
 * input's bands in reverse order (band 1 of the output is the input's last
 * band) and, to stand for real per-pixel work, spends a loop of additions
 * on every value (ITERATIONS, default 2000, as in the guide) that leaves the
 * value unchanged (exactly, for values below 2^52 - ITERATIONS).
 *
 *   cc -O2 -shared -fPIC -I include -o reverse_bands.so examples/kernels/reverse_bands.c
 *   rasterpool calc -i A=rgb.tif --kernel ./reverse_bands.so:reverse_bands -o bgr.tif
 *   rasterpool calc -i A=rgb.tif --kernel ./reverse_bands.so:reverse_bands \
 *       --kernel-arg 200 -o bgr.tif          # lighter: 200 additions a value
 *
 * It polls block->stopping() once a row, so Ctrl-C stops it quickly.
 *
 * Threads: calc calls it from several workers at once, each with its own
 * block; it keeps no state, and reads `user` (the --kernel-arg text) only.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rasterpool.h"

/* GDALDataType values (gdal.h), so that a kernel needs only rasterpool.h. */
enum {
    T_BYTE = 1,
    T_UINT16 = 2,
    T_INT16 = 3,
    T_UINT32 = 4,
    T_INT32 = 5,
    T_FLOAT32 = 6,
    T_FLOAT64 = 7
};

static double get(const void *p, int type, size_t i) {
    switch (type) {
    case T_BYTE: return ((const uint8_t *)p)[i];
    case T_UINT16: return ((const uint16_t *)p)[i];
    case T_INT16: return ((const int16_t *)p)[i];
    case T_UINT32: return ((const uint32_t *)p)[i];
    case T_INT32: return ((const int32_t *)p)[i];
    case T_FLOAT32: return ((const float *)p)[i];
    default: return ((const double *)p)[i];
    }
}

static void put(void *p, int type, size_t i, double v) {
    switch (type) {
    case T_BYTE: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case T_UINT16: ((uint16_t *)p)[i] = (uint16_t)v; break;
    case T_INT16: ((int16_t *)p)[i] = (int16_t)v; break;
    case T_UINT32: ((uint32_t *)p)[i] = (uint32_t)v; break;
    case T_INT32: ((int32_t *)p)[i] = (int32_t)v; break;
    case T_FLOAT32: ((float *)p)[i] = (float)v; break;
    default: ((double *)p)[i] = v; break;
    }
}

int reverse_bands(const rp_kernel_block *b, void *user);

int reverse_bands(const rp_kernel_block *b, void *user) {
    const rp_kernel_input *in = &b->inputs[0];
    if (in->bands != b->out_bands || in->type != b->out_type || in->type > T_FLOAT64) {
        snprintf(b->error, b->error_size,
                 "reverse_bands writes the input's bands in its own type: the output must have "
                 "%d band(s) of the input's type (leave --bands and --ot out)",
                 in->bands);
        return 1;
    }
    long iterations = user ? strtol((const char *)user, NULL, 10) : 2000;
    if (iterations < 0)
        iterations = 0;
    size_t px = (size_t)b->width * (size_t)b->height;
    enum { LANES = 16 };
    double lanes[LANES];
    for (int band = 0; band < in->bands; band++) {
        size_t from = (size_t)band * px, to = (size_t)(in->bands - 1 - band) * px;
        for (int row = 0; row < b->height; row++) {
            /* a long job: give up at once when calc is stopping (Ctrl-C) */
            if (b->stopping(b))
                return 1;
            size_t start = (size_t)row * (size_t)b->width;
            for (int c0 = 0; c0 < b->width; c0 += LANES) {
                int n = b->width - c0 < LANES ? b->width - c0 : LANES;
                for (int l = 0; l < LANES; l++)
                    lanes[l] = l < n ? get(in->data, in->type, from + start + (size_t)(c0 + l)) : 0;
                /* The work: additions the compiler may not fold (floating
                 * point), on independent lanes it can vectorise, as numpy
                 * would run them over an array. */
                for (long k = 0; k < iterations; k++)
                    for (int l = 0; l < LANES; l++)
                        lanes[l] += 1.0;
                for (int l = 0; l < n; l++)
                    put(b->out, b->out_type, to + start + (size_t)(c0 + l),
                        lanes[l] - (double)iterations);
            }
        }
    }
    return 0;
}
