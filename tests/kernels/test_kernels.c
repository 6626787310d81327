/*
 * test_kernels.c — kernels for the calc tests, loaded with
 * --kernel test_kernels.so:NAME.
 *   fail_at_window  fails on the window that holds pixel (0, y) for y =
 *                   --kernel-arg (default: the first window), with a message
 *   window_ids      band 1 = x_off + column, band 2 = y_off + row, band 3 =
 *                   the pixel's x coordinate from the geotransform (Float64
 *                   output): checks windows, offsets and geotransform
 *   call_exit       calls exit(0) on the window that holds pixel (0, y) for y =
 *                   --kernel-arg (default: the first window)
 *   fill_left       fills the windows at x_off 0 with 77 and leaves the
 *                   others untouched (rasterpool zero-fills them first)
 * Threads: stateless.
 */
#include <stdio.h>
#include <stdlib.h>

#include "rasterpool.h"

int fail_at_window(const rp_kernel_block *b, void *user);
int window_ids(const rp_kernel_block *b, void *user);
int call_exit(const rp_kernel_block *b, void *user);
int fill_left(const rp_kernel_block *b, void *user);

int fail_at_window(const rp_kernel_block *b, void *user) {
    long row = user ? strtol((const char *)user, NULL, 10) : 0;
    if (row >= b->y_off && row < b->y_off + b->height && b->x_off == 0) {
        snprintf(b->error, b->error_size, "test kernel refuses row %ld", row);
        return 7;
    }
    size_t n =
        (size_t)b->width * (size_t)b->height * (size_t)b->out_bands * (size_t)b->out_type_size;
    for (size_t i = 0; i < n; i++)
        ((unsigned char *)b->out)[i] = 0;
    return 0;
}

int window_ids(const rp_kernel_block *b, void *user) {
    (void)user;
    if (b->out_type != 7 || b->out_bands != 3) {
        snprintf(b->error, b->error_size, "window_ids needs --ot Float64 --bands 3");
        return 1;
    }
    double *out = b->out;
    size_t px = (size_t)b->width * (size_t)b->height;
    const double *gt = b->geotransform;
    for (int r = 0; r < b->height; r++)
        for (int c = 0; c < b->width; c++) {
            size_t i = (size_t)r * (size_t)b->width + (size_t)c;
            out[i] = b->x_off + c;
            out[px + i] = b->y_off + r;
            out[2 * px + i] = gt[0] + (b->x_off + c + 0.5) * gt[1] + (b->y_off + r + 0.5) * gt[2];
        }
    return 0;
}

int call_exit(const rp_kernel_block *b, void *user) {
    long row = user ? strtol((const char *)user, NULL, 10) : 0;
    if (row >= b->y_off && row < b->y_off + b->height && b->x_off == 0)
        exit(0);
    return 0;
}

int fill_left(const rp_kernel_block *b, void *user) {
    (void)user;
    if (b->x_off != 0)
        return 0;
    size_t n =
        (size_t)b->width * (size_t)b->height * (size_t)b->out_bands * (size_t)b->out_type_size;
    for (size_t i = 0; i < n; i++)
        ((unsigned char *)b->out)[i] = 77;
    return 0;
}
