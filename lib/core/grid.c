/*
 * grid.c — coordinate to cell, and the DESIGN.md cell convention.
 *
 * North-up grids divide by the resolution ((x - x0) / dx) rather than
 * multiplying by its inverse: for the common binary-fraction resolutions this
 * keeps points that lie exactly on a cell edge exactly on it, so the edge
 * rule (higher index wins) holds without rounding surprises. Rotated and
 * sheared grids use the general inverse, and where it comes within
 * rounding of a cell edge the side is decided exactly (below).
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

/* --- exact decisions near cell edges on rotated grids -------------------
 * The multiplied inverse rounds, so a point exactly on an interior corner
 * can land a few ulps on the wrong side of it. Where px (or py) is that
 * close to an integer k, the side of the exact pixel coordinate is decided
 * in exact arithmetic: sign(px - k) = sign(det) * sign(E) with
 *   E_x = (x - gt0) gt5 - (y - gt3) gt2 - k det,
 *   E_y = (y - gt3) gt1 - (x - gt0) gt4 - k det,  det = gt1 gt5 - gt2 gt4,
 * each product split exactly into two doubles (fma) and the sum kept as a
 * Shewchuk expansion, whose largest component carries the sign. */

static void two_sum(double a, double b, double *s, double *e) {
    *s = a + b;
    double bv = *s - a, av = *s - bv;
    *e = (a - av) + (b - bv);
}

/* Adds the exact product a * b (two terms) to the list. */
static int add_product(double *t, int n, double a, double b) {
    double p = a * b;
    t[n++] = p;
    t[n++] = fma(a, b, -p);
    return n;
}

/* Adds the exact product k * a * b (four terms). */
static int add_triple(double *t, int n, double k, double a, double b) {
    double p = k * a, e = fma(k, a, -p);
    n = add_product(t, n, p, b);
    return add_product(t, n, e, b);
}

/* The exact sign of the sum of n doubles. */
static int exact_sign(const double *t, int n) {
    double e[32];
    int m = 0;
    for (int i = 0; i < n; i++) { /* grow-expansion with zero elimination */
        double q = t[i];
        int k = 0;
        for (int j = 0; j < m; j++) {
            double sum, err;
            two_sum(q, e[j], &sum, &err);
            if (err != 0.0)
                e[k++] = err;
            q = sum;
        }
        if (q != 0.0)
            e[k++] = q;
        m = k;
    }
    return m == 0 ? 0 : e[m - 1] > 0 ? 1 : -1;
}

/* sign(det) * sign(E) for the column (axis 0) or row (axis 1) edge k. */
static int exact_side(const rp_grid *g, double x, double y, double k, int axis) {
    const double *gt = g->gt;
    double t[32];
    int n = 0;
    if (axis == 0) { /* x gt5 - gt0 gt5 - y gt2 + gt3 gt2 */
        n = add_product(t, n, x, gt[5]);
        n = add_product(t, n, -gt[0], gt[5]);
        n = add_product(t, n, -y, gt[2]);
        n = add_product(t, n, gt[3], gt[2]);
    } else { /* y gt1 - gt3 gt1 - x gt4 + gt0 gt4 */
        n = add_product(t, n, y, gt[1]);
        n = add_product(t, n, -gt[3], gt[1]);
        n = add_product(t, n, -x, gt[4]);
        n = add_product(t, n, gt[0], gt[4]);
    }
    n = add_triple(t, n, -k, gt[1], gt[5]); /* - k det */
    n = add_triple(t, n, k, gt[2], gt[4]);
    double d[8];
    int nd = add_product(d, 0, gt[1], gt[5]);
    nd = add_product(d, nd, -gt[2], gt[4]);
    return exact_sign(t, n) * exact_sign(d, nd);
}

/* p, or where p is within rounding of an integer k, k itself when the
 * exact coordinate is k, or the double next to k on the exact side. */
static double exact_near_integer(const rp_grid *g, double x, double y, double p, int axis) {
    double k = nearbyint(p);
    if (!(fabs(p - k) <= 1e-6 * fmax(1.0, fabs(k))) || fabs(k) > 0x1p52)
        return p;
    int side = exact_side(g, x, y, k, axis);
    return side == 0 ? k : nextafter(k, side > 0 ? INFINITY : -INFINITY);
}

bool rp_grid_locate(const rp_grid *grid, double x, double y, int64_t *col, int64_t *row) {
    double px, py;
    rp_grid_pixel(grid, x, y, &px, &py);
    if (grid->rotated && isfinite(x) && isfinite(y)) {
        px = exact_near_integer(grid, x, y, px, 0);
        py = exact_near_integer(grid, x, y, py, 1);
    }
    return cell_index(px, grid->width, col) && cell_index(py, grid->height, row);
}
