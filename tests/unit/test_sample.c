/*
 * test_sample.c — sampling around points: the kernels and their cells
 * against hand-computed values (sample_kernel.c), the nodata policies, the
 * window statistics, and the in-memory call with --method / --window in
 * its argv against a raster whose values are a plane (3 col + 5 row + 7):
 * bilinear and cubic reproduce a plane exactly away from the edges, at
 * (px - 0.5, py - 0.5), and a window's sum is 9 times the centre's value.
 */
#include <gdal.h>
#include <unistd.h>

#include "check.h"
#include "plan.h"
#include "rasterpool.h"
#include "sample.h"

static bool near(double a, double b) {
    return fabs(a - b) <= 1e-12 * (fabs(b) > 1 ? fabs(b) : 1);
}

static void test_kernels(void) {
    CHECK(rp_cubic_kernel(0.0) == 1.0);
    CHECK(rp_cubic_kernel(1.0) == 0.0);
    CHECK(rp_cubic_kernel(-2.0) == 0.0);
    CHECK(rp_cubic_kernel(0.5) == 0.5625);   /* 0.25 * (0.75 - 2.5) + 1 */
    CHECK(rp_cubic_kernel(-1.5) == -0.0625); /* 2.25 * (-0.75 + 2.5) - 6 + 2 */
    CHECK(rp_cubic_kernel(3.0) == 0.0);
    CHECK(near(rp_cubic_spline_kernel(0.0), 4.0 / 6.0));
    CHECK(near(rp_cubic_spline_kernel(1.0), 1.0 / 6.0));
    CHECK(near(rp_cubic_spline_kernel(-1.0), 1.0 / 6.0));
    CHECK(rp_cubic_spline_kernel(2.0) == 0.0);
    for (double t = 0.0; t < 1.0; t += 0.0625) { /* both are partitions of unity */
        double sc = 0, ss = 0;
        for (int k = -1; k <= 2; k++) {
            sc += rp_cubic_kernel(k - t);
            ss += rp_cubic_spline_kernel(k - t);
        }
        CHECK(near(sc, 1.0));
        CHECK(near(ss, 1.0));
    }
}

static void test_cells(void) {
    rp_grid g;
    double gt[6] = {0, 1, 0, 0, 0, 1};
    CHECK(rp_grid_init(&g, gt, 10, 8, 4, 4));
    uint64_t c[25];
    rp_kernel_at at;
    /* bilinear at (0.25, 7.9): reference cell floor(-0.25) = -1 -> clamped 0,0;
     * rows floor(7.4) = 7, 8 -> 7, 7 */
    CHECK(rp_sample_kernel_cells(&g, RP_METHOD_BILINEAR, 0, 0.25, 7.9, c, &at));
    CHECK_EQ_INT(c[0], 70);
    CHECK_EQ_INT(c[1], 70);
    CHECK_EQ_INT(c[2], 70);
    CHECK_EQ_INT(c[3], 70);
    CHECK(near(at.dx, 0.75) && near(at.dy, 0.4));
    /* cubic at (5.5, 3.5): cells 4..7 x 2..5, offsets 0 */
    CHECK(rp_sample_kernel_cells(&g, RP_METHOD_CUBIC, 0, 5.5, 3.5, c, &at));
    CHECK_EQ_INT(c[0], 2 * 10 + 4);
    CHECK_EQ_INT(c[15], 5 * 10 + 7);
    CHECK(at.dx == 0.0 && at.dy == 0.0);
    /* window 5 at the corner (0, 0): rows/cols -2..2, off-raster outside */
    CHECK(rp_sample_kernel_cells(&g, RP_METHOD_NEAREST, 5, 0.0, 0.0, c, &at));
    CHECK(c[0] == RP_CELL_OUTSIDE && c[11] == RP_CELL_OUTSIDE);
    CHECK_EQ_INT(c[12], 0);
    CHECK_EQ_INT(c[24], 2 * 10 + 2);
    /* the far outer edge is inside (the last cell); beyond is outside */
    CHECK(rp_sample_kernel_cells(&g, RP_METHOD_NEAREST, 1, 10.0, 8.0, c, &at));
    CHECK_EQ_INT(c[0], 79);
    CHECK(!rp_sample_kernel_cells(&g, RP_METHOD_BILINEAR, 0, nextafter(10.0, 11), 1, c, &at));
    CHECK(!rp_sample_kernel_cells(&g, RP_METHOD_CUBIC, 0, NAN, 1, c, &at));
    /* GDAL's fall-backs */
    CHECK(rp_sample_effective_method(RP_METHOD_CUBIC, 3, 10) == RP_METHOD_BILINEAR);
    CHECK(rp_sample_effective_method(RP_METHOD_CUBICSPLINE, 1, 10) == RP_METHOD_NEAREST);
    CHECK(rp_sample_effective_method(RP_METHOD_CUBIC, 4, 4) == RP_METHOD_CUBIC);
}

static void test_policies(void) {
    const double v[4] = {10, 20, 30, 40};
    uint8_t st[4] = {RP_POINT_OK, RP_POINT_OK, RP_POINT_OK, RP_POINT_OK};
    rp_kernel_at at = {0.25, 0.5};
    double out = 0;
    /* (10*0.75 + 20*0.25) * 0.5 + (30*0.75 + 40*0.25) * 0.5 = 6.25 + 16.25 */
    CHECK(rp_sample_interpolate(RP_METHOD_BILINEAR, RP_NODATA_GDAL, v, st, &at, &out) ==
          RP_POINT_OK);
    CHECK(out == 22.5);
    st[3] = RP_POINT_NODATA;
    CHECK(rp_sample_interpolate(RP_METHOD_BILINEAR, RP_NODATA_GDAL, v, st, &at, &out) ==
          RP_POINT_NODATA);
    /* renormalise: (10*0.375 + 20*0.125 + 30*0.375) / 0.875 */
    CHECK(rp_sample_interpolate(RP_METHOD_BILINEAR, RP_NODATA_RENORMALIZE, v, st, &at, &out) ==
          RP_POINT_OK);
    CHECK(near(out, (3.75 + 2.5 + 11.25) / 0.875));
    st[3] = RP_POINT_ERROR;
    CHECK(rp_sample_interpolate(RP_METHOD_BILINEAR, RP_NODATA_RENORMALIZE, v, st, &at, &out) ==
          RP_POINT_ERROR);
    /* cubic: a nodata cell of weight 0 (offset 0: the outer ring) changes
     * nothing under gdal, and gives none under strict */
    double c[16];
    uint8_t cs[16];
    for (int k = 0; k < 16; k++) {
        c[k] = k;
        cs[k] = RP_POINT_OK;
    }
    rp_kernel_at zero = {0, 0};
    cs[0] = RP_POINT_NODATA;
    CHECK(rp_sample_interpolate(RP_METHOD_CUBIC, RP_NODATA_GDAL, c, cs, &zero, &out) ==
          RP_POINT_OK);
    CHECK(out == 5.0); /* the cell (1, 1) */
    CHECK(rp_sample_interpolate(RP_METHOD_CUBIC, RP_NODATA_STRICT, c, cs, &zero, &out) ==
          RP_POINT_NODATA);
    cs[5] = RP_POINT_NODATA; /* the only cell of weight: no value */
    CHECK(rp_sample_interpolate(RP_METHOD_CUBIC, RP_NODATA_GDAL, c, cs, &zero, &out) ==
          RP_POINT_NODATA);
}

static void test_window_stats(void) {
    const double v[6] = {4, NAN, 1, 7, 2, 100};
    const uint8_t st[6] = {RP_POINT_OK, RP_POINT_OK,      RP_POINT_OK,
                           RP_POINT_OK, RP_POINT_OUTSIDE, RP_POINT_NODATA};
    double scratch[6], out;
    size_t index = 99;
    /* counted: 4, 1, 7 (NaN, outside and nodata left out) */
    CHECK(rp_window_stat_value(RP_STAT_COUNT, v, st, 6, scratch, &out, &index) == RP_POINT_OK);
    CHECK(out == 3);
    rp_window_stat_value(RP_STAT_MEAN, v, st, 6, scratch, &out, &index);
    CHECK(out == 4);
    rp_window_stat_value(RP_STAT_SUM, v, st, 6, scratch, &out, &index);
    CHECK(out == 12);
    rp_window_stat_value(RP_STAT_MEDIAN, v, st, 6, scratch, &out, &index);
    CHECK(out == 4);
    rp_window_stat_value(RP_STAT_STDEV, v, st, 6, scratch, &out, &index);
    CHECK(near(out, sqrt(18.0 / 3.0)));
    rp_window_stat_value(RP_STAT_MIN, v, st, 6, scratch, &out, &index);
    CHECK(out == 1 && index == 2);
    rp_window_stat_value(RP_STAT_MAX, v, st, 6, scratch, &out, &index);
    CHECK(out == 7 && index == 3);
    const double even[4] = {5, 1, 3, 2};
    const uint8_t ok4[4] = {0, 0, 0, 0};
    rp_window_stat_value(RP_STAT_MEDIAN, even, ok4, 4, scratch, &out, &index);
    CHECK(out == 2.5);
    const uint8_t none[2] = {RP_POINT_NODATA, RP_POINT_OUTSIDE};
    CHECK(rp_window_stat_value(RP_STAT_MEAN, v, none, 2, scratch, &out, &index) == RP_POINT_NODATA);
    CHECK(rp_window_stat_value(RP_STAT_COUNT, v, none, 2, scratch, &out, &index) == RP_POINT_OK);
    CHECK(out == 0);
}

enum { W = 40, H = 30 };

/* An Int16 plane 3 col + 5 row + 7, tiled 16x16, pixel coordinates. */
static void write_plane(const char *path) {
    const char *co[] = {"TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16", NULL};
    GDALDatasetH ds =
        GDALCreate(GDALGetDriverByName("GTiff"), path, W, H, 1, GDT_Int16, (char **)co);
    double gt[6] = {0, 1, 0, 0, 0, 1};
    GDALSetGeoTransform(ds, gt);
    int16_t buf[W * H];
    for (int r = 0; r < H; r++)
        for (int c = 0; c < W; c++)
            buf[r * W + c] = (int16_t)(3 * c + 5 * r + 7);
    CHECK(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 0, 0, W, H, buf, W, H, GDT_Int16, 0,
                       0) == CE_None);
    GDALClose(ds);
}

static rp_extract_result *run(const char *path, const char *a, const char *b, const char *c,
                              const char *d, const double *x, const double *y, size_t n) {
    const char *argv[] = {"extract", path, a, b, c, d, NULL};
    int argc = 2;
    while (argv[argc])
        argc++;
    rp_error err;
    rp_error_clear(&err);
    rp_extract_options *o = rp_extract_options_new(argc, argv, NULL, &err);
    CHECK(o != NULL);
    if (!o)
        return NULL;
    rp_extract_result *res = NULL;
    CHECK(rp_extract_run_arrays(o, x, y, n, 0, &res, &err) == RP_OK);
    rp_extract_options_free(o);
    return res;
}

static void test_api(void) {
    char path[] = "/tmp/rp_test_sample_XXXXXX.tif";
    int fd = mkstemps(path, 4);
    close(fd);
    write_plane(path);
    /* interior points, across the block edge at 16 too */
    const double x[5] = {5.3, 15.9, 16.2, 20.75, 33.5}, y[5] = {4.6, 15.99, 16.01, 7.25, 20.5};
    const char *methods[] = {"bilinear", "cubic"};
    for (int m = 0; m < 2; m++) {
        rp_extract_result *r = run(path, "--method", methods[m], NULL, NULL, x, y, 5);
        if (!r)
            continue;
        CHECK_EQ_INT(rp_extract_result_ncols(r), 1);
        CHECK_EQ_STR(rp_extract_result_name(r, 0), "b1");
        CHECK_EQ_INT(rp_extract_result_type(r, 0), GDT_Float64);
        const double *v = rp_extract_result_values_f64(r, 0);
        for (int i = 0; i < 5; i++) {
            double want = 3 * (x[i] - 0.5) + 5 * (y[i] - 0.5) + 7;
            CHECK(rp_extract_result_status(r, 0)[i] == RP_POINT_OK);
            CHECK(near(v[i], want));
        }
        rp_extract_result_free(r);
    }
    rp_extract_result *r = run(path, "--window", "3", "--window-stat", "sum", x, y, 5);
    if (r) {
        CHECK_EQ_STR(rp_extract_result_name(r, 0), "b1_sum");
        const double *v = rp_extract_result_values_f64(r, 0);
        for (int i = 0; i < 5; i++)
            CHECK(v[i] == 9.0 * (3 * floor(x[i]) + 5 * floor(y[i]) + 7));
        rp_extract_result_free(r);
    }
    unlink(path);
}

int main(void) {
    GDALAllRegister();
    test_kernels();
    test_cells();
    test_policies();
    test_window_stats();
    test_api();
    return CHECK_DONE();
}
