/* test_plan.c — grouping points by block, checked against a brute-force
 * recount; both the counting-sort and the radix-sort paths, and the plans
 * built on a pool (equal to the serial ones to the byte). */
#include <string.h>

#include "check.h"
#include "plan.h"
#include "pool.h"

/* deterministic pseudo-random numbers */
static uint64_t rng_state = 88172645463325252ull;
static double uniform(double lo, double hi) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return lo + (hi - lo) * (double)(rng_state >> 11) / 9007199254740992.0;
}

/* Every inside point appears once, in the block that holds its cell, in
 * input order within the block; blocks are in row-major order. */
static void verify(const rp_plan *plan, const rp_grid *g, const double *x, const double *y,
                   size_t n) {
    size_t inside = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t c, r;
        bool in = rp_grid_locate(g, x[i], y[i], &c, &r);
        inside += in;
        CHECK_EQ_INT(plan->cell[i], in ? (uint64_t)(r * g->width + c) : RP_CELL_OUTSIDE);
    }
    CHECK_EQ_INT(plan->inside, inside);
    size_t total = 0;
    int64_t last_key = -1;
    unsigned char *seen = calloc(n ? n : 1, 1);
    for (size_t b = 0; b < plan->nblocks; b++) {
        const rp_plan_block *blk = &plan->blocks[b];
        int64_t key = blk->block_y * g->blocks_x + blk->block_x;
        CHECK(key > last_key);
        last_key = key;
        CHECK(blk->count > 0);
        CHECK_EQ_INT(blk->start, total);
        for (size_t k = 0; k < blk->count; k++) {
            uint32_t idx = plan->order[blk->start + k];
            CHECK(idx < n && !seen[idx]);
            seen[idx] = 1;
            uint64_t cell = plan->cell[idx];
            int64_t c = (int64_t)(cell % (uint64_t)g->width),
                    r = (int64_t)(cell / (uint64_t)g->width);
            CHECK_EQ_INT(c / g->block_w, blk->block_x);
            CHECK_EQ_INT(r / g->block_h, blk->block_y);
            if (k > 0)
                CHECK(plan->order[blk->start + k - 1] < idx);
            size_t off = rp_plan_offset_in_block(g, cell);
            CHECK_EQ_INT(off, (r % g->block_h) * g->block_w + c % g->block_w);
        }
        total += blk->count;
    }
    CHECK_EQ_INT(total, inside);
    free(seen);
}

/* The w x h grid at (1000, 2000) with 0.5 x 0.25 pixels in bw x bh blocks,
 * and n random points over it (x, y malloc'ed), about a tenth outside. */
static void grid_and_points(rp_grid *g, int64_t w, int64_t h, int64_t bw, int64_t bh, size_t n,
                            double **x, double **y) {
    double gt[6] = {1000, 0.5, 0, 2000, 0, -0.25};
    CHECK(rp_grid_init(g, gt, w, h, bw, bh));
    *x = malloc(n * sizeof **x);
    *y = malloc(n * sizeof **y);
    for (size_t i = 0; i < n; i++) {
        (*x)[i] = uniform(1000 - 0.05 * (double)w * 0.5, 1000 + 1.05 * (double)w * 0.5);
        (*y)[i] = uniform(2000 - 1.05 * (double)h * 0.25, 2000 + 0.05 * (double)h * 0.25);
    }
}

static void random_points(int64_t w, int64_t h, int64_t bw, int64_t bh, size_t n) {
    rp_grid g;
    double *x, *y;
    grid_and_points(&g, w, h, bw, bh, n, &x, &y);
    x[0] = NAN;
    rp_plan plan;
    int rc = rp_plan_build(&plan, &g, x, y, n);
    CHECK_EQ_INT(rc, 0);
    if (rc == 0)
        verify(&plan, &g, x, y, n);
    rp_plan_free(&plan);
    free(x);
    free(y);
}

static void hand_computed(void) {
    /* 4 x 4 raster of unit cells, 2 x 2 blocks: 4 blocks */
    rp_grid g;
    double gt[6] = {0, 1, 0, 4, 0, -1};
    CHECK(rp_grid_init(&g, gt, 4, 4, 2, 2));
    double x[] = {3.5, 0.5, 2.0, 0.5, 9.0, 1.5};
    double y[] = {0.5, 3.5, 2.0, 3.0, 1.0, 3.5};
    /* cells: (3,3) blk(1,1); (0,0) blk(0,0); (2,2) blk(1,1); (0,1) blk(0,0); out; (1,0) blk(0,0) */
    rp_plan plan;
    CHECK_EQ_INT(rp_plan_build(&plan, &g, x, y, 6), 0);
    CHECK_EQ_INT(plan.inside, 5);
    CHECK_EQ_INT(plan.nblocks, 2);
    CHECK_EQ_INT(plan.blocks[0].block_x, 0);
    CHECK_EQ_INT(plan.blocks[0].count, 3);
    CHECK_EQ_INT(plan.order[0], 1);
    CHECK_EQ_INT(plan.order[1], 3);
    CHECK_EQ_INT(plan.order[2], 5);
    CHECK_EQ_INT(plan.blocks[1].block_x, 1);
    CHECK_EQ_INT(plan.blocks[1].block_y, 1);
    CHECK_EQ_INT(plan.order[3], 0);
    CHECK_EQ_INT(plan.order[4], 2);
    CHECK_EQ_INT(plan.cell[4], RP_CELL_OUTSIDE);
    rp_plan_free(&plan);
    /* no points at all */
    CHECK_EQ_INT(rp_plan_build(&plan, &g, x, y, 0), 0);
    CHECK_EQ_INT(plan.nblocks, 0);
    rp_plan_free(&plan);
}

/* The plans are equal: cells, order and blocks. */
static void check_same(const rp_plan *a, const rp_plan *b) {
    CHECK_EQ_INT(a->npoints, b->npoints);
    CHECK_EQ_INT(a->inside, b->inside);
    CHECK_EQ_INT(a->nblocks, b->nblocks);
    if (a->npoints != b->npoints || a->inside != b->inside || a->nblocks != b->nblocks)
        return;
    CHECK(memcmp(a->cell, b->cell, a->npoints * sizeof *a->cell) == 0);
    CHECK(memcmp(a->order, b->order, a->inside * sizeof *a->order) == 0);
    CHECK(memcmp(a->blocks, b->blocks, a->nblocks * sizeof *a->blocks) == 0);
}

/* Random points (a tenth outside, a few NaN) planned serially and on pools
 * of 1, 2 and 7 threads, from coordinates and from cells. */
static void pooled_equals_serial(int64_t w, int64_t h, int64_t bw, int64_t bh, size_t n) {
    rp_grid g;
    double *x, *y;
    grid_and_points(&g, w, h, bw, bh, n, &x, &y);
    for (size_t i = 5; i < n; i += 9973)
        y[i] = NAN;
    rp_plan serial;
    CHECK_EQ_INT(rp_plan_build(&serial, &g, x, y, n), 0);
    verify(&serial, &g, x, y, n);
    int threads[] = {1, 2, 7, 8};
    for (int t = 0; t < 4; t++) {
        rp_pool *pool = rp_pool_new(threads[t]);
        CHECK(pool != NULL);
        rp_plan pooled;
        CHECK_EQ_INT(rp_plan_build_pool(&pooled, &g, x, y, n, pool), 0);
        check_same(&serial, &pooled);
        rp_plan_free(&pooled);
        uint64_t *cells = malloc(n * sizeof *cells);
        memcpy(cells, serial.cell, n * sizeof *cells);
        CHECK_EQ_INT(rp_plan_build_cells_pool(&pooled, &g, cells, n, pool), 0);
        check_same(&serial, &pooled);
        rp_plan_free(&pooled);
        rp_pool_free(pool);
    }
    rp_plan_free(&serial);
    free(x);
    free(y);
}

/* Cells up to 2^32 - 1 (the block numbers by multiply-and-shift) and just
 * past it (plain division): each point's block, by plain division here. */
static void extreme_cells(int64_t w, int64_t h, int64_t bw, int64_t bh) {
    rp_grid g;
    double gt[6] = {0, 1, 0, 0, 0, -1};
    CHECK(rp_grid_init(&g, gt, w, h, bw, bh));
    uint64_t last = (uint64_t)w * (uint64_t)h - 1;
    uint64_t picks[] = {0,
                        last,
                        last - 1,
                        (uint64_t)w - 1,
                        (uint64_t)w,
                        last - (uint64_t)w + 1,
                        last / 2,
                        (uint64_t)bw * (uint64_t)w - 1,
                        (uint64_t)bh * (uint64_t)w};
    size_t n = 4000, npicks = sizeof picks / sizeof picks[0];
    uint64_t *cells = malloc(n * sizeof *cells);
    for (size_t i = 0; i < n; i++) {
        uint64_t r = (uint64_t)(uniform(0, 1) * (double)last);
        cells[i] = i < npicks ? picks[i] : r;
        cells[i] = cells[i] > last ? last : cells[i];
    }
    rp_plan plan;
    CHECK_EQ_INT(rp_plan_build_cells(&plan, &g, cells, n), 0);
    CHECK_EQ_INT(plan.inside, n);
    size_t total = 0;
    for (size_t b = 0; b < plan.nblocks; b++)
        for (size_t k = 0; k < plan.blocks[b].count; k++) {
            uint64_t cell = plan.cell[plan.order[plan.blocks[b].start + k]];
            CHECK_EQ_INT((int64_t)(cell % (uint64_t)w) / bw, plan.blocks[b].block_x);
            CHECK_EQ_INT((int64_t)(cell / (uint64_t)w) / bh, plan.blocks[b].block_y);
            total++;
        }
    CHECK_EQ_INT(total, n);
    rp_plan_free(&plan);
}

int main(void) {
    extreme_cells(65536, 65536, 255, 257); /* 2^32 cells */
    extreme_cells(65537, 65535, 2, 65535); /* 2^32 - 1 cells, block as tall as the raster */
    extreme_cells(65536, 65537, 256, 256); /* past 2^32 cells */
    extreme_cells(4294967295, 1, 3, 1);    /* one row as wide as 32 bits */
    hand_computed();
    random_points(1000, 777, 64, 64, 20000);           /* counting sort */
    random_points(300, 217, 7, 5, 5000);               /* partial edge blocks */
    random_points(60000, 60000, 1, 1, 3000);           /* far more blocks than points: radix */
    random_points(70000, 3, 1, 1, 1000);               /* radix with keys over 16 bits */
    random_points(40000000, 20000000, 128, 128, 2000); /* over 2^32 blocks: 64-bit keys */
    random_points(3000000, 3000000, 1, 1, 999);        /* 9e12 blocks, 3 radix passes (odd) */
    pooled_equals_serial(5000, 3000, 64, 64, 200003);  /* 3713 blocks: chunk rows */
    pooled_equals_serial(8192, 8192, 256, 256, 70001); /* 1024 blocks */
    pooled_equals_serial(3000, 2000, 7, 5, 100000);    /* 171k blocks: only locating is pooled */
    pooled_equals_serial(60000, 60000, 1, 1, 90000);   /* radix after pooled locating */
    /* 2^60 blocks: 16 chunks x 2^60 x 4 bytes wrapped to 0 in the chunk rows'
     * size test once (8 threads): a zero-sized array written past its end */
    pooled_equals_serial((int64_t)1 << 30, (int64_t)1 << 30, 1, 1, 100000);
    return CHECK_DONE();
}
