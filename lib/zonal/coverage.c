/*
 * coverage.c — exact coverage fractions by walking each ring through the
 * grid.
 *
 * The idea (the one exactextract documents; this code is written from it):
 * along any row of cells, the covered length of a horizontal line at height
 * y inside cell c is the sum, over the ring edges that cross the line, of
 * ±clamp(c + 1 - x, 0, 1), the sign set by the edge's direction. Integrating
 * over y in the row gives the covered area; because x is linear along an
 * edge piece that stays inside one column k, that integral is dy * (k + 1 -
 * xmid) for cell k and dy for every cell right of k. So each edge piece adds
 * two numbers to a per-row difference buffer (cell k and k + 1) and a prefix
 * sum along the row turns the differences into coverage: interior cells get
 * theirs from the running sum, with no per-cell geometry. Cost: the cells the
 * boundary crosses plus one pass over the window.
 *
 * Edge pieces left of the window add their whole dy to the window's first
 * cell; pieces right of it add nothing; rows outside it are skipped. The
 * result is the winding-weighted area, which for a valid polygon (holes
 * inside, parts disjoint) is the exact area; rings are oriented by their own
 * signed area, so input orientation does not matter.
 *
 * Threads: pure functions on caller-owned memory; any thread.
 */
#include "coverage.h"

#include <math.h>
#include <string.h>

double rp_cov_ring_area(const rp_cov_ring *ring) {
    double sum = 0;
    size_t n = ring->n;
    if (n < 3)
        return 0;
    /* Relative to the first vertex: keeps the products small. */
    double ox = ring->xy[0], oy = ring->xy[1];
    for (size_t i = 0; i < n; i++) {
        size_t j = (i + 1 == n) ? 0 : i + 1;
        double xi = ring->xy[2 * i] - ox, yi = ring->xy[2 * i + 1] - oy;
        double xj = ring->xy[2 * j] - ox, yj = ring->xy[2 * j + 1] - oy;
        sum += xi * yj - xj * yi;
    }
    return sum / 2;
}

void rp_cov_poly_prepare(rp_cov_poly *poly) {
    poly->xmin = poly->ymin = INFINITY;
    poly->xmax = poly->ymax = -INFINITY;
    for (size_t r = 0; r < poly->nrings; r++) {
        rp_cov_ring *ring = &poly->rings[r];
        double area = rp_cov_ring_area(ring);
        double role = poly->a_hole[r] ? -1.0 : 1.0;
        /* A counter-clockwise ring's edges run down (dy < 0) on its left
         * side, where the line enters: its sum is -area, hence the minus. */
        ring->mult = area > 0 ? -role : (area < 0 ? role : 0.0);
        for (size_t i = 0; i < ring->n; i++) {
            double x = ring->xy[2 * i], y = ring->xy[2 * i + 1];
            poly->xmin = fmin(poly->xmin, x);
            poly->xmax = fmax(poly->xmax, x);
            poly->ymin = fmin(poly->ymin, y);
            poly->ymax = fmax(poly->ymax, y);
        }
    }
}

/* The window a walk adds into: difference buffer rows of ncols + 1. */
typedef struct cov_win {
    int64_t c0, c1; /* columns [c0, c1) */
    int64_t r0;
    int ncols;
    double *acc;
    int *spans; /* per row [lo, hi) of the buffer entries touched, or NULL */
} cov_win;

/* Notes that entries [i, i + n) of a row were touched (span: the row's
 * [lo, hi), or NULL when nobody asks). */
static inline void touch(int *span, size_t i, size_t n) {
    if (!span)
        return;
    if ((int)i < span[0])
        span[0] = (int)i;
    if ((int)(i + n) > span[1])
        span[1] = (int)(i + n);
}

/* One edge piece inside one column (or wholly left/right of the window). */
static void add_piece(const cov_win *w, double *row, int *span, double xa, double ya, double xb,
                      double yb, double mult) {
    double dy = (yb - ya) * mult;
    double xmid = (xa + xb) / 2;
    if (xmid < (double)w->c0) {
        row[0] += dy;
        touch(span, 0, 1);
        return;
    }
    if (xmid >= (double)w->c1)
        return;
    double k = floor(xmid);
    double inside = dy * (k + 1 - xmid);
    size_t i = (size_t)((int64_t)k - w->c0);
    row[i] += inside;
    row[i + 1] += dy - inside;
    touch(span, i, 2);
}

/* A piece of an edge inside one row: split at the column lines between
 * its ends that matter to the window, then add each piece. */
static void add_row_piece(const cov_win *w, double *row, int *span, double xs, double ys, double xe,
                          double ye, double mult) {
    double c0 = (double)w->c0, c1 = (double)w->c1;
    if (fmax(xs, xe) <= c0) {
        row[0] += (ye - ys) * mult;
        touch(span, 0, 1);
        return;
    }
    if (fmin(xs, xe) >= c1 || ys == ye)
        return;
    double xa = xs, ya = ys;
    double slope = (xe != xs) ? (ye - ys) / (xe - xs) : 0;
    if (xe > xs) {
        for (;;) {
            double next = xa < c0 ? c0 : floor(xa) + 1;
            if (next >= xe || next > c1)
                break;
            double yb = ys + (next - xs) * slope;
            add_piece(w, row, span, xa, ya, next, yb, mult);
            xa = next;
            ya = yb;
        }
    } else if (xe < xs) {
        for (;;) {
            double next = xa > c1 ? c1 : ceil(xa) - 1;
            if (next <= xe || next < c0)
                break;
            double yb = ys + (next - xs) * slope;
            add_piece(w, row, span, xa, ya, next, yb, mult);
            xa = next;
            ya = yb;
        }
    }
    add_piece(w, row, span, xa, ya, xe, ye, mult);
}

/* The x of an edge at height y (the ends exactly at the ends). */
static double edge_x(double x0, double y0, double x1, double y1, double y) {
    if (y == y0)
        return x0;
    if (y == y1)
        return x1;
    return x0 + (y - y0) * (x1 - x0) / (y1 - y0);
}

static void add_edge(const cov_win *w, int nrows, double x0, double y0, double x1, double y1,
                     double mult) {
    double ylo = fmin(y0, y1), yhi = fmax(y0, y1);
    double r0 = (double)w->r0, r1 = r0 + nrows;
    if (y0 == y1 || yhi <= r0 || ylo >= r1 || fmin(x0, x1) >= (double)w->c1)
        return;
    int64_t first = (int64_t)floor(fmax(ylo, r0));
    int64_t last = (int64_t)ceil(fmin(yhi, r1)) - 1;
    for (int64_t r = first; r <= last; r++) {
        double top = (double)r, bottom = (double)r + 1;
        double ys = fmin(fmax(y0, top), bottom), ye = fmin(fmax(y1, top), bottom);
        if (ys == ye)
            continue;
        double xs = edge_x(x0, y0, x1, y1, ys), xe = edge_x(x0, y0, x1, y1, ye);
        double *row = w->acc + (size_t)(r - w->r0) * (size_t)(w->ncols + 1);
        int *span = w->spans ? w->spans + 2 * (r - w->r0) : NULL;
        add_row_piece(w, row, span, xs, ys, xe, ye, mult);
    }
}

static inline double snap(double v) {
    return v < RP_COV_EPS ? 0 : (v > 1 - RP_COV_EPS ? 1 : v);
}

/* One row's prefix sum over [lo, hi) of its touched entries; cells before
 * lo are 0 and after hi the running sum is constant. Returns the end of
 * the cells that may be non-zero. */
static int prefix_row(const double *acc, double *dst, int ncols, int lo, int hi) {
    if (hi > ncols)
        hi = ncols;
    double sum = 0;
    for (int c = lo; c < hi; c++) {
        sum += acc[c];
        dst[c] = snap(sum);
    }
    double tail = snap(sum);
    if (tail == 0)
        return hi > lo ? hi : lo;
    for (int c = hi; c < ncols; c++)
        dst[c] = tail;
    return ncols;
}

static void cover(const rp_cov_poly *poly, int64_t col0, int64_t row0, int ncols, int nrows,
                  double *scratch, double *out, int *spans) {
    size_t stride = (size_t)ncols + 1;
    if (!spans) /* with spans, scratch comes zeroed and goes back zeroed */
        memset(scratch, 0, sizeof(double) * stride * (size_t)nrows);
    for (int rr = 0; spans && rr < nrows; rr++) {
        spans[2 * rr] = ncols + 1;
        spans[2 * rr + 1] = 0;
    }
    cov_win w = {col0, col0 + ncols, row0, ncols, scratch, spans};
    for (size_t r = 0; r < poly->nrings; r++) {
        const rp_cov_ring *ring = &poly->rings[r];
        if (ring->mult == 0)
            continue;
        for (size_t i = 0; i < ring->n; i++) {
            size_t j = (i + 1 == ring->n) ? 0 : i + 1;
            add_edge(&w, nrows, ring->xy[2 * i], ring->xy[2 * i + 1], ring->xy[2 * j],
                     ring->xy[2 * j + 1], ring->mult);
        }
    }
    for (int rr = 0; rr < nrows; rr++) {
        double *acc = scratch + (size_t)rr * stride;
        double *dst = out + (size_t)rr * (size_t)ncols;
        if (!spans) {
            prefix_row(acc, dst, ncols, 0, ncols);
            continue;
        }
        int lo = spans[2 * rr] > ncols ? ncols : spans[2 * rr], touched = spans[2 * rr + 1];
        spans[2 * rr] = lo;
        spans[2 * rr + 1] = prefix_row(acc, dst, ncols, lo, touched);
        if (touched > lo)
            memset(acc + lo, 0, sizeof(double) * (size_t)(touched - lo));
    }
}

void rp_cov_window(const rp_cov_poly *poly, int64_t col0, int64_t row0, int ncols, int nrows,
                   double *scratch, double *out) {
    cover(poly, col0, row0, ncols, nrows, scratch, out, NULL);
}

void rp_cov_window_spans(const rp_cov_poly *poly, int64_t col0, int64_t row0, int ncols, int nrows,
                         double *scratch, double *out, int *spans) {
    cover(poly, col0, row0, ncols, nrows, scratch, out, spans);
}
