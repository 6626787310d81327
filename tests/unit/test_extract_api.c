/* test_extract_api.c — the in-memory C API (rp_extract_points) on a raster
 * this test writes itself, checked against the values it wrote (value =
 * band * 100000 + row * 100 + col), with nodata, outside and NaN points, and
 * the same answers at 1 and 3 threads. */
#include <gdal.h>
#include <unistd.h>

#include "check.h"
#include "rasterpool.h"

enum { W = 100, H = 80 };

static void write_raster(const char *path) {
    GDALAllRegister();
    const char *co[] = {"TILED=YES", "BLOCKXSIZE=32", "BLOCKYSIZE=32", "COMPRESS=DEFLATE", NULL};
    GDALDatasetH ds =
        GDALCreate(GDALGetDriverByName("GTiff"), path, W, H, 2, GDT_Int32, (char **)co);
    double gt[6] = {1000, 2, 0, 500, 0, -2};
    GDALSetGeoTransform(ds, gt);
    int32_t *buf = malloc(sizeof *buf * W * H);
    for (int b = 1; b <= 2; b++) {
        for (int r = 0; r < H; r++)
            for (int c = 0; c < W; c++)
                buf[r * W + c] = b * 100000 + r * 100 + c;
        if (b == 1)
            buf[5 * W + 7] = -1; /* nodata in band 1 only */
        GDALRasterBandH band = GDALGetRasterBand(ds, b);
        CHECK(GDALRasterIO(band, GF_Write, 0, 0, W, H, buf, W, H, GDT_Int32, 0, 0) == CE_None);
        if (b == 1)
            GDALSetRasterNoDataValue(band, -1);
    }
    free(buf);
    GDALClose(ds);
}

int main(void) {
    char path[] = "/tmp/rp_test_api_XXXXXX.tif";
    int fd = mkstemps(path, 4);
    CHECK(fd >= 0);
    close(fd);
    write_raster(path);

    enum { N = 2000 };
    double *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    int want_col[N], want_row[N];
    for (int i = 0; i < N; i++) {
        want_col[i] = (i * 37) % W;
        want_row[i] = (i * 53) % H;
        x[i] = 1000 + 2 * want_col[i] + 0.5 + (i % 3) * 0.5; /* inside the cell */
        y[i] = 500 - 2 * want_row[i] - 0.25 - (i % 5) * 0.25;
    }
    x[0] = 999.0;            /* outside, left */
    y[1] = NAN;              /* NaN: outside */
    x[2] = 1000 + 2 * 7 + 1; /* the nodata cell (7, 5) */
    y[2] = 500 - 2 * 5 - 1;
    want_col[2] = 7;
    want_row[2] = 5;
    x[3] = 1000 + 2 * W; /* right edge: last column */
    y[3] = 500 - 1;
    want_col[3] = W - 1;
    want_row[3] = 0;

    const char *rasters[] = {path};
    int ncols = 0;
    rp_error err;
    rp_error_clear(&err);
    CHECK_EQ_INT(rp_extract_count_columns(rasters, 1, NULL, 0, &ncols, &err), RP_OK);
    CHECK_EQ_INT(ncols, 2);
    double *values[2];
    uint8_t *status[2];
    for (int t = 0; t < 2; t++) {
        values[t] = malloc(2 * N * sizeof(double));
        status[t] = malloc(2 * N);
        rp_error_clear(&err);
        CHECK_EQ_INT(rp_extract_points(rasters, 1, NULL, 0, x, y, N, t == 0 ? 1 : 3, values[t],
                                       status[t], &err),
                     RP_OK);
    }
    int wrong = 0;
    for (int c = 0; c < 2; c++) {
        for (int i = 0; i < N; i++) {
            int k = c * N + i;
            int want_status = i < 2                ? RP_POINT_OUTSIDE
                              : (i == 2 && c == 0) ? RP_POINT_NODATA
                                                   : RP_POINT_OK;
            double want = (c + 1) * 100000.0 + want_row[i] * 100.0 + want_col[i];
            if (status[0][k] != want_status || (want_status == RP_POINT_OK && values[0][k] != want))
                wrong++;
            if (status[0][k] != status[1][k] || values[0][k] != values[1][k])
                wrong++;
        }
    }
    CHECK_EQ_INT(wrong, 0);
    /* a band that does not exist: a usage error naming the raster */
    int bad_band[] = {3};
    rp_error_clear(&err);
    CHECK_EQ_INT(rp_extract_points(rasters, 1, bad_band, 1, x, y, N, 1, values[0], status[0], &err),
                 RP_USAGE);
    CHECK(strstr(err.message, path) != NULL);
    for (int t = 0; t < 2; t++) {
        free(values[t]);
        free(status[t]);
    }
    free(x);
    free(y);
    unlink(path);
    GDALDestroyDriverManager();
    return CHECK_DONE();
}
