/*
 * plan.h — grouping points by the raster block that holds them.
 * Pure arithmetic on a grid: no GDAL, no pixel I/O, unit-tested alone.
 */
#ifndef RP_PLAN_H
#define RP_PLAN_H
#include <stddef.h>
#include <stdint.h>

#include "grid.h"

#define RP_CELL_OUTSIDE UINT64_MAX

/* One touched block and the run of `order` that holds its points. */
typedef struct rp_plan_block {
    int64_t block_x, block_y;
    size_t start, count;
} rp_plan_block;

typedef struct rp_plan {
    size_t npoints;
    size_t inside;         /* points on the raster */
    uint64_t *cell;        /* per point: row * width + col, or RP_CELL_OUTSIDE */
    uint32_t *order;       /* inside points' indices, grouped by block, each
                              block's points in input order */
    rp_plan_block *blocks; /* touched blocks in row-major block order */
    size_t nblocks;
} rp_plan;

/* The largest number of points one plan takes (indices are 32-bit). */
#define RP_PLAN_MAX_POINTS ((size_t)UINT32_MAX - 1)

/* Locates n points on the grid and groups them by block in O(n): a counting
 * sort by block number when the raster has few enough blocks, else an LSD
 * radix sort. Returns 0, or -1 when memory runs out or n is too large. */
int rp_plan_build(rp_plan *plan, const rp_grid *grid, const double *x, const double *y, size_t n);
/* The same plan, identical to the byte, built on the pool's threads when it
 * has two or more and n is large (plan.c); pool may be NULL. Not from inside
 * one of the pool's tasks (one job at a time). */
struct rp_pool;
int rp_plan_build_pool(rp_plan *plan, const rp_grid *grid, const double *x, const double *y,
                       size_t n, struct rp_pool *pool);
void rp_plan_free(rp_plan *plan);

/* The same grouping for cells already located: cells[i] is row * width +
 * col of the grid, or RP_CELL_OUTSIDE. The plan takes cells (malloc'd;
 * freed with the plan, or here on failure). Used for the cells of
 * sampling kernels (extract/sample_exec.c). */
int rp_plan_build_cells(rp_plan *plan, const rp_grid *grid, uint64_t *cells, size_t n);
int rp_plan_build_cells_pool(rp_plan *plan, const rp_grid *grid, uint64_t *cells, size_t n,
                             struct rp_pool *pool);

/* Position of a cell inside its block's buffer (row-major, block_w wide). */
static inline size_t rp_plan_offset_in_block(const rp_grid *grid, uint64_t cell) {
    int64_t col = (int64_t)(cell % (uint64_t)grid->width);
    int64_t row = (int64_t)(cell / (uint64_t)grid->width);
    return (size_t)((row % grid->block_h) * grid->block_w + (col % grid->block_w));
}

#endif
