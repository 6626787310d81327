/*
 * plan.c — map points to cells and group them by block, before any I/O.
 *
 * The design: one pass locates every point (cell index or outside) and
 * counts points per block; a prefix sum turns counts into starts; a second
 * pass places each point index in its block's run. Runs keep input order, so
 * the plan is deterministic. Rasters with very many blocks relative to the
 * number of points (a counting array would dwarf the points) use an LSD
 * radix sort of (block, index) pairs instead. Both are O(n).
 *
 * Given a pool of two or more threads and at least PAR_MIN_POINTS points,
 * both passes run on the pool over contiguous chunks of the points: each
 * chunk locates its points and counts them per block in its own counts row;
 * one serial prefix over (block, chunk) turns the rows into starts, so that
 * chunk c's points of block k land after chunks 0..c-1's; each chunk then
 * places its points. The order is therefore exactly the serial one. The
 * rows cost chunks x blocks x 4 bytes, kept within 2 bytes a point (fewer
 * chunks, or else parallel locating and the serial grouping).
 *
 * Threads: pure; the pool's tasks write disjoint chunks of cell and disjoint
 * runs of order; the plan is read-only during execution.
 * Ownership: rp_plan owns its arrays; rp_plan_free releases them.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "memhint.h"
#include "plan.h"
#include "pool.h"

/* Below this many points the pool's start-up costs more than it saves. */
enum { PAR_MIN_POINTS = 65536 };

/* A cell's block number. The divisions by the grid's sizes are done by a
 * multiply and a shift when every cell number and size is below 2^32 and
 * the sizes are above 1: with m = 2^64 / d rounded up, n / d is the high
 * word of m x n, exactly, for all such n and d (Lemire, Kaser and Kurz,
 * "Faster remainder by direct computation", 2019). Otherwise plain
 * division. */
typedef struct block_finder {
    uint64_t width, block_w, block_h, blocks_x;
    bool fast;
    uint64_t m_width, m_block_w, m_block_h; /* the multipliers when fast */
} block_finder;

static block_finder block_finder_of(const rp_grid *grid) {
    block_finder bf = {.width = (uint64_t)grid->width,
                       .block_w = (uint64_t)grid->block_w,
                       .block_h = (uint64_t)grid->block_h,
                       .blocks_x = (uint64_t)grid->blocks_x};
    bf.fast = bf.width > 1 && bf.block_w > 1 && bf.block_h > 1 && bf.width <= UINT32_MAX &&
              bf.block_w <= UINT32_MAX && bf.block_h <= UINT32_MAX &&
              (uint64_t)grid->height <= ((uint64_t)1 << 32) / bf.width;
    if (bf.fast) {
        bf.m_width = UINT64_MAX / bf.width + 1;
        bf.m_block_w = UINT64_MAX / bf.block_w + 1;
        bf.m_block_h = UINT64_MAX / bf.block_h + 1;
    }
    return bf;
}

static inline uint64_t div_by(uint64_t n, uint64_t m) {
    return (uint64_t)(((unsigned __int128)m * n) >> 64);
}

static inline uint64_t block_of_cell(const block_finder *bf, uint64_t cell) {
    if (bf->fast) {
        uint64_t row = div_by(cell, bf->m_width), col = cell - row * bf->width;
        return div_by(row, bf->m_block_h) * bf->blocks_x + div_by(col, bf->m_block_w);
    }
    uint64_t col = cell % bf->width, row = cell / bf->width;
    return (row / bf->block_h) * bf->blocks_x + col / bf->block_w;
}

static void locate_all(rp_plan *plan, const rp_grid *grid, const double *x, const double *y) {
    size_t inside = 0;
    for (size_t i = 0; i < plan->npoints; i++) {
        int64_t col, row;
        if (rp_grid_locate(grid, x[i], y[i], &col, &row)) {
            plan->cell[i] = (uint64_t)row * (uint64_t)grid->width + (uint64_t)col;
            inside++;
        } else {
            plan->cell[i] = RP_CELL_OUTSIDE;
        }
    }
    plan->inside = inside;
}

static int append_block(rp_plan *plan, const rp_grid *grid, uint64_t key, size_t start,
                        size_t count) {
    rp_plan_block *b = &plan->blocks[plan->nblocks++];
    b->block_x = (int64_t)(key % (uint64_t)grid->blocks_x);
    b->block_y = (int64_t)(key / (uint64_t)grid->blocks_x);
    b->start = start;
    b->count = count;
    return 0;
}

/* Counting sort by block number; counts has one slot per block. */
static int group_by_counting(rp_plan *plan, const rp_grid *grid, uint64_t total_blocks) {
    uint32_t *counts = calloc((size_t)total_blocks + 1, sizeof *counts);
    if (!counts)
        return -1;
    block_finder bf = block_finder_of(grid);
    size_t touched = 0;
    for (size_t i = 0; i < plan->npoints; i++) {
        if (plan->cell[i] == RP_CELL_OUTSIDE)
            continue;
        if (counts[block_of_cell(&bf, plan->cell[i])]++ == 0)
            touched++;
    }
    plan->blocks = malloc((touched ? touched : 1) * sizeof *plan->blocks);
    if (!plan->blocks) {
        free(counts);
        return -1;
    }
    /* counts become start positions; blocks are listed as they are met. */
    size_t start = 0;
    for (uint64_t k = 0; k < total_blocks; k++) {
        uint32_t c = counts[k];
        if (c)
            append_block(plan, grid, k, start, c);
        counts[k] = (uint32_t)start;
        start += c;
    }
    for (size_t i = 0; i < plan->npoints; i++) {
        if (plan->cell[i] == RP_CELL_OUTSIDE)
            continue;
        plan->order[counts[block_of_cell(&bf, plan->cell[i])]++] = (uint32_t)i;
    }
    free(counts);
    return 0;
}

/* LSD radix sort of (block, index) pairs by block, 16 bits a pass over the
 * bits the largest block number needs (up to 64); stable, so each block's
 * points stay in input order. Two key and two index arrays: 24 bytes a
 * point while it runs, for rasters with more blocks than points. */
static int group_by_radix(rp_plan *plan, const rp_grid *grid, uint64_t total_blocks) {
    size_t m = plan->inside ? plan->inside : 1;
    uint64_t *key = malloc(m * sizeof *key), *key2 = malloc(m * sizeof *key2);
    uint32_t *idx = plan->order, *idx2 = malloc(m * sizeof *idx2);
    size_t *counts = malloc(65537 * sizeof *counts);
    int rc = -1;
    if (!key || !key2 || !idx2 || !counts)
        goto done;
    block_finder bf = block_finder_of(grid);
    m = 0;
    for (size_t i = 0; i < plan->npoints; i++) {
        if (plan->cell[i] != RP_CELL_OUTSIDE) {
            key[m] = block_of_cell(&bf, plan->cell[i]);
            idx[m++] = (uint32_t)i;
        }
    }
    int key_bits = 0;
    while (key_bits < 64 && (total_blocks - 1) >> key_bits)
        key_bits++;
    for (int shift = 0; shift < key_bits; shift += 16) {
        memset(counts, 0, 65537 * sizeof *counts);
        for (size_t i = 0; i < m; i++)
            counts[((key[i] >> shift) & 0xffff) + 1]++;
        for (size_t d = 0; d < 65536; d++)
            counts[d + 1] += counts[d];
        for (size_t i = 0; i < m; i++) {
            size_t to = counts[(key[i] >> shift) & 0xffff]++;
            key2[to] = key[i];
            idx2[to] = idx[i];
        }
        uint64_t *tk = key;
        key = key2;
        key2 = tk;
        uint32_t *ti = idx;
        idx = idx2;
        idx2 = ti;
    }
    if (idx != plan->order) { /* an odd number of passes: the result is in the spare */
        memcpy(plan->order, idx, m * sizeof *idx);
        idx2 = idx;
    }
    size_t touched = 0;
    for (size_t i = 0; i < m; i++)
        touched += i == 0 || key[i] != key[i - 1];
    plan->blocks = malloc((touched ? touched : 1) * sizeof *plan->blocks);
    if (!plan->blocks)
        goto done;
    size_t run_start = 0;
    for (size_t i = 0; i < m; i++) {
        if (i + 1 == m || key[i + 1] != key[i]) {
            append_block(plan, grid, key[i], run_start, i + 1 - run_start);
            run_start = i + 1;
        }
    }
    rc = 0;
done:
    free(key);
    free(key2);
    free(idx2);
    free(counts);
    return rc;
}

/* Groups the located cells (plan->cell, plan->inside set) by block. */
static int group_cells(rp_plan *plan, const rp_grid *grid) {
    uint64_t total_blocks = (uint64_t)grid->blocks_x * (uint64_t)grid->blocks_y;
    plan->order = malloc((plan->inside ? plan->inside : 1) * sizeof *plan->order);
    if (!plan->order) {
        rp_plan_free(plan);
        return -1;
    }
    rp_hint_huge(plan->order, plan->inside * sizeof *plan->order);
    /* A counting array is worth it while it is not much larger than the
     * points themselves. */
    uint64_t counting_limit = 4 * (uint64_t)plan->inside + 65536;
    int rc = total_blocks <= counting_limit ? group_by_counting(plan, grid, total_blocks)
                                            : group_by_radix(plan, grid, total_blocks);
    if (rc != 0)
        rp_plan_free(plan);
    return rc;
}

/* The parallel build's shared state: chunk c is points
 * [n * c / nchunks, n * (c + 1) / nchunks). */
typedef struct par_plan {
    rp_plan *plan;
    const rp_grid *grid;
    block_finder blocks;
    const double *x, *y; /* NULL: plan->cell is given */
    size_t nchunks;
    uint64_t total_blocks;
    uint32_t *counts; /* nchunks rows of total_blocks, or NULL: locate only */
    size_t *inside;   /* per chunk */
} par_plan;

static void chunk_range(const par_plan *pp, size_t c, size_t *from, size_t *to) {
    uint64_t n = pp->plan->npoints;
    *from = (size_t)(n * c / pp->nchunks);
    *to = (size_t)(n * (c + 1) / pp->nchunks);
}

/* Task c: locate chunk c's points (unless given) and count them per block. */
static rp_status locate_chunk(void *ctx, void *state, size_t c, rp_error *err) {
    (void)state;
    (void)err;
    const par_plan *pp = ctx;
    uint64_t *cell = pp->plan->cell;
    uint32_t *counts = pp->counts ? pp->counts + c * pp->total_blocks : NULL;
    size_t from, to, inside = 0;
    chunk_range(pp, c, &from, &to);
    for (size_t i = from; i < to; i++) {
        uint64_t block;
        if (pp->x) { /* the block from the column and row: no division of the cell */
            int64_t col, row;
            if (!rp_grid_locate(pp->grid, pp->x[i], pp->y[i], &col, &row)) {
                cell[i] = RP_CELL_OUTSIDE;
                continue;
            }
            cell[i] = (uint64_t)row * (uint64_t)pp->grid->width + (uint64_t)col;
            block = (uint64_t)(row / pp->grid->block_h) * (uint64_t)pp->grid->blocks_x +
                    (uint64_t)(col / pp->grid->block_w);
        } else if (cell[i] == RP_CELL_OUTSIDE) {
            continue;
        } else {
            block = counts ? block_of_cell(&pp->blocks, cell[i]) : 0;
        }
        inside++;
        if (counts)
            counts[block]++;
    }
    pp->inside[c] = inside;
    return RP_OK;
}

/* Task c: place chunk c's points at its rows' starts. */
static rp_status place_chunk(void *ctx, void *state, size_t c, rp_error *err) {
    (void)state;
    (void)err;
    const par_plan *pp = ctx;
    const uint64_t *cell = pp->plan->cell;
    uint32_t *next = pp->counts + c * pp->total_blocks, *order = pp->plan->order;
    size_t from, to;
    chunk_range(pp, c, &from, &to);
    for (size_t i = from; i < to; i++)
        if (cell[i] != RP_CELL_OUTSIDE)
            order[next[block_of_cell(&pp->blocks, cell[i])]++] = (uint32_t)i;
    return RP_OK;
}

/* The rows' counts become starts, block by block and within a block chunk
 * by chunk; the touched blocks are listed. */
static int prefix_rows(const par_plan *pp) {
    rp_plan *plan = pp->plan;
    uint64_t tb = pp->total_blocks;
    size_t touched = 0;
    for (uint64_t k = 0; k < tb; k++) {
        uint32_t any = 0;
        for (size_t c = 0; c < pp->nchunks && !any; c++)
            any = pp->counts[c * tb + k];
        touched += any != 0;
    }
    plan->blocks = malloc((touched ? touched : 1) * sizeof *plan->blocks);
    if (!plan->blocks)
        return -1;
    size_t start = 0;
    for (uint64_t k = 0; k < tb; k++) {
        size_t block_start = start;
        for (size_t c = 0; c < pp->nchunks; c++) {
            uint32_t n = pp->counts[c * tb + k];
            pp->counts[c * tb + k] = (uint32_t)start;
            start += n;
        }
        if (start > block_start)
            append_block(plan, pp->grid, k, block_start, start - block_start);
    }
    return 0;
}

static int run_chunks(rp_pool *pool, par_plan *pp,
                      rp_status (*run)(void *, void *, size_t, rp_error *)) {
    rp_error err;
    rp_error_clear(&err);
    rp_pool_job job = {.ntasks = pp->nchunks, .ctx = pp, .run = run};
    return rp_pool_run(pool, &job, &err) == RP_OK ? 0 : -1;
}

/* Chunks: two a thread, fewer while their counts rows (4 bytes a block
 * each) would pass 2 bytes a point; 0 when even two rows would (then only
 * locating is parallel). Compared by division: chunks x blocks x 4 may not
 * fit in 64 bits (a raster of 2^60 blocks). */
static size_t count_chunks(int threads, size_t n, uint64_t total_blocks) {
    size_t chunks = 2 * (size_t)threads;
    while (chunks >= 2 && total_blocks > 2 * (uint64_t)n / (4 * (uint64_t)chunks))
        chunks--;
    return chunks >= 2 ? chunks : 0;
}

/* Both passes on the pool; plan->npoints and plan->cell (located or to be
 * located from x, y) are set. */
static int build_parallel(rp_plan *plan, const rp_grid *grid, const double *x, const double *y,
                          rp_pool *pool) {
    int threads = rp_pool_threads(pool);
    uint64_t total_blocks = (uint64_t)grid->blocks_x * (uint64_t)grid->blocks_y;
    par_plan pp = {.plan = plan,
                   .grid = grid,
                   .blocks = block_finder_of(grid),
                   .x = x,
                   .y = y,
                   .total_blocks = total_blocks};
    size_t chunks = count_chunks(threads, plan->npoints, total_blocks);
    bool grouping = chunks != 0;
    pp.nchunks = grouping ? chunks : 2 * (size_t)threads;
    if (grouping)
        pp.counts = calloc(pp.nchunks * (size_t)total_blocks, sizeof *pp.counts);
    grouping = grouping && pp.counts; /* without the rows: locate here, group serially */
    pp.inside = calloc(pp.nchunks, sizeof *pp.inside);
    int rc = pp.inside && (pp.counts || !grouping) ? run_chunks(pool, &pp, locate_chunk) : -1;
    for (size_t c = 0; rc == 0 && c < pp.nchunks; c++)
        plan->inside += pp.inside[c];
    if (rc == 0 && !pp.counts) {
        free(pp.inside);
        return group_cells(plan, grid); /* frees the plan on failure */
    }
    if (rc == 0) {
        plan->order = malloc((plan->inside ? plan->inside : 1) * sizeof *plan->order);
        rc = plan->order ? prefix_rows(&pp) : -1;
    }
    if (rc == 0) {
        rp_hint_huge(plan->order, plan->inside * sizeof *plan->order);
        rc = run_chunks(pool, &pp, place_chunk);
    }
    free(pp.counts);
    free(pp.inside);
    if (rc != 0)
        rp_plan_free(plan);
    return rc;
}

static bool use_pool(rp_pool *pool, size_t n) {
    return pool && n >= PAR_MIN_POINTS && rp_pool_threads(pool) > 1;
}

int rp_plan_build_pool(rp_plan *plan, const rp_grid *grid, const double *x, const double *y,
                       size_t n, rp_pool *pool) {
    memset(plan, 0, sizeof *plan);
    if (n > RP_PLAN_MAX_POINTS)
        return -1;
    plan->npoints = n;
    plan->cell = malloc((n ? n : 1) * sizeof *plan->cell);
    if (!plan->cell)
        return -1;
    rp_hint_huge(plan->cell, n * sizeof *plan->cell);
    if (use_pool(pool, n))
        return build_parallel(plan, grid, x, y, pool);
    locate_all(plan, grid, x, y);
    return group_cells(plan, grid);
}

int rp_plan_build(rp_plan *plan, const rp_grid *grid, const double *x, const double *y, size_t n) {
    return rp_plan_build_pool(plan, grid, x, y, n, NULL);
}

int rp_plan_build_cells_pool(rp_plan *plan, const rp_grid *grid, uint64_t *cells, size_t n,
                             rp_pool *pool) {
    memset(plan, 0, sizeof *plan);
    if (n > RP_PLAN_MAX_POINTS) {
        free(cells);
        return -1;
    }
    plan->npoints = n;
    plan->cell = cells;
    if (use_pool(pool, n))
        return build_parallel(plan, grid, NULL, NULL, pool);
    for (size_t i = 0; i < n; i++)
        plan->inside += cells[i] != RP_CELL_OUTSIDE;
    return group_cells(plan, grid);
}

int rp_plan_build_cells(rp_plan *plan, const rp_grid *grid, uint64_t *cells, size_t n) {
    return rp_plan_build_cells_pool(plan, grid, cells, n, NULL);
}

void rp_plan_free(rp_plan *plan) {
    if (!plan)
        return;
    free(plan->cell);
    free(plan->order);
    free(plan->blocks);
    memset(plan, 0, sizeof *plan);
}
