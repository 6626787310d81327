/*
 * zonal_exec.c — the pool of workers over the plan's blocks. A task is one
 * touched block: it is decoded once (each band, its mask, the weights),
 * then every polygon that touches it gets its coverage over the block (the
 * part of its window inside it) and adds the block's cells to its own
 * accumulators for that (polygon, block) pair. Pairs are written by one
 * task only, so workers share nothing mutable; merging happens later in
 * block order (zonal_write.c), which keeps the output the same at any
 * thread count. How a block is read (zonal_read.c): through GDAL, or for a
 * VRT from its source files; on a remote raster a task is a run of
 * adjacent touched blocks read as one window (one merged request), each
 * block's pairs then added exactly as when read alone (same bytes).
 *
 * Memory: per worker, one block (a run: that many) of pixels (8 bytes a
 * band), masks, weights and coverage (16 bytes a cell), and one source
 * block buffer; the accumulators of every pair, plus the values of the
 * value-list statistics (16 bytes a visited cell, sized exactly per pair
 * and counted against --max-memory: zonal_budget.c).
 *
 * Threads: rp_pool workers, each with its own rp_read_worker (lib/read:
 * handles of the rasters and VRT sources, never shared).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gdal_config.h"
#include "pixel.h"
#include "pool.h"
#include "sysinfo.h"
#include "zonal_internal.h"
#include "zonal_read.h"

typedef struct exec_ctx {
    const rp_zonal_options *o;
    const zonal_raster *r;
    const zonal_polys *p;
    const zonal_plan *plan;
    zonal_results *res;
    uint8_t *block_failed;
    bool spherical; /* a statistic weighs cells by their spherical area */
    zonal_budget *budget;
    int list_stats; /* (band, stat) accumulators with value lists */
    /* remote: runs of adjacent blocks, one a task (NULL: a block a task) */
    size_t *run_first, *run_count;
    size_t nruns, max_run;
    size_t first_block; /* the blocks run: [first_block, first_block + nblocks) */
    size_t nblocks;
    size_t pair_base; /* res's first accumulator is this pair's */
} exec_ctx;

typedef struct worker {
    rp_read_worker *rw; /* handles (rasters and VRT sources), the source block buffer */
    double *vals, *weights, *cov, *scratch;
    double *row_area; /* per block row: its cells' spherical area (m2) */
    void *native;     /* one block in the band's own type */
    int *spans;       /* per row of a window: [first, end) of its covered cells */
    uint8_t *valid;   /* per band and cell: 1 valid */
} worker;

static rp_status begin(void *vctx, int id, void **state, rp_error *err) {
    (void)id;
    exec_ctx *c = vctx;
    const rp_grid *g = &c->r->info.grid;
    const zonal_sources *zs = c->r->sources;
    size_t cells = (size_t)(g->block_w * g->block_h) * c->max_run;
    worker *w = calloc(1, sizeof *w);
    *state = w;
    if (!w)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    void *rw = NULL;
    rp_status rc =
        rp_read_worker_begin(c->o->config, c->o->nconfig, zs->remote,
                             zs->max_open + c->o->nrasters + 2, zs->src_block_bytes, 0, &rw, err);
    w->rw = rw;
    if (rc != RP_OK)
        return rc;
    w->vals = malloc(cells * (size_t)c->r->nbands * sizeof(double));
    w->valid = malloc(cells * (size_t)(c->r->nbands + 1));
    w->weights = malloc(cells * sizeof(double));
    w->cov = malloc(cells * sizeof(double));
    w->native = malloc(cells * 16); /* the largest type: CFloat64 */
    w->spans = malloc((size_t)g->block_h * 2 * sizeof(int));
    w->row_area = malloc((size_t)g->block_h * sizeof(double));
    w->scratch = calloc(1, (size_t)(g->block_w + 1) * (size_t)g->block_h * sizeof(double));
    if (!w->vals || !w->valid || !w->weights || !w->cov || !w->scratch || !w->native || !w->spans ||
        !w->row_area)
        return rp_error_set(err, RP_NOMEM, "out of memory (worker buffers)");
    return RP_OK;
}

static void end(void *vctx, void *state) {
    exec_ctx *c = vctx;
    worker *w = state;
    if (!w)
        return;
    rp_read_worker_end(w->rw);
    free(w->vals);
    free(w->valid);
    free(w->weights);
    free(w->cov);
    free(w->scratch);
    free(w->native);
    free(w->spans);
    free(w->row_area);
    free(w);
    rp_gdal_config_apply_remote((const char *const *)c->o->config, c->o->nconfig,
                                c->r->sources->remote, false);
}

/* Adds the cells of one (polygon, block) pair, coverage in w->cov over the
 * sub-window [sx, sx + cw) x [sy, sy + ch) of the block window. */
static rp_status add_cells(const exec_ctx *c, worker *w, size_t pair, int x0, int y0, int bw,
                           int bh, int sx, int sy, int cw, int ch) {
    int nb = c->r->nbands, ns = c->o->nstats;
    size_t cells = (size_t)bw * (size_t)bh;
    zonal_acc *accs = c->res->accs + (pair - c->pair_base) * (size_t)nb * (size_t)ns;
    for (int b = 0; b < nb; b++) {
        cell_src src = {w->cov,
                        w->vals + cells * (size_t)b,
                        w->weights,
                        w->spans,
                        w->valid + cells * (size_t)b,
                        c->r->has_weights ? w->valid + cells * (size_t)nb : NULL,
                        bw,
                        sx,
                        sy,
                        cw,
                        ch,
                        fabs(c->r->info.grid.gt[1] * c->r->info.grid.gt[5]),
                        w->row_area,
                        c->r->info.grid.gt,
                        x0,
                        y0,
                        c->r->info.grid.width};
        for (int s = 0; s < ns; s++)
            if (zonal_cells_add(&accs[(size_t)b * (size_t)ns + (size_t)s], &c->o->stats[s], &src) !=
                RP_OK)
                return RP_NOMEM;
    }
    return RP_OK;
}

/* Sizes the value lists of a pair exactly: one item per cell its spans
 * visit (zonal_budget.c counts them against --max-memory). */
static rp_status reserve_lists(const exec_ctx *c, const worker *w, size_t pair, int ch,
                               rp_error *err) {
    size_t visited = 0;
    for (int y = 0; y < ch; y++)
        visited += (size_t)(w->spans[2 * y + 1] - w->spans[2 * y]);
    int nj = c->r->nbands * c->o->nstats;
    zonal_acc *accs = c->res->accs + (pair - c->pair_base) * (size_t)nj;
    for (int j = 0; j < nj; j++)
        if (zonal_op_needs_values(c->o->stats[j % c->o->nstats].op) &&
            zonal_acc_reserve(&accs[j], visited) != RP_OK)
            return rp_error_set(err, RP_NOMEM, "out of memory (value lists)");
    return zonal_budget_take(c->budget, (uint64_t)visited * 16 * (uint64_t)c->list_stats, err);
}

/* The pairs of plan block k, whose cells lie in the buffers' window
 * [x0, x0 + bw) x [y0, y0 + bh) (the block itself, or its run). */
static rp_status add_block(const exec_ctx *c, worker *w, size_t k, int x0, int y0, int bw, int bh,
                           rp_error *err) {
    const rp_grid *g = &c->r->info.grid;
    const zonal_block *blk = &c->plan->blocks[k];
    int64_t bx0 = blk->bx * g->block_w, by0 = blk->by * g->block_h;
    int64_t bx1 = bx0 + g->block_w < g->width ? bx0 + g->block_w : g->width;
    int64_t by1 = by0 + g->block_h < g->height ? by0 + g->block_h : g->height;
    for (size_t i = blk->start; i < blk->start + blk->count; i++) {
        const zonal_feature *f = &c->p->feats[c->plan->pairs[i].feat];
        int64_t cx0 = f->c0 > bx0 ? f->c0 : bx0, cy0 = f->r0 > by0 ? f->r0 : by0;
        int64_t cx1 = f->c1 < bx1 ? f->c1 : bx1, cy1 = f->r1 < by1 ? f->r1 : by1;
        int cw = (int)(cx1 - cx0), ch = (int)(cy1 - cy0);
        if (cw <= 0 || ch <= 0)
            continue;
        rp_cov_window_spans(&f->poly, cx0, cy0, cw, ch, w->scratch, w->cov, w->spans);
        rp_status rc = c->list_stats > 0 ? reserve_lists(c, w, i, ch, err) : RP_OK;
        if (rc != RP_OK)
            return rc;
        if (add_cells(c, w, i, x0, y0, bw, bh, (int)(cx0 - x0), (int)(cy0 - y0), cw, ch) != RP_OK)
            return rp_error_set(err, RP_NOMEM, "out of memory (value lists)");
    }
    return RP_OK;
}

/* The window of plan blocks [first, first + count) (adjacent in one row). */
static zonal_window window_of(const exec_ctx *c, size_t first, size_t count) {
    const rp_grid *g = &c->r->info.grid;
    const zonal_block *b0 = &c->plan->blocks[first];
    zonal_window at = {
        b0->bx, b0->by, (int64_t)count, (int)(b0->bx * g->block_w), (int)(b0->by * g->block_h),
        0,      0};
    int64_t x1 = (b0->bx + (int64_t)count) * g->block_w, y1 = (b0->by + 1) * g->block_h;
    at.w = (int)((x1 < g->width ? x1 : g->width) - at.x0);
    at.h = (int)((y1 < g->height ? y1 : g->height) - at.y0);
    return at;
}

/* Reads plan blocks [first, first + count) as one window and adds their
 * pairs; false (nothing added) when the read fails, with why. */
static bool run_window(const exec_ctx *c, worker *w, size_t first, size_t count, char *why,
                       size_t wsize, rp_status *rc, rp_error *err) {
    zonal_window at = window_of(c, first, count);
    if (!zonal_read_window(c->o, c->r, w->rw, w->native, &at, w->vals, w->weights, w->valid, why,
                           wsize))
        return false;
    if (c->spherical) /* a run is one block row: h <= block_h rows */
        zonal_sphere_row_areas(c->r->info.grid.gt, at.y0, at.h, w->row_area);
    for (size_t k = first; k < first + count && *rc == RP_OK; k++)
        *rc = add_block(c, w, k, at.x0, at.y0, at.w, at.h, err);
    return true;
}

/* Task: one block, or a run of a remote raster's adjacent blocks read as
 * one window (read again block by block when that fails, so a failure
 * fails only the blocks that cannot be read). */
static rp_status run(void *vctx, void *state, size_t task, rp_error *err) {
    exec_ctx *c = vctx;
    worker *w = state;
    size_t first = c->run_first ? c->run_first[task] : c->first_block + task;
    size_t count = c->run_first ? c->run_count[task] : 1;
    char why[1024];
    rp_status rc = RP_OK;
    if (count > 1 && run_window(c, w, first, count, why, sizeof why, &rc, err))
        return rc;
    for (size_t k = first; k < first + count && rc == RP_OK; k++) {
        if (run_window(c, w, k, 1, why, sizeof why, &rc, err))
            continue;
        c->block_failed[k - c->first_block] = 1;
        if (c->o->log)
            fprintf(c->o->log,
                    "%s: block (%lld, %lld) cannot be read: %s; the polygons that touch it get "
                    "no values (status read_error)\n",
                    c->o->raster, (long long)c->plan->blocks[k].bx,
                    (long long)c->plan->blocks[k].by, why);
    }
    return rc;
}

/* Remote: runs of horizontally adjacent plan blocks (same block row,
 * consecutive columns), at most run_len each. */
static bool make_runs(exec_ctx *c, size_t run_len) {
    const zonal_plan *plan = c->plan;
    c->max_run = 1;
    if (run_len <= 1)
        return true;
    c->run_first = malloc((c->nblocks ? c->nblocks : 1) * sizeof *c->run_first);
    c->run_count = malloc((c->nblocks ? c->nblocks : 1) * sizeof *c->run_count);
    if (!c->run_first || !c->run_count)
        return false;
    for (size_t i = c->first_block; i < c->first_block + c->nblocks; i++) {
        const zonal_block *b = &plan->blocks[i];
        if (c->nruns) {
            size_t k = c->nruns - 1;
            const zonal_block *last = &plan->blocks[c->run_first[k] + c->run_count[k] - 1];
            if (c->run_count[k] < run_len && last->by == b->by && last->bx + 1 == b->bx) {
                if (++c->run_count[k] > c->max_run)
                    c->max_run = c->run_count[k];
                continue;
            }
        }
        c->run_first[c->nruns] = i;
        c->run_count[c->nruns++] = 1;
    }
    return true;
}

size_t zonal_plan_pairs_of(const zonal_plan *plan, size_t first, size_t count) {
    if (count == 0)
        return 0;
    const zonal_block *last = &plan->blocks[first + count - 1];
    return last->start + last->count - plan->blocks[first].start;
}

rp_status zonal_exec_blocks(const rp_zonal_options *o, const zonal_raster *r, const zonal_polys *p,
                            const zonal_plan *plan, zonal_budget *budget, zonal_results *res,
                            size_t first, size_t count, uint8_t *block_failed, rp_error *err) {
    exec_ctx c = {o,
                  r,
                  p,
                  plan,
                  res,
                  block_failed,
                  false,
                  budget,
                  zonal_list_stats(o, r),
                  NULL,
                  NULL,
                  0,
                  1,
                  first,
                  count,
                  count ? plan->blocks[first].start : 0};
    for (int s = 0; s < o->nstats; s++)
        c.spherical = c.spherical || o->stats[s].area == ZAREA_SPHERICAL;
    rp_pool *pool =
        make_runs(&c, r->sources->run_len) ? rp_pool_new(zonal_read_threads(o, r)) : NULL;
    rp_status rc = RP_NOMEM;
    if (pool) {
        rp_pool_job job = {.ntasks = c.run_first ? c.nruns : count,
                           .ctx = &c,
                           .begin = begin,
                           .run = run,
                           .end = end,
                           .progress = o->progress,
                           .progress_user = o->progress_user,
                           .progress_message = "zonal"};
        rc = rp_pool_run(pool, &job, err);
        rp_pool_free(pool);
    } else {
        rp_error_set(err, RP_NOMEM, "out of memory (thread pool)");
    }
    free(c.run_first);
    free(c.run_count);
    return rc;
}

rp_status zonal_exec(const rp_zonal_options *o, const zonal_raster *r, const zonal_polys *p,
                     const zonal_plan *plan, zonal_budget *budget, zonal_results *res,
                     rp_error *err) {
    memset(res, 0, sizeof *res);
    size_t nacc = plan->npairs * (size_t)r->nbands * (size_t)o->nstats;
    res->accs = calloc(nacc ? nacc : 1, sizeof *res->accs);
    res->pair_failed = calloc(plan->npairs ? plan->npairs : 1, 1);
    uint8_t *block_failed = calloc(plan->nblocks ? plan->nblocks : 1, 1);
    if (!res->accs || !res->pair_failed || !block_failed) {
        free(block_failed);
        return rp_error_set(err, RP_NOMEM, "out of memory (statistics of %zu pairs)", plan->npairs);
    }
    rp_status rc =
        zonal_exec_blocks(o, r, p, plan, budget, res, 0, plan->nblocks, block_failed, err);
    zonal_results_fail_blocks(plan, res, block_failed);
    free(block_failed);
    return rc;
}

void zonal_results_fail_blocks(const zonal_plan *plan, zonal_results *res,
                               const uint8_t *block_failed) {
    res->blocks_failed = 0;
    for (size_t b = 0; b < plan->nblocks; b++) {
        if (block_failed[b])
            for (size_t k = plan->blocks[b].start;
                 k < plan->blocks[b].start + plan->blocks[b].count; k++)
                res->pair_failed[k] = 1;
        res->blocks_failed += block_failed[b];
    }
    res->blocks_read = plan->nblocks - res->blocks_failed;
}

void zonal_results_free(zonal_results *res, size_t nacc) {
    if (res->accs)
        for (size_t i = 0; i < nacc; i++)
            free(res->accs[i].vals);
    free(res->accs);
    free(res->pair_failed);
    memset(res, 0, sizeof *res);
}
