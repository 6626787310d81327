/*
 * sample.h — values around points: interpolation (--method bilinear,
 * cubic, cubicspline) and N x N windows (--window N --window-stat ...).
 *
 * The design (sample_exec.c): every kernel cell a point needs becomes a
 * "cell point" of its own, and the cell points are planned and read by the
 * extract readers exactly as points are (grouped by block, or by VRT source
 * block, each touched block decoded once, masks and nodata as for
 * nearest). The kernel is then applied to each point's gathered cells
 * (sample_kernel.c): a kernel that straddles block edges or VRT source
 * files costs nothing more than one that does not, and the arithmetic is
 * GDAL's own order, so results do not depend on where block edges fall.
 */
#ifndef RP_SAMPLE_H
#define RP_SAMPLE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grid.h"

typedef enum rp_sample_method {
    RP_METHOD_NEAREST = 0,
    RP_METHOD_BILINEAR,
    RP_METHOD_CUBIC,
    RP_METHOD_CUBICSPLINE
} rp_sample_method;

/* What a nodata (or masked) cell does to an interpolated value. */
typedef enum rp_nodata_policy {
    RP_NODATA_GDAL = 0,    /* bilinear: none if any of the 4 is nodata; cubic: renormalise */
    RP_NODATA_RENORMALIZE, /* both: skip nodata cells, divide by the weights left */
    RP_NODATA_STRICT       /* both: none if any cell of the kernel is nodata */
} rp_nodata_policy;

typedef enum rp_window_stat {
    RP_STAT_MEAN = 0,
    RP_STAT_MIN,
    RP_STAT_MAX,
    RP_STAT_SUM,
    RP_STAT_COUNT,
    RP_STAT_STDEV,
    RP_STAT_MEDIAN,
    RP_STAT_VALUES,
    RP_STAT_NKINDS
} rp_window_stat;

/* The largest --window. */
#define RP_SAMPLE_MAX_WINDOW 101
/* The most --window-stat options. */
#define RP_SAMPLE_MAX_STATS RP_STAT_NKINDS

/* Names as the options spell them ("bilinear", "mean", ...), and back:
 * -1 for an unknown name. */
const char *rp_sample_method_name(rp_sample_method m);
int rp_sample_method_parse(const char *s);
const char *rp_window_stat_name(rp_window_stat s);
int rp_window_stat_parse(const char *s);
int rp_nodata_policy_parse(const char *s);

/* --- the kernel's cells (sample_kernel.c; pure, no GDAL) ---------------- */

/* The side of the square of cells one point needs on a grid of
 * width x height: 1 (nearest), 2 (bilinear), 4 (cubic, cubicspline), N
 * (window N). Interpolation falls back as GDAL does on small rasters:
 * cubic to bilinear under 4 cells wide or high, bilinear to nearest under
 * 2. */
rp_sample_method rp_sample_effective_method(rp_sample_method m, int64_t width, int64_t height);
int rp_sample_kernel_side(rp_sample_method m, int window);

/* A point's kernel: the cells (row-major, side x side) as row * width +
 * col, or RP_CELL_OUTSIDE for a window cell off the raster; and the
 * fractional offsets the weights use. Interpolation kernels are clamped
 * into the raster (edge rows and columns repeat). Returns false when the
 * point itself is outside (pixel coordinates px, py beyond [0, size] or
 * NaN). */
typedef struct rp_kernel_at {
    double dx, dy; /* interpolation: offsets from the kernel's reference cell centre, [0, 1) */
} rp_kernel_at;
bool rp_sample_kernel_cells(const rp_grid *grid, rp_sample_method m, int window, double px,
                            double py, uint64_t *cells, rp_kernel_at *at);

/* One cell's outcome for the kernel: a value (RP_POINT_OK, any double
 * including NaN), nodata/masked (RP_POINT_NODATA), off the raster
 * (RP_POINT_OUTSIDE), or unreadable (RP_POINT_ERROR). */

/* Interpolates side x side cells (v: values, st: statuses) at `at`: GDAL's
 * GDALInterpolateAtPoint arithmetic, order included. Returns the status of
 * the result (OK with *out, NODATA or ERROR). */
uint8_t rp_sample_interpolate(rp_sample_method m, rp_nodata_policy policy, const double *v,
                              const uint8_t *st, const rp_kernel_at *at, double *out);

/* The 1-D kernels, exposed for the unit tests. */
double rp_cubic_kernel(double x);
double rp_cubic_spline_kernel(double x);

/* Window statistics of n cells: only cells with status OK and a value that
 * is not NaN count. Returns the status of the stat (OK; NODATA when no cell
 * counts, except count which is 0; ERROR when a cell is ERROR). *out: the
 * value; for min/max *index: the cell it came from. scratch: n doubles. */
uint8_t rp_window_stat_value(rp_window_stat stat, const double *v, const uint8_t *st, size_t n,
                             double *scratch, double *out, size_t *index);

#endif
