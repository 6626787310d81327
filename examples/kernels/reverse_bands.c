/*
 * reverse_bands.c — an example kernel for `rasterpool calc --kernel`: the
 * CPU-heavy function of rasterio's concurrency guide, in C. It writes the
 * input's bands in reverse order (band 1 of the output is the input's last
 * band) and, to stand for real per-pixel work, spends a loop of additions
 * on every value (ITERATIONS, default 2000, as in the guide) that leaves the
 * value unchanged.
 *
 *   cc -O2 -shared -fPIC -I include -o reverse_bands.so examples/kernels/reverse_bands.c
 *   rasterpool calc -i A=rgb.tif --kernel ./reverse_bands.so:reverse_bands -o bgr.tif
 *   rasterpool calc -i A=rgb.tif --kernel ./reverse_bands.so:reverse_bands \
 *       --kernel-arg 200 -o bgr.tif          # lighter: 200 additions a value
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
enum { T_BYTE = 1, T_UINT16 = 2, T_INT16 = 3, T_UINT32 = 4, T_INT32 = 5, T_FLOAT32 = 6,
       T_FLOAT64 = 7 };

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
    for (int band = 0; band < in->bands; band++) {
        size_t from = (size_t)band * px, to = (size_t)(in->bands - 1 - band) * px;
        for (size_t i = 0; i < px; i++) {
            /* Additions the compiler may not fold (floating point): the work */
            double v = get(in->data, in->type, from + i);
            double work = v;
            for (long k = 0; k < iterations; k++)
                work += 1.0;
            work -= (double)iterations;
            put(b->out, b->out_type, to + i, work == v ? v : work);
        }
    }
    return 0;
}
