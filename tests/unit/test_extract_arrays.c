/*
 * test_extract_arrays.c — the handle-based in-memory call
 * (rp_extract_run_arrays, rp_extract_result_*) against an independent
 * oracle: a whole-band read (GDALRasterIO) of rasters this test writes,
 * indexed by the cell each point was placed in, and hand-computed edges
 * (outside, NaN, right and bottom edges, the nodata cell). Checks strided
 * (interleaved) coordinates, Int64 values beyond 2^53 carried exactly,
 * statuses, column names and types, --points-crs, thread counts, and a
 * cancel from the progress function.
 */
#include <gdal.h>
#include <ogr_srs_api.h>
#include <unistd.h>

#include "check.h"
#include "rasterpool.h"

enum { W = 70, H = 50, N = 1500 };
static const double GT[6] = {500000, 10, 0, 4600000, 0, -10}; /* UTM 31N metres */

typedef struct point {
    double x;
    int id;
    double y;
} point; /* x and y sizeof(point) apart, something else between */

/* Band 1 Int32 with nodata -1 at (7, 5); band 2 Int64 values beyond 2^53. */
static void write_raster(const char *path) {
    const char *co[] = {"TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16", NULL};
    GDALDatasetH ds =
        GDALCreate(GDALGetDriverByName("GTiff"), path, W, H, 2, GDT_Int64, (char **)co);
    GDALSetGeoTransform(ds, (double *)GT);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(srs, 32631);
    GDALSetSpatialRef(ds, srs);
    OSRDestroySpatialReference(srs);
    int64_t *buf = malloc(sizeof *buf * W * H);
    for (int b = 1; b <= 2; b++) {
        for (int i = 0; i < W * H; i++)
            buf[i] = b == 1 ? i * 3 - 50 : (INT64_C(1) << 53) + 1 + 2 * (int64_t)i;
        if (b == 1)
            buf[5 * W + 7] = -1;
        GDALRasterBandH band = GDALGetRasterBand(ds, b);
        CHECK(GDALRasterIO(band, GF_Write, 0, 0, W, H, buf, W, H, GDT_Int64, 0, 0) == CE_None);
        if (b == 1)
            GDALSetRasterNoDataValue(band, -1);
    }
    free(buf);
    GDALClose(ds);
}

/* The oracle: band b read whole by GDAL, as int64. */
static int64_t *read_band(const char *path, int b) {
    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    int64_t *v = malloc(sizeof *v * W * H);
    CHECK(GDALRasterIO(GDALGetRasterBand(ds, b), GF_Read, 0, 0, W, H, v, W, H, GDT_Int64, 0, 0) ==
          CE_None);
    GDALClose(ds);
    return v;
}

static int want_col[N], want_row[N]; /* -1: outside */

static void make_points(point *p) {
    for (int i = 0; i < N; i++) {
        want_col[i] = (i * 37) % W;
        want_row[i] = (i * 53) % H;
        p[i].id = i;
        p[i].x = GT[0] + 10 * want_col[i] + 1 + (i % 7);
        p[i].y = GT[3] - 10 * want_row[i] - 1 - (i % 9);
    }
    /* by hand: outside left, NaN, the nodata cell, the right and bottom edges */
    p[0].x = GT[0] - 0.001;
    want_col[0] = want_row[0] = -1;
    p[1].y = NAN;
    want_col[1] = want_row[1] = -1;
    p[2].x = GT[0] + 75;
    p[2].y = GT[3] - 55;
    want_col[2] = 7;
    want_row[2] = 5;
    p[3].x = GT[0] + 10 * W; /* the right edge belongs to the last column */
    p[3].y = GT[3] - 10 * H; /* the bottom edge to the last row */
    want_col[3] = W - 1;
    want_row[3] = H - 1;
    p[4].x = GT[0] + 10 * W + 0.001;
    want_col[4] = want_row[4] = -1;
}

static rp_extract_options *options(const char *path, const char *threads, const char *crs) {
    const char *argv[8] = {"extract", path, "--threads", threads};
    int argc = 4;
    if (crs) {
        argv[argc++] = "--points-crs";
        argv[argc++] = crs;
    }
    rp_error err;
    rp_error_clear(&err);
    rp_extract_options *o = rp_extract_options_new(argc, argv, NULL, &err);
    CHECK(o != NULL);
    if (o)
        (void)rp_extract_options_set_log(o, NULL, NULL);
    return o;
}

/* Checks a result against the oracle; returns the number of wrong cells. */
static int check_result(rp_extract_result *res, const int64_t *const oracle[2]) {
    int wrong = 0;
    CHECK_EQ_INT(rp_extract_result_ncols(res), 2);
    CHECK_EQ_INT(rp_extract_result_npoints(res), N);
    CHECK_EQ_STR(rp_extract_result_name(res, 0), "b1");
    CHECK_EQ_STR(rp_extract_result_name(res, 1), "b2");
    CHECK(rp_extract_result_name(res, 2) == NULL);
    for (int c = 0; c < 2; c++) {
        CHECK_EQ_INT(rp_extract_result_type(res, c), GDT_Int64);
        CHECK_EQ_INT(rp_extract_result_type_size(res, c), 8);
        const int64_t *raw = rp_extract_result_values_raw(res, c);
        const double *f64 = rp_extract_result_values_f64(res, c);
        const uint8_t *st = rp_extract_result_status(res, c);
        for (int i = 0; i < N; i++) {
            if (want_col[i] < 0) {
                wrong += st[i] != RP_POINT_OUTSIDE || !isnan(f64[i]);
                continue;
            }
            int64_t want = oracle[c][want_row[i] * W + want_col[i]];
            int want_status = c == 0 && want == -1 ? RP_POINT_NODATA : RP_POINT_OK;
            wrong += st[i] != want_status || raw[i] != want || f64[i] != (double)want;
        }
    }
    return wrong;
}

static int cancel_at_once(double fraction, const char *message, void *user) {
    (void)fraction;
    (void)message;
    (void)user;
    return 1;
}

int main(void) {
    GDALAllRegister();
    char path[] = "/tmp/rp_test_arrays_XXXXXX.tif";
    close(mkstemps(path, 4));
    write_raster(path);
    const int64_t *oracle[2] = {read_band(path, 1), read_band(path, 2)};
    CHECK(oracle[1][0] == (INT64_C(1) << 53) + 1); /* not a double */
    point *pts = malloc(N * sizeof *pts);
    make_points(pts);
    rp_error err;

    /* strided, at 1 and 4 threads: the same answers, the oracle's */
    const char *threads[] = {"1", "4"};
    for (int t = 0; t < 2; t++) {
        rp_extract_options *o = options(path, threads[t], NULL);
        rp_extract_result *res = NULL;
        rp_error_clear(&err);
        CHECK_EQ_INT(rp_extract_run_arrays(o, &pts[0].x, &pts[0].y, N, sizeof *pts, &res, &err),
                     RP_OK);
        CHECK(res != NULL);
        if (res)
            CHECK_EQ_INT(check_result(res, oracle), 0);
        CHECK(res && rp_extract_result_status(res, 0)[2] == RP_POINT_NODATA);
        rp_extract_result_free(res);
        rp_extract_options_free(o);
    }

    /* --points-crs: the same cells given in longitude/latitude */
    OGRSpatialReferenceH utm = OSRNewSpatialReference(NULL), ll = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(utm, 32631);
    OSRImportFromEPSG(ll, 4326);
    OSRSetAxisMappingStrategy(ll, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(utm, OAMS_TRADITIONAL_GIS_ORDER);
    OGRCoordinateTransformationH ct = OCTNewCoordinateTransformation(utm, ll);
    double *lon = malloc(N * sizeof *lon), *lat = malloc(N * sizeof *lat);
    for (int i = 0; i < N; i++) {
        /* cell centres: far from edges, so a transform round trip stays inside */
        lon[i] = GT[0] + 10 * want_col[i] + 5;
        lat[i] = GT[3] - 10 * want_row[i] - 5;
        if (want_col[i] < 0)
            lon[i] = GT[0] - 1000; /* outside */
    }
    CHECK(OCTTransform(ct, N, lon, lat, NULL));
    rp_extract_options *o = options(path, "2", "EPSG:4326");
    rp_extract_result *res = NULL;
    rp_error_clear(&err);
    CHECK_EQ_INT(rp_extract_run_arrays(o, lon, lat, N, 0, &res, &err), RP_OK);
    if (res)
        CHECK_EQ_INT(check_result(res, oracle), 0);
    rp_extract_result_free(res);

    /* a cancel from the progress function: RP_INTERRUPTED, no result */
    rp_extract_options_set_progress(o, cancel_at_once, NULL);
    res = (rp_extract_result *)&err; /* must be reset */
    rp_error_clear(&err);
    CHECK_EQ_INT(rp_extract_run_arrays(o, lon, lat, N, 0, &res, &err), RP_INTERRUPTED);
    CHECK(res == NULL);
    rp_extract_options_free(o);

    /* a raster that cannot be opened: an error, no result */
    o = options("/nonexistent/x.tif", "1", NULL);
    rp_error_clear(&err);
    CHECK_EQ_INT(rp_extract_run_arrays(o, lon, lat, N, 0, &res, &err), RP_OPEN);
    CHECK(res == NULL);
    rp_extract_options_free(o);
    rp_extract_result_free(NULL);

    OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(utm);
    OSRDestroySpatialReference(ll);
    free(lon);
    free(lat);
    free(pts);
    free((void *)oracle[0]);
    free((void *)oracle[1]);
    unlink(path);
    GDALDestroyDriverManager();
    return CHECK_DONE();
}
