/*
 * mpi_extract_tasks.c — rank 0 splits an extract's points into the tasks
 * of the farm (mpi_extract.h). A task is a list of point indices; the
 * points of one block of the first raster the points reach go together,
 * so a block is decoded by one rank however the points are ordered in the
 * input. Blocks go in groups of at least 512 x 512 cells (2 x 2 blocks of
 * 256, 4 x 4 of a VRT's 128), so a VRT's source tile is usually read by
 * one rank too; groups in row-major order, cut into tasks of about
 * `target` points. The points off that raster follow in input order (the
 * other rasters, or windows, may still reach them).
 *
 * Memory: the plan of one raster (12 bytes a point, freed at the end), the
 * indices (4 bytes a point) and the block order.
 *
 * Threads: the caller's. Ownership: the tasks are the caller's
 * (rp_xtasks_free).
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "mpi_extract.h"

/* The growing tasks. */
typedef struct builder {
    rp_xtasks *t;
    size_t cap_tasks;
    size_t open; /* points in the task being filled */
    size_t target, max_points;
} builder;

static int cut(builder *b) {
    if (b->open == 0)
        return 0;
    rp_xtasks *t = b->t;
    if (t->ntasks + 2 > b->cap_tasks) {
        size_t cap = b->cap_tasks ? 2 * b->cap_tasks : 64;
        size_t *f = realloc(t->first, cap * sizeof *f);
        if (!f)
            return -1;
        t->first = f;
        b->cap_tasks = cap;
    }
    t->ntasks++;
    t->first[t->ntasks] = t->npoints;
    b->open = 0;
    return 0;
}

static int add(builder *b, uint32_t i) {
    if (b->open == b->max_points && cut(b) != 0)
        return -1;
    b->t->idx[b->t->npoints++] = i;
    b->open++;
    return 0;
}

/* Block order: (group row, group column, block row, block column). */
typedef struct block_key {
    int64_t gy, gx, by, bx;
    size_t block;
} block_key;

static int cmp_key(const void *pa, const void *pb) {
    const block_key *a = pa, *b = pb;
    if (a->gy != b->gy)
        return a->gy < b->gy ? -1 : 1;
    if (a->gx != b->gx)
        return a->gx < b->gx ? -1 : 1;
    if (a->by != b->by)
        return a->by < b->by ? -1 : 1;
    return a->bx < b->bx ? -1 : a->bx > b->bx;
}

static int64_t group_of(int64_t cells_a_block) {
    int64_t g = cells_a_block > 0 ? (512 + cells_a_block - 1) / cells_a_block : 1;
    return g < 1 ? 1 : g;
}

/* The plan's blocks, group by group. */
static int add_blocks(builder *b, const rp_plan *plan, const rp_grid *grid) {
    block_key *keys = malloc((plan->nblocks ? plan->nblocks : 1) * sizeof *keys);
    if (!keys)
        return -1;
    int64_t gw = group_of(grid->block_w), gh = group_of(grid->block_h);
    for (size_t k = 0; k < plan->nblocks; k++) {
        const rp_plan_block *pb = &plan->blocks[k];
        keys[k] = (block_key){pb->block_y / gh, pb->block_x / gw, pb->block_y, pb->block_x, k};
    }
    qsort(keys, plan->nblocks, sizeof *keys, cmp_key);
    int rc = 0;
    for (size_t k = 0; k < plan->nblocks && rc == 0; k++) {
        const rp_plan_block *pb = &plan->blocks[keys[k].block];
        for (size_t j = 0; j < pb->count && rc == 0; j++)
            rc = add(b, plan->order[pb->start + j]);
        if (rc == 0 && b->open >= b->target)
            rc = cut(b);
    }
    free(keys);
    return rc == 0 ? cut(b) : rc;
}

/* The points no block holds (all of them when no raster is reachable). */
static int add_rest(builder *b, const rp_plan *plan, const uint8_t *bad, size_t n) {
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if ((bad && bad[i]) || (plan && plan->cell[i] != RP_CELL_OUTSIDE))
            continue;
        rc = add(b, (uint32_t)i);
        if (rc == 0 && b->open >= b->target)
            rc = cut(b);
    }
    return rc == 0 ? cut(b) : rc;
}

rp_status rp_xtasks_build(rp_xtasks *t, const rp_extract_setup *s, const double *x, const double *y,
                          const uint8_t *bad, size_t n, OGRSpatialReferenceH points_srs,
                          size_t target, size_t max_points, rp_error *err) {
    memset(t, 0, sizeof *t);
    if (n > RP_PLAN_MAX_POINTS)
        return rp_error_set(err, RP_USAGE, "too many points for one plan: %zu", n);
    builder b = {.t = t, .target = target ? target : 1, .max_points = max_points ? max_points : 1};
    t->idx = malloc((n ? n : 1) * sizeof *t->idx);
    t->first = calloc(1, sizeof *t->first);
    b.cap_tasks = 1;
    if (!t->idx || !t->first)
        return rp_error_set(err, RP_NOMEM, "out of memory for the tasks of %zu points", n);
    int r0 = 0;
    while (r0 < s->nrasters && s->rasters[r0].crs_error[0])
        r0++;
    rp_plan plan;
    memset(&plan, 0, sizeof plan);
    bool planned = false;
    if (r0 < s->nrasters) {
        rp_point_scratch scratch = {NULL, NULL, NULL};
        rp_status rc =
            rp_extract_plan_raster(&s->rasters[r0].info, points_srs, x, y, n, &scratch, &plan, err);
        rp_point_scratch_free(&scratch);
        if (rc != RP_OK)
            return rc;
        planned = true;
    }
    int rc = planned ? add_blocks(&b, &plan, &s->rasters[r0].info.grid) : 0;
    if (rc == 0)
        rc = add_rest(&b, planned ? &plan : NULL, bad, n);
    if (planned)
        rp_plan_free(&plan);
    if (rc != 0)
        return rp_error_set(err, RP_NOMEM, "out of memory for the tasks of %zu points", n);
    return RP_OK;
}

void rp_xtasks_free(rp_xtasks *t) {
    free(t->idx);
    free(t->first);
    memset(t, 0, sizeof *t);
}
