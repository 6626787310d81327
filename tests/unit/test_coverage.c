/*
 * test_coverage.c — exact coverage fractions against hand-computed areas:
 * aligned squares, a triangle, sub-cell and off-window polygons, holes in
 * either orientation, multipolygons, windows that split a polygon, and a
 * many-vertex polygon whose fractions must sum to its area.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "check.h"
#include "coverage.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-12)

/* Coverage of a polygon given as rings of (x, y) pairs over a window. */
static void cover(double **rings, const size_t *n, const unsigned char *hole, size_t nrings,
                  int64_t c0, int64_t r0, int nc, int nr, double *out) {
    rp_cov_ring rr[8];
    for (size_t i = 0; i < nrings; i++)
        rr[i] = (rp_cov_ring){rings[i], n[i], 0};
    rp_cov_poly poly = {rr, (unsigned char *)hole, nrings, 0, 0, 0, 0};
    rp_cov_poly_prepare(&poly);
    double *scratch = malloc(sizeof(double) * (size_t)(nc + 1) * (size_t)nr);
    rp_cov_window(&poly, c0, r0, nc, nr, scratch, out);
    free(scratch);
}

static void one_ring(double *xy, size_t n, int64_t c0, int64_t r0, int nc, int nr, double *out) {
    unsigned char hole = 0;
    cover(&xy, &n, &hole, 1, c0, r0, nc, nr, out);
}

static void test_aligned_square(void) {
    double sq[] = {1, 1, 3, 1, 3, 3, 1, 3}, out[16];
    one_ring(sq, 4, 0, 0, 4, 4, out);
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++)
            CHECK(out[r * 4 + c] == ((r >= 1 && r <= 2 && c >= 1 && c <= 2) ? 1.0 : 0.0));
    /* Clockwise: the same fractions. */
    double cw[] = {1, 1, 1, 3, 3, 3, 3, 1};
    double out2[16];
    one_ring(cw, 4, 0, 0, 4, 4, out2);
    for (int i = 0; i < 16; i++)
        CHECK(out2[i] == out[i]);
}

static void test_quarters_and_triangle(void) {
    double sq[] = {0.5, 0.5, 1.5, 0.5, 1.5, 1.5, 0.5, 1.5}, out[4];
    one_ring(sq, 4, 0, 0, 2, 2, out);
    for (int i = 0; i < 4; i++)
        CHECK(NEAR(out[i], 0.25));
    double tri[] = {0, 0, 2, 0, 0, 2};
    one_ring(tri, 3, 0, 0, 2, 2, out);
    CHECK(NEAR(out[0], 1));
    CHECK(NEAR(out[1], 0.5));
    CHECK(NEAR(out[2], 0.5));
    CHECK(NEAR(out[3], 0));
    /* A diagonal through one cell only: half of it. */
    double half[] = {0, 0, 1, 1, 0, 1};
    one_ring(half, 3, 0, 0, 2, 2, out);
    CHECK(NEAR(out[0], 0.5));
    CHECK(NEAR(out[1] + out[2] + out[3], 0));
}

static void test_sub_cell_and_off_window(void) {
    double tiny[] = {2.2, 1.3, 2.4, 1.3, 2.4, 1.7, 2.2, 1.7}, out[12];
    one_ring(tiny, 4, 0, 0, 4, 3, out);
    for (int i = 0; i < 12; i++)
        CHECK(NEAR(out[i], i == 1 * 4 + 2 ? 0.08 : 0));
    /* Runs in from x = -5 to 1.5 in row 0: off the window's left edge. */
    double strip[] = {-5, 0.5, 1.5, 0.5, 1.5, 0.75, -5, 0.75};
    double o2[4];
    one_ring(strip, 4, 0, 0, 2, 2, o2);
    CHECK(NEAR(o2[0], 0.25));
    CHECK(NEAR(o2[1], 0.125));
    CHECK(NEAR(o2[2] + o2[3], 0));
    /* Wholly off the window: all zero. */
    double away[] = {10, 10, 11, 10, 11, 11};
    one_ring(away, 3, 0, 0, 2, 2, o2);
    for (int i = 0; i < 4; i++)
        CHECK(o2[i] == 0);
    /* The window sits inside the polygon: all one. */
    double big[] = {-100, -100, 100, -100, 100, 100, -100, 100};
    one_ring(big, 4, 3, 5, 2, 2, o2);
    for (int i = 0; i < 4; i++)
        CHECK(o2[i] == 1);
}

static void test_holes(void) {
    double outer[] = {0, 0, 3, 0, 3, 3, 0, 3};
    double hole_ccw[] = {1, 1, 2, 1, 2, 2, 1, 2};
    double hole_cw[] = {1, 1, 1, 2, 2, 2, 2, 1};
    double *rings[2] = {outer, hole_ccw};
    size_t n[2] = {4, 4};
    unsigned char hole[2] = {0, 1};
    double out[9];
    for (int pass = 0; pass < 2; pass++) {
        rings[1] = pass ? hole_cw : hole_ccw;
        cover(rings, n, hole, 2, 0, 0, 3, 3, out);
        for (int i = 0; i < 9; i++)
            CHECK(NEAR(out[i], i == 4 ? 0 : 1));
    }
    /* A hole of a quarter cell. */
    double small[] = {0.25, 0.25, 0.75, 0.25, 0.75, 0.75, 0.25, 0.75};
    rings[1] = small;
    cover(rings, n, hole, 2, 0, 0, 3, 3, out);
    CHECK(NEAR(out[0], 0.75));
}

static void test_multipolygon(void) {
    double a[] = {0, 0, 1, 0, 1, 0.5, 0, 0.5};
    double b[] = {1.5, 1, 2, 1, 2, 2, 1.5, 2};
    double *rings[2] = {a, b};
    size_t n[2] = {4, 4};
    unsigned char hole[2] = {0, 0};
    double out[4];
    cover(rings, n, hole, 2, 0, 0, 2, 2, out);
    CHECK(NEAR(out[0], 0.5));
    CHECK(NEAR(out[1], 0));
    CHECK(NEAR(out[2], 0));
    CHECK(NEAR(out[3], 0.5));
}

/* A star with many vertices: the fractions over a window that holds it sum
 * to its area, and every window split gives the same fractions. */
static void test_star_windows(void) {
    enum { N = 20001, W = 40 };
    double *xy = malloc(sizeof(double) * 2 * N);
    for (int i = 0; i < N; i++) {
        double t = 2 * M_PI * i / N, rad = (i % 2) ? 17.3 : 9.1;
        xy[2 * i] = 20.1 + rad * cos(t);
        xy[2 * i + 1] = 19.7 + rad * sin(t);
    }
    rp_cov_ring ring = {xy, N, 0};
    double area = fabs(rp_cov_ring_area(&ring));
    double *full = malloc(sizeof(double) * W * W), *part = malloc(sizeof(double) * 13 * 7);
    one_ring(xy, N, 0, 0, W, W, full);
    double sum = 0;
    for (int i = 0; i < W * W; i++) {
        CHECK(full[i] >= 0 && full[i] <= 1);
        sum += full[i];
    }
    CHECK(fabs(sum - area) < 1e-8);
    for (int r0 = 0; r0 < W; r0 += 7)
        for (int c0 = 0; c0 < W; c0 += 13) {
            one_ring(xy, N, c0, r0, 13, 7, part);
            for (int r = 0; r < 7 && r0 + r < W; r++)
                for (int c = 0; c < 13 && c0 + c < W; c++)
                    CHECK(fabs(part[r * 13 + c] - full[(r0 + r) * W + c0 + c]) < 1e-12);
        }
    /* spans: the same fractions where written, zero outside */
    int spans[2 * 7];
    double *sp = malloc(sizeof(double) * 13 * 7), *scratch = calloc(14 * 7, sizeof(double));
    rp_cov_ring ring2 = {xy, N, 0};
    unsigned char no_hole = 0;
    rp_cov_poly poly = {&ring2, &no_hole, 1, 0, 0, 0, 0};
    rp_cov_poly_prepare(&poly);
    for (int r0 = 0; r0 < W; r0 += 7)
        for (int c0 = 0; c0 < W; c0 += 13) {
            rp_cov_window(&poly, c0, r0, 13, 7, scratch, part);
            for (int i = 0; i < 14 * 7; i++)
                scratch[i] = 0; /* the spans variant wants it zeroed */
            for (int i = 0; i < 13 * 7; i++)
                sp[i] = -1;
            rp_cov_window_spans(&poly, c0, r0, 13, 7, scratch, sp, spans);
            for (int r = 0; r < 7; r++)
                for (int c = 0; c < 13; c++) {
                    bool in = c >= spans[2 * r] && c < spans[2 * r + 1];
                    CHECK(in ? sp[r * 13 + c] == part[r * 13 + c]
                             : (sp[r * 13 + c] == -1 && part[r * 13 + c] == 0));
                }
            for (int i = 0; i < 14 * 7; i++)
                CHECK(scratch[i] == 0); /* left zeroed */
        }
    free(sp);
    free(scratch);
    free(xy);
    free(full);
    free(part);
}

int main(void) {
    test_aligned_square();
    test_quarters_and_triangle();
    test_sub_cell_and_off_window();
    test_holes();
    test_multipolygon();
    test_star_windows();
    return CHECK_DONE();
}
