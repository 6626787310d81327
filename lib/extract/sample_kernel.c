/*
 * sample_kernel.c — the arithmetic of sampling around a point: which cells
 * a kernel needs, GDAL's interpolation formulas, and window statistics.
 *
 * Interpolation follows GDAL's GDALInterpolateAtPoint (GDAL >= 3.10,
 * gcore/gdal_interpolateatpoint.cpp), which Debian's GDAL 3.6 lacks:
 * pixel-is-area, so the kernel is placed on cell centres (px - 0.5); the
 * kernel is clamped into the raster (edge rows and columns repeat, as
 * GDAL's "drag into the border" does), so values are continuous up to the
 * outer edge; cubic is the cubic convolution kernel with a = -0.5
 * (Catmull-Rom), cubicspline the cubic B-spline; bilinear is computed as
 * GDAL writes it, x first then y; the 4x4 kernels sum rows then columns and
 * divide by the weights of the cells used. The same operations in the same
 * order give the same doubles. Small rasters fall back as GDAL does.
 *
 * Nodata (or masked) cells follow the chosen policy (sample.h). An
 * unreadable cell makes the result an error, never a silently different
 * value.
 *
 * Threads: pure functions.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "rasterpool.h"
#include "sample.h"

static const char *const method_names[] = {"nearest", "bilinear", "cubic", "cubicspline"};
static const char *const stat_names[] = {"mean",  "min",   "max",    "sum",
                                         "count", "stdev", "median", "values"};
static const char *const policy_names[] = {"gdal", "renormalize", "strict"};

static int parse_name(const char *s, const char *const *names, int n) {
    for (int i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

const char *rp_sample_method_name(rp_sample_method m) {
    return method_names[m];
}

int rp_sample_method_parse(const char *s) {
    return parse_name(s, method_names, 4);
}

const char *rp_window_stat_name(rp_window_stat s) {
    return stat_names[s];
}

int rp_window_stat_parse(const char *s) {
    return parse_name(s, stat_names, RP_STAT_NKINDS);
}

int rp_nodata_policy_parse(const char *s) {
    return parse_name(s, policy_names, 3);
}

rp_sample_method rp_sample_effective_method(rp_sample_method m, int64_t width, int64_t height) {
    if ((m == RP_METHOD_CUBIC || m == RP_METHOD_CUBICSPLINE) && (width < 4 || height < 4))
        m = RP_METHOD_BILINEAR;
    if (m == RP_METHOD_BILINEAR && (width < 2 || height < 2))
        m = RP_METHOD_NEAREST;
    return m;
}

int rp_sample_kernel_side(rp_sample_method m, int window) {
    if (window > 0)
        return window;
    return m == RP_METHOD_BILINEAR ? 2 : m == RP_METHOD_NEAREST ? 1 : 4;
}

static int64_t clamp64(int64_t v, int64_t size) {
    return v < 0 ? 0 : v >= size ? size - 1 : v;
}

/* The cell index of p, pixel-is-area, the far outer edge inside (grid.c). */
static int64_t cell_of(double p, int64_t size) {
    int64_t i = (int64_t)floor(p);
    return i < size ? i : size - 1;
}

bool rp_sample_kernel_cells(const rp_grid *g, rp_sample_method m, int window, double px, double py,
                            uint64_t *cells, rp_kernel_at *at) {
    if (!(px >= 0.0 && px <= (double)g->width && py >= 0.0 && py <= (double)g->height))
        return false;
    at->dx = at->dy = 0.0;
    uint64_t w = (uint64_t)g->width;
    if (window > 0 || m == RP_METHOD_NEAREST) {
        int side = window > 0 ? window : 1, h = side / 2;
        int64_t c0 = cell_of(px, g->width) - h, r0 = cell_of(py, g->height) - h;
        for (int i = 0; i < side; i++) {
            for (int j = 0; j < side; j++) {
                int64_t r = r0 + i, c = c0 + j;
                bool in = r >= 0 && r < g->height && c >= 0 && c < g->width;
                cells[i * side + j] = in ? (uint64_t)r * w + (uint64_t)c : RP_CELL_OUTSIDE;
            }
        }
        return true;
    }
    /* the kernel on cell centres: the reference cell holds px - 0.5 */
    double fx = px - 0.5, fy = py - 0.5;
    double flx = floor(fx), fly = floor(fy);
    at->dx = fx - flx;
    at->dy = fy - fly;
    int side = m == RP_METHOD_BILINEAR ? 2 : 4;
    int64_t c0 = (int64_t)flx - (side == 4), r0 = (int64_t)fly - (side == 4);
    for (int i = 0; i < side; i++) {
        uint64_t r = (uint64_t)clamp64(r0 + i, g->height);
        for (int j = 0; j < side; j++)
            cells[i * side + j] = r * w + (uint64_t)clamp64(c0 + j, g->width);
    }
    return true;
}

double rp_cubic_kernel(double x) {
    double ax = fabs(x);
    if (ax <= 1.0) {
        double x2 = x * x;
        return x2 * (1.5 * ax - 2.5) + 1;
    }
    if (ax <= 2.0) {
        double x2 = x * x;
        return x2 * (-0.5 * ax + 2.5) - 4 * ax + 2;
    }
    return 0.0;
}

double rp_cubic_spline_kernel(double x) {
    if (x > 2.0)
        return 0.0;
    double xm1 = x - 1.0, xp1 = x + 1.0, xp2 = x + 2.0;
    double a = xp2 <= 0.0 ? 0.0 : xp2 * xp2 * xp2;
    double b = xp1 <= 0.0 ? 0.0 : xp1 * xp1 * xp1;
    double c = x <= 0.0 ? 0.0 : x * x * x;
    double d = xm1 <= 0.0 ? 0.0 : xm1 * xm1 * xm1;
    return 0.16666666666666666667 * (a - (4.0 * b) + (6.0 * c) - (4.0 * d));
}

/* Whether any of n cells is an error / not a value. */
static bool any_status(const uint8_t *st, int n, uint8_t what) {
    for (int k = 0; k < n; k++)
        if (what == RP_POINT_OK ? st[k] != RP_POINT_OK : st[k] == what)
            return true;
    return false;
}

static uint8_t bilinear(rp_nodata_policy policy, const double *v, const uint8_t *st,
                        const rp_kernel_at *at, double *out) {
    double d1x = 1.0 - at->dx, d1y = 1.0 - at->dy;
    if (!any_status(st, 4, RP_POINT_OK)) {
        double xz1 = v[0] * d1x + v[1] * at->dx;
        double xz2 = v[2] * d1x + v[3] * at->dx;
        *out = xz1 * d1y + xz2 * at->dy;
        return RP_POINT_OK;
    }
    if (policy != RP_NODATA_RENORMALIZE)
        return RP_POINT_NODATA;
    const double w[4] = {d1x * d1y, at->dx * d1y, d1x * at->dy, at->dx * at->dy};
    double sum = 0.0, sum_w = 0.0;
    for (int k = 0; k < 4; k++) {
        if (st[k] != RP_POINT_OK)
            continue;
        sum += v[k] * w[k];
        sum_w += w[k];
    }
    if (sum_w == 0.0)
        return RP_POINT_NODATA;
    *out = sum / sum_w;
    return RP_POINT_OK;
}

static uint8_t four_by_four(rp_sample_method m, rp_nodata_policy policy, const double *v,
                            const uint8_t *st, const rp_kernel_at *at, double *out) {
    if (policy == RP_NODATA_STRICT && any_status(st, 16, RP_POINT_OK))
        return RP_POINT_NODATA;
    double kx[4], ky[4];
    for (int k = 0; k < 4; k++) {
        double x = (double)(k - 1) - at->dx, y = (double)(k - 1) - at->dy;
        kx[k] = m == RP_METHOD_CUBICSPLINE ? rp_cubic_spline_kernel(x) : rp_cubic_kernel(x);
        ky[k] = m == RP_METHOD_CUBICSPLINE ? rp_cubic_spline_kernel(y) : rp_cubic_kernel(y);
    }
    double sum = 0.0, sum_w = 0.0;
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 4; j++) {
            double w = kx[j] * ky[i];
            if (st[i * 4 + j] != RP_POINT_OK)
                continue;
            sum += v[i * 4 + j] * w;
            sum_w += w;
        }
    }
    if (sum_w == 0.0)
        return RP_POINT_NODATA;
    *out = sum / sum_w;
    return RP_POINT_OK;
}

uint8_t rp_sample_interpolate(rp_sample_method m, rp_nodata_policy policy, const double *v,
                              const uint8_t *st, const rp_kernel_at *at, double *out) {
    int side = rp_sample_kernel_side(m, 0);
    if (any_status(st, side * side, RP_POINT_ERROR))
        return RP_POINT_ERROR;
    if (m == RP_METHOD_NEAREST) {
        if (st[0] != RP_POINT_OK)
            return RP_POINT_NODATA;
        *out = v[0];
        return RP_POINT_OK;
    }
    if (m == RP_METHOD_BILINEAR)
        return bilinear(policy, v, st, at, out);
    return four_by_four(m, policy, v, st, at, out);
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The cells that count, into scratch (in cell order); their number. */
static size_t gather_valid(const double *v, const uint8_t *st, size_t n, double *scratch) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (st[i] == RP_POINT_OK && !isnan(v[i]))
            scratch[k++] = v[i];
    return k;
}

static size_t extreme_index(const double *v, const uint8_t *st, size_t n, bool want_min) {
    size_t best = n;
    for (size_t i = 0; i < n; i++) {
        if (st[i] != RP_POINT_OK || isnan(v[i]))
            continue;
        if (best == n || (want_min ? v[i] < v[best] : v[i] > v[best]))
            best = i;
    }
    return best;
}

static double sum_of(const double *a, size_t k) {
    double s = 0.0;
    for (size_t i = 0; i < k; i++)
        s += a[i];
    return s;
}

uint8_t rp_window_stat_value(rp_window_stat stat, const double *v, const uint8_t *st, size_t n,
                             double *scratch, double *out, size_t *index) {
    for (size_t i = 0; i < n; i++)
        if (st[i] == RP_POINT_ERROR)
            return RP_POINT_ERROR;
    if (stat == RP_STAT_MIN || stat == RP_STAT_MAX) {
        size_t i = extreme_index(v, st, n, stat == RP_STAT_MIN);
        if (i == n)
            return RP_POINT_NODATA;
        *index = i;
        *out = v[i];
        return RP_POINT_OK;
    }
    size_t k = gather_valid(v, st, n, scratch);
    if (stat == RP_STAT_COUNT) {
        *out = (double)k;
        return RP_POINT_OK;
    }
    if (k == 0)
        return RP_POINT_NODATA;
    double sum = sum_of(scratch, k), mean = sum / (double)k;
    switch (stat) {
    case RP_STAT_SUM: *out = sum; break;
    case RP_STAT_MEAN: *out = mean; break;
    case RP_STAT_STDEV: {
        double ss = 0.0;
        for (size_t i = 0; i < k; i++)
            ss += (scratch[i] - mean) * (scratch[i] - mean);
        *out = sqrt(ss / (double)k);
        break;
    }
    case RP_STAT_MEDIAN:
        qsort(scratch, k, sizeof *scratch, compare_doubles);
        *out = k % 2 ? scratch[k / 2] : (scratch[k / 2 - 1] + scratch[k / 2]) / 2.0;
        break;
    default: return RP_POINT_ERROR; /* values: per cell, not a stat */
    }
    return RP_POINT_OK;
}
