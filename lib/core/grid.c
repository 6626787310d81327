/*
 * grid.c — coordinate to cell, and the DESIGN.md cell convention.
 *
 * North-up grids divide by the resolution ((x - x0) / dx) rather than
 * multiplying by its inverse: for the common binary-fraction resolutions this
 * keeps points that lie exactly on a cell edge exactly on it, so the edge
 * rule (higher index wins) holds without rounding surprises. Rotated and
 * sheared grids use the general inverse.
 *
 * Threads: pure functions over a read-only rp_grid.
 */
#include <math.h>

#include "grid.h"

static bool invert_geotransform(const double gt[6], double inv[6]) {
    double det = gt[1] * gt[5] - gt[2] * gt[4];
    if (det == 0.0 || !isfinite(det))
        return false;
    double inv_det = 1.0 / det;
    inv[0] = (gt[2] * gt[3] - gt[0] * gt[5]) * inv_det;
    inv[1] = gt[5] * inv_det;
    inv[2] = -gt[2] * inv_det;
    inv[3] = (-gt[1] * gt[3] + gt[0] * gt[4]) * inv_det;
    inv[4] = -gt[4] * inv_det;
    inv[5] = gt[1] * inv_det;
    return true;
}

bool rp_grid_init(rp_grid *grid, const double gt[6], int64_t width, int64_t height, int64_t block_w,
                  int64_t block_h) {
    if (width <= 0 || height <= 0 || block_w <= 0 || block_h <= 0)
        return false;
    for (int i = 0; i < 6; i++) {
        if (!isfinite(gt[i]))
            return false;
        grid->gt[i] = gt[i];
    }
    if (!invert_geotransform(gt, grid->inv))
        return false;
    grid->rotated = gt[2] != 0.0 || gt[4] != 0.0;
    grid->width = width;
    grid->height = height;
    grid->block_w = block_w;
    grid->block_h = block_h;
    grid->blocks_x = (width + block_w - 1) / block_w;
    grid->blocks_y = (height + block_h - 1) / block_h;
    return true;
}

void rp_grid_pixel(const rp_grid *grid, double x, double y, double *px, double *py) {
    if (!grid->rotated) {
        *px = (x - grid->gt[0]) / grid->gt[1];
        *py = (y - grid->gt[3]) / grid->gt[5];
        return;
    }
    const double *inv = grid->inv;
    *px = inv[0] + x * inv[1] + y * inv[2];
    *py = inv[3] + x * inv[4] + y * inv[5];
}

static bool cell_index(double p, int64_t size, int64_t *index) {
    /* The negated form also rejects NaN. */
    if (!(p >= 0.0 && p <= (double)size))
        return false;
    int64_t i = (int64_t)floor(p);
    *index = i < size ? i : size - 1; /* the far outer edge is inside */
    return true;
}

bool rp_grid_locate(const rp_grid *grid, double x, double y, int64_t *col, int64_t *row) {
    double px, py;
    rp_grid_pixel(grid, x, y, &px, &py);
    return cell_index(px, grid->width, col) && cell_index(py, grid->height, row);
}
