/*
 * test_extract_read.c — the readers' one failure policy: a raster whose
 * file a worker cannot open fails only its own points (status error,
 * counted as failed blocks), never the job. Two rasters are planned; the
 * second one's file is removed after its metadata was read and before any
 * worker opens it (deterministic: no timing involved). The first raster's
 * values are checked against what the test wrote.
 */
#include <gdal.h>
#include <unistd.h>

#include "check.h"
#include "extract_internal.h"
#include "pool.h"

enum { W = 40, H = 30 };

static void write_raster(const char *path, int16_t base) {
    const char *co[] = {"TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16", NULL};
    GDALDatasetH ds =
        GDALCreate(GDALGetDriverByName("GTiff"), path, W, H, 1, GDT_Int16, (char **)co);
    double gt[6] = {0, 1, 0, H, 0, -1};
    GDALSetGeoTransform(ds, gt);
    int16_t buf[W * H];
    for (int i = 0; i < W * H; i++)
        buf[i] = (int16_t)(base + i);
    CHECK(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 0, 0, W, H, buf, W, H, GDT_Int16, 0,
                       0) == CE_None);
    GDALClose(ds);
}

static void run_with_one_raster_gone(int threads) {
    char a[] = "/tmp/rp_test_read_a_XXXXXX.tif", b[] = "/tmp/rp_test_read_b_XXXXXX.tif";
    close(mkstemps(a, 4));
    close(mkstemps(b, 4));
    write_raster(a, 0);
    write_raster(b, 1000);
    char *rasters[] = {a, b};
    enum { N = 50 };
    double x[N], y[N];
    for (int i = 0; i < N; i++) {
        x[i] = (i * 7) % W + 0.5;
        y[i] = H - ((i * 3) % H) - 0.5;
    }
    rp_error err;
    rp_error_clear(&err);
    rp_extract_setup setup;
    CHECK_EQ_INT(rp_extract_setup_init(&setup, rasters, 2, NULL, 0, &err), RP_OK);
    CHECK_EQ_INT(rp_extract_setup_alloc(&setup, N, &err), RP_OK);
    unlink(b); /* planned, but no worker can open it any more */
    rp_extract_options opts;
    memset(&opts, 0, sizeof opts);
    opts.max_open_per_worker = 4;
    rp_pool *pool = rp_pool_new(threads);
    rp_extract_read_stats stats = {0, 0};
    CHECK_EQ_INT(rp_extract_execute(&setup, pool, x, y, NULL, N, NULL, &opts, &stats, &err), RP_OK);
    CHECK(stats.blocks_failed > 0);
    CHECK(stats.blocks_read > 0);
    int wrong = 0;
    for (int i = 0; i < N; i++) {
        int col = (i * 7) % W, row = (i * 3) % H;
        int16_t v;
        memcpy(&v, setup.columns[0].values + 2 * i, 2);
        wrong += setup.columns[0].status[i] != RP_POINT_OK || v != row * W + col;
        wrong += setup.columns[1].status[i] != RP_POINT_ERROR;
    }
    CHECK_EQ_INT(wrong, 0);
    rp_pool_free(pool);
    rp_extract_setup_free(&setup);
    unlink(a);
}

int main(void) {
    GDALAllRegister();
    run_with_one_raster_gone(1);
    run_with_one_raster_gone(3);
    GDALDestroyDriverManager();
    return CHECK_DONE();
}
