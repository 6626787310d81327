/*
 * zonal_exec.c — the pool of workers over the plan's blocks. A task is one
 * touched block: it is decoded once (each band, its mask, the weights),
 * then every polygon that touches it gets its coverage over the block (the
 * part of its window inside it) and adds the block's cells to its own
 * accumulators for that (polygon, block) pair. Pairs are written by one
 * task only, so workers share nothing mutable; merging happens later in
 * block order (zonal_write.c), which keeps the output the same at any
 * thread count.
 *
 * Memory: per worker, one block of pixels (8 bytes a band), masks, weights
 * and coverage (16 bytes a cell); the accumulators of every pair, plus the
 * values of the value-list statistics (16 bytes a visited cell, sized
 * exactly per pair and counted against --max-memory: zonal_budget.c).
 *
 * Threads: rp_pool workers, each with its own GDAL handles (handles.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gdal_config.h"
#include "handles.h"
#include "pixel.h"
#include "pool.h"
#include "sysinfo.h"
#include "zonal_internal.h"

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
} exec_ctx;

typedef struct worker {
    rp_handles *handles;
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
    size_t cells = (size_t)(g->block_w * g->block_h);
    worker *w = calloc(1, sizeof *w);
    *state = w;
    if (!w)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    rp_gdal_config_apply((const char *const *)c->o->config, c->o->nconfig, true);
    w->handles = rp_handles_new(c->o->nrasters + 2);
    w->vals = malloc(cells * (size_t)c->r->nbands * sizeof(double));
    w->valid = malloc(cells * (size_t)(c->r->nbands + 1));
    w->weights = malloc(cells * sizeof(double));
    w->cov = malloc(cells * sizeof(double));
    w->native = malloc(cells * 16); /* the largest type: CFloat64 */
    w->spans = malloc((size_t)g->block_h * 2 * sizeof(int));
    w->row_area = malloc((size_t)g->block_h * sizeof(double));
    w->scratch = calloc(1, (size_t)(g->block_w + 1) * (size_t)g->block_h * sizeof(double));
    if (!w->handles || !w->vals || !w->valid || !w->weights || !w->cov || !w->scratch ||
        !w->native || !w->spans || !w->row_area)
        return rp_error_set(err, RP_NOMEM, "out of memory (worker buffers)");
    return RP_OK;
}

static void end(void *vctx, void *state) {
    exec_ctx *c = vctx;
    worker *w = state;
    if (!w)
        return;
    rp_handles_free(w->handles);
    free(w->vals);
    free(w->valid);
    free(w->weights);
    free(w->cov);
    free(w->scratch);
    free(w->native);
    free(w->spans);
    free(w->row_area);
    free(w);
    rp_gdal_config_apply((const char *const *)c->o->config, c->o->nconfig, false);
}

/* One block of a band, [x0, x0 + bw) x [y0, y0 + bh), as doubles (bw a
 * row) with its valid cells marked. A band whose blocks are the grid's is
 * read with GDALReadBlock (no block cache) into the worker's native buffer
 * and converted; any other through RasterIO. */
typedef struct block_at {
    int64_t bx, by;
    int x0, y0, bw, bh;
} block_at;

static bool read_band(GDALDatasetH ds, const rp_band_info *bi, const rp_grid *g, const block_at *at,
                      void *native, double *vals, uint8_t *valid) {
    GDALRasterBandH band = GDALGetRasterBand(ds, bi->band);
    if (!band)
        return false;
    int bw = at->bw, bh = at->bh;
    if (bi->block_w == g->block_w && bi->block_h == g->block_h) {
        if (GDALReadBlock(band, (int)at->bx, (int)at->by, native) != CE_None)
            return false;
        for (int y = 0; y < bh; y++)
            GDALCopyWords64(
                (unsigned char *)native + (size_t)y * (size_t)g->block_w * (size_t)bi->type_size,
                bi->type, bi->type_size, vals + (size_t)y * (size_t)bw, GDT_Float64, 8, bw);
    } else if (GDALRasterIO(band, GF_Read, at->x0, at->y0, bw, bh, vals, bw, bh, GDT_Float64, 0,
                            0) != CE_None) {
        return false;
    }
    size_t n = (size_t)bw * (size_t)bh;
    if (bi->value_type == RP_GDT_INT8) /* PIXELTYPE=SIGNEDBYTE: GDAL 3.6 gave 0..255 */
        for (size_t i = 0; i < n; i++)
            vals[i] = vals[i] >= 128 ? vals[i] - 256 : vals[i];
    double nd = rp_band_nodata_as_double(bi);
    for (size_t i = 0; i < n; i++)
        valid[i] = !isnan(vals[i]) && !(bi->has_nodata && vals[i] == nd);
    if (bi->read_mask) {
        uint8_t *m = malloc(n);
        if (!m || GDALRasterIO(GDALGetMaskBand(band), GF_Read, at->x0, at->y0, bw, bh, m, bw, bh,
                               GDT_Byte, 0, 0) != CE_None) {
            free(m);
            return false;
        }
        for (size_t i = 0; i < n; i++)
            valid[i] = valid[i] && m[i] != 0;
        free(m);
    }
    return true;
}

/* Adds the cells of one (polygon, block) pair, coverage in w->cov over the
 * sub-window [sx, sx + cw) x [sy, sy + ch) of the block window. */
static rp_status add_cells(const exec_ctx *c, worker *w, size_t pair, int x0, int y0, int bw,
                           int bh, int sx, int sy, int cw, int ch) {
    int nb = c->r->nbands, ns = c->o->nstats;
    size_t cells = (size_t)bw * (size_t)bh;
    zonal_acc *accs = c->res->accs + pair * (size_t)nb * (size_t)ns;
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
    zonal_acc *accs = c->res->accs + pair * (size_t)nj;
    for (int j = 0; j < nj; j++)
        if (zonal_op_needs_values(c->o->stats[j % c->o->nstats].op) &&
            zonal_acc_reserve(&accs[j], visited) != RP_OK)
            return rp_error_set(err, RP_NOMEM, "out of memory (value lists)");
    return zonal_budget_take(c->budget, (uint64_t)visited * 16 * (uint64_t)c->list_stats, err);
}

/* Decodes the block's bands (and mask, weights) once. */
static bool read_block(const exec_ctx *c, worker *w, const block_at *at, rp_error *err) {
    const rp_grid *g = &c->r->info.grid;
    size_t cells = (size_t)at->bw * (size_t)at->bh;
    for (int b = 0; b < c->r->nbands; b++) {
        GDALDatasetH ds = rp_handles_get(w->handles, c->o->rasters[c->r->band_src[b]], err);
        if (!ds || !read_band(ds, &c->r->bands[b], g, at, w->native, w->vals + cells * (size_t)b,
                              w->valid + cells * (size_t)b))
            return false;
    }
    if (c->r->has_weights) {
        GDALDatasetH wds = rp_handles_get(w->handles, c->o->weights_path, err);
        if (!wds || !read_band(wds, &c->r->wband, g, at, w->native, w->weights,
                               w->valid + cells * (size_t)c->r->nbands))
            return false;
    }
    return true;
}

static rp_status run(void *vctx, void *state, size_t task, rp_error *err) {
    exec_ctx *c = vctx;
    worker *w = state;
    const rp_grid *g = &c->r->info.grid;
    const zonal_block *blk = &c->plan->blocks[task];
    int x0 = (int)(blk->bx * g->block_w), y0 = (int)(blk->by * g->block_h);
    int bw = (int)(g->width - x0 < g->block_w ? g->width - x0 : g->block_w);
    int bh = (int)(g->height - y0 < g->block_h ? g->height - y0 : g->block_h);
    rp_error rerr;
    rp_error_clear(&rerr);
    block_at at = {blk->bx, blk->by, x0, y0, bw, bh};
    if (!read_block(c, w, &at, &rerr)) {
        c->block_failed[task] = 1;
        if (c->o->log)
            fprintf(c->o->log,
                    "%s: block (%lld, %lld) cannot be read%s%s; the polygons that "
                    "touch it get no values (status read_error)\n",
                    c->o->raster, (long long)blk->bx, (long long)blk->by,
                    rerr.message[0] ? ": " : "", rerr.message);
        return RP_OK;
    }
    if (c->spherical)
        zonal_sphere_row_areas(g->gt, y0, bh, w->row_area);
    for (size_t k = blk->start; k < blk->start + blk->count; k++) {
        const zonal_feature *f = &c->p->feats[c->plan->pairs[k].feat];
        int64_t cx0 = f->c0 > x0 ? f->c0 : x0, cy0 = f->r0 > y0 ? f->r0 : y0;
        int64_t cx1 = f->c1 < x0 + bw ? f->c1 : x0 + bw, cy1 = f->r1 < y0 + bh ? f->r1 : y0 + bh;
        int cw = (int)(cx1 - cx0), ch = (int)(cy1 - cy0);
        if (cw <= 0 || ch <= 0)
            continue;
        rp_cov_window_spans(&f->poly, cx0, cy0, cw, ch, w->scratch, w->cov, w->spans);
        rp_status rc = c->list_stats > 0 ? reserve_lists(c, w, k, ch, err) : RP_OK;
        if (rc != RP_OK)
            return rc;
        if (add_cells(c, w, k, x0, y0, bw, bh, (int)(cx0 - x0), (int)(cy0 - y0), cw, ch) != RP_OK)
            return rp_error_set(err, RP_NOMEM, "out of memory (value lists)");
    }
    return RP_OK;
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
    exec_ctx c = {o, r, p, plan, res, block_failed, false, budget, zonal_list_stats(o, r)};
    for (int s = 0; s < o->nstats; s++)
        c.spherical = c.spherical || o->stats[s].area == ZAREA_SPHERICAL;
    int threads = o->threads > 0 ? o->threads : rp_usable_cpus();
    rp_pool *pool = rp_pool_new(threads);
    rp_status rc = RP_NOMEM;
    if (pool) {
        rp_pool_job job = {.ntasks = plan->nblocks,
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
    for (size_t b = 0; b < plan->nblocks; b++) {
        if (block_failed[b])
            for (size_t k = plan->blocks[b].start;
                 k < plan->blocks[b].start + plan->blocks[b].count; k++)
                res->pair_failed[k] = 1;
        res->blocks_failed += block_failed[b];
    }
    res->blocks_read = plan->nblocks - res->blocks_failed;
    free(block_failed);
    return rc;
}

void zonal_results_free(zonal_results *res, size_t nacc) {
    if (res->accs)
        for (size_t i = 0; i < nacc; i++)
            free(res->accs[i].vals);
    free(res->accs);
    free(res->pair_failed);
    memset(res, 0, sizeof *res);
}
