/*
 * cov_dump.c — a test helper for oracle_zonal.py: reads one polygon in
 * pixel coordinates and a window from stdin, prints the window's coverage
 * fractions (row-major, one a line, round-trip precision) from
 * lib/zonal/coverage.c, so that Python can compare them with shapely.
 *
 * Input: "window C0 R0 NCOLS NROWS", then per ring "ring HOLE N" and N
 * lines "X Y".
 */
#include <stdio.h>
#include <stdlib.h>

#include "coverage.h"

enum { MAX_RINGS = 256 };

int main(void) {
    long long c0, r0;
    int nc, nr;
    if (scanf(" window %lld %lld %d %d", &c0, &r0, &nc, &nr) != 4 || nc <= 0 || nr <= 0)
        return 2;
    static rp_cov_ring rings[MAX_RINGS];
    static unsigned char hole[MAX_RINGS];
    size_t nrings = 0;
    int h;
    size_t n;
    while (nrings < MAX_RINGS && scanf(" ring %d %zu", &h, &n) == 2) {
        double *xy = malloc(sizeof(double) * 2 * (n ? n : 1));
        for (size_t i = 0; i < 2 * n; i++)
            if (scanf("%lf", &xy[i]) != 1)
                return 2;
        rings[nrings] = (rp_cov_ring){xy, n, 0};
        hole[nrings++] = (unsigned char)h;
    }
    rp_cov_poly poly = {rings, hole, nrings, 0, 0, 0, 0};
    rp_cov_poly_prepare(&poly);
    double *scratch = malloc(sizeof(double) * (size_t)(nc + 1) * (size_t)nr);
    double *out = malloc(sizeof(double) * (size_t)nc * (size_t)nr);
    rp_cov_window(&poly, c0, r0, nc, nr, scratch, out);
    for (size_t i = 0; i < (size_t)nc * (size_t)nr; i++)
        printf("%.17g\n", out[i]);
    for (size_t i = 0; i < nrings; i++)
        free((void *)rings[i].xy);
    free(scratch);
    free(out);
    return 0;
}
