/*
 * coverage.h — exact cell coverage fractions of a polygon on a north-up
 * pixel grid: for each cell of a window, area(cell ∩ polygon) / cell area.
 * Pure arithmetic in pixel units (no GDAL); unit-tested alone.
 */
#ifndef RP_COVERAGE_H
#define RP_COVERAGE_H
#include <stddef.h>
#include <stdint.h>

/* Coverage values below this count as "not covered" (rounding noise of the
 * row sums); values within it of 1 are stored as exactly 1. */
#define RP_COV_EPS 1e-12

/* One ring in pixel coordinates (x = column, y = row, fractional), closed
 * or not (the last vertex joins the first either way). */
typedef struct rp_cov_ring {
    const double *xy; /* n (x, y) pairs; owned by the caller */
    size_t n;
    double mult; /* set by rp_cov_poly_prepare: the ring's sign in the sum */
} rp_cov_ring;

/* A polygon or multipolygon: exterior rings and holes, either orientation. */
typedef struct rp_cov_poly {
    rp_cov_ring *rings;    /* owned by the caller */
    unsigned char *a_hole; /* per ring: 1 for a hole, 0 for an exterior ring */
    size_t nrings;
    double xmin, ymin, xmax, ymax; /* pixel bounding box, set by prepare */
} rp_cov_poly;

/* Signed area of a ring (positive when x->y turns counter-clockwise). */
double rp_cov_ring_area(const rp_cov_ring *ring);

/* Orients every ring (exterior counts +, hole -) and sets the bounding box.
 * Rings of zero area are kept but contribute nothing. */
void rp_cov_poly_prepare(rp_cov_poly *poly);

/* Coverage fractions over the window of ncols x nrows cells whose top-left
 * cell is (col0, row0); out holds nrows * ncols values, row-major. scratch
 * holds nrows * (ncols + 1) doubles (any contents). Cells outside the
 * polygon get 0, inside 1, boundary cells the exact fraction. The window
 * may extend past the raster: the sum is pure geometry. */
void rp_cov_window(const rp_cov_poly *poly, int64_t col0, int64_t row0, int ncols, int nrows,
                   double *scratch, double *out);

/* The same, writing only what may be non-zero: spans (2 * nrows ints) gets
 * per row [first, end) of the cells written; cells outside it are 0 and
 * left untouched in out. scratch must be all zeros on entry (calloc it
 * once) and is left all zeros: only the touched entries are cleared. The
 * inner loop of zonal: rows are walked only where the polygon is. */
void rp_cov_window_spans(const rp_cov_poly *poly, int64_t col0, int64_t row0, int ncols, int nrows,
                         double *scratch, double *out, int *spans);

#endif
