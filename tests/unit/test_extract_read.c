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

/* Runs of adjacent blocks (the remote reader's merged reads): a run stays
 * in one block row, on consecutive columns, at most max_len long. */
static void block_runs(void) {
    /* row 0: columns 0 1 2 4 5; row 1: columns 5 6 7 8 9 10 11 12 */
    rp_plan_block blocks[13];
    int64_t xs[13] = {0, 1, 2, 4, 5, 5, 6, 7, 8, 9, 10, 11, 12};
    for (int i = 0; i < 13; i++)
        blocks[i] = (rp_plan_block){.block_x = xs[i], .block_y = i < 5 ? 0 : 1};
    rp_plan plan = {.blocks = blocks, .nblocks = 13};
    size_t first[13], count[13];
    size_t n = rp_extract_block_runs(&plan, 4, first, count);
    size_t want_first[] = {0, 3, 5, 9}, want_count[] = {3, 2, 4, 4};
    CHECK_EQ_INT((int)n, 4);
    for (size_t k = 0; k < n && k < 4; k++) {
        CHECK_EQ_INT((int)first[k], (int)want_first[k]);
        CHECK_EQ_INT((int)count[k], (int)want_count[k]);
    }
    CHECK_EQ_INT((int)rp_extract_block_runs(&plan, 1, first, count), 13);
    plan.nblocks = 0;
    CHECK_EQ_INT((int)rp_extract_block_runs(&plan, 4, first, count), 0);
    /* 2 MiB of buffer: 8 Float32 256x256 blocks; a block larger than that: 1 */
    CHECK_EQ_INT((int)rp_extract_block_run_length(256 * 256 * 4), 8);
    CHECK_EQ_INT((int)rp_extract_block_run_length((size_t)3 << 20), 1);
}

/* The workers of a remote read sized from its runs: one a run, at most
 * RP_EXTRACT_AUTO_IO_THREADS, and the largest runs in flight at once
 * within RP_EXTRACT_IO_BUDGET (RP_EXTRACT_RUN_COPIES copies each: 4 and 384 MiB),
 * and only for round trips of RP_EXTRACT_GROW_RTT or more. */
static void io_workers(void) {
    size_t runs[200];
    for (int i = 0; i < 200; i++)
        runs[i] = 1 + (size_t)(i % 8); /* 1..8 blocks */
    size_t block = 256 * 256 * 4;      /* 256 KiB */
    CHECK_EQ_INT(rp_extract_io_workers(runs, 0, block, 0.1), 0);
    CHECK_EQ_INT(rp_extract_io_workers(runs, 1, block, 0.1), 1);
    CHECK_EQ_INT(rp_extract_io_workers(runs, 72, block, 0.1), 72); /* one round: 72 workers */
    /* small blocks: the thread cap */
    CHECK_EQ_INT(rp_extract_io_workers(runs, 200, 1024, 0.1), RP_EXTRACT_AUTO_IO_THREADS);
    /* 200 runs of 1..8 blocks of 256 KiB, 4 copies: 1 MiB a block. The
     * largest first: 25 runs of 8 (200 MiB), 25 of 7 (175 MiB), then one
     * of 6 fits in 384 MiB (381), a second does not (387) */
    int k = rp_extract_io_workers(runs, 200, block, 0.1);
    CHECK_EQ_INT(k, 25 + 25 + 1);
    CHECK((size_t)(25 * 8 + 25 * 7 + 6) * block * RP_EXTRACT_RUN_COPIES <= RP_EXTRACT_IO_BUDGET);
    CHECK((size_t)(25 * 8 + 25 * 7 + 12) * block * RP_EXTRACT_RUN_COPIES > RP_EXTRACT_IO_BUDGET);
    /* short round trips: the pool is not grown (0), whatever the runs */
    CHECK_EQ_INT(rp_extract_io_workers(runs, 72, block, 0.02), 0);
    CHECK_EQ_INT(rp_extract_io_workers(runs, 72, block, RP_EXTRACT_GROW_RTT), 72);
    /* one run larger than the budget still gets its worker */
    size_t huge = 1000;
    CHECK_EQ_INT(rp_extract_io_workers(&huge, 1, block, 0.1), 1);
}

int main(void) {
    block_runs();
    io_workers();
    GDALAllRegister();
    run_with_one_raster_gone(1);
    run_with_one_raster_gone(3);
    GDALDestroyDriverManager();
    return CHECK_DONE();
}
