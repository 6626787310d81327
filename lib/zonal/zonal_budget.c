/*
 * zonal_budget.c — --max-memory: what a zonal job holds, checked against
 * the cap before any pixel is read, and the value lists counted while the
 * blocks are read.
 *
 * The fixed part of a grid's pass is known from the plan: per worker one
 * block's buffers, per (polygon, block) pair one accumulator per band and
 * statistic, per polygon the table's accumulators and its vertices. Over
 * the cap: the job is refused (RP_USAGE) before reading.
 *
 * Value lists (median, quantile, majority, minority, variety, frac,
 * values, coverage, ...) keep 16 bytes per visited cell (a cell of the
 * coverage's per-row [first, end) spans: every covered cell, and the
 * uncovered ones between two parts of a row) per such statistic and band,
 * held until the merge. A polygon whose lists alone would need more than
 * the cap leaves after the fixed part fails alone (status over_memory),
 * named with the bytes it needs, before any pixel is read: its visited
 * cells are counted with the coverage walk (no pixels) when its window
 * could hold that many. Then, while the blocks are read, each pair
 * reserves its lists' exact size (zonal_exec.c) and adds it to the
 * budget's count; going over the cap stops the job (RP_NOMEM). The sizes
 * do not depend on the thread count and the count only grows, so whether
 * a job stops does not either.
 *
 * Threads: zonal_budget_plan runs on the caller's thread; the count is
 * atomic (the workers add to it).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "sysinfo.h"
#include "zonal_internal.h"

int zonal_list_stats(const rp_zonal_options *o, const zonal_raster *r) {
    int k = 0;
    for (int s = 0; s < o->nstats; s++)
        k += zonal_op_needs_values(o->stats[s].op);
    return k * r->nbands;
}

uint64_t zonal_worker_bytes(const zonal_raster *r) {
    const rp_grid *g = &r->info.grid;
    uint64_t cells = (uint64_t)(g->block_w * g->block_h);
    return cells * (uint64_t)(9 * r->nbands + 41) + (uint64_t)g->block_h * 16;
}

/* The fixed part of a pass over grid view r. */
static uint64_t fixed_bytes(const rp_zonal_options *o, const zonal_raster *r, const zonal_polys *p,
                            const zonal_plan *plan, int all_bands) {
    int threads = o->threads > 0 ? o->threads : rp_usable_cpus();
    uint64_t acc = sizeof(zonal_acc), ns = (uint64_t)o->nstats, verts = 0;
    for (size_t i = 0; i < p->n; i++)
        for (size_t k = 0; k < p->feats[i].poly.nrings; k++)
            verts += p->feats[i].rings[k].n;
    return (uint64_t)threads * zonal_worker_bytes(r) +
           plan->npairs * ((uint64_t)r->nbands * ns * acc + sizeof(zonal_pair) + 1) +
           plan->nblocks * sizeof(zonal_block) +
           p->n * ((uint64_t)all_bands * ns * acc + sizeof(zonal_feature)) + verts * 16;
}

/* The cells a polygon's value lists visit on the grid: the widths of its
 * coverage spans, block by block (the same windows as the workers'). */
static bool visited_cells(const zonal_feature *f, const rp_grid *g, uint64_t *out) {
    int bw = (int)g->block_w, bh = (int)g->block_h;
    double *scratch = calloc((size_t)(bw + 1) * (size_t)bh, sizeof *scratch);
    double *cov = malloc((size_t)bw * (size_t)bh * sizeof *cov);
    int *spans = malloc((size_t)bh * 2 * sizeof *spans);
    bool ok = scratch && cov && spans;
    uint64_t n = 0;
    for (int64_t y = f->r0; ok && y < f->r1; y = (y / bh + 1) * bh)
        for (int64_t x = f->c0; x < f->c1; x = (x / bw + 1) * bw) {
            int64_t x1 = (x / bw + 1) * bw, y1 = (y / bh + 1) * bh;
            int cw = (int)((x1 < f->c1 ? x1 : f->c1) - x),
                ch = (int)((y1 < f->r1 ? y1 : f->r1) - y);
            rp_cov_window_spans(&f->poly, x, y, cw, ch, scratch, cov, spans);
            for (int row = 0; row < ch; row++)
                n += (uint64_t)(spans[2 * row + 1] - spans[2 * row]);
        }
    free(scratch);
    free(cov);
    free(spans);
    *out = n;
    return ok;
}

/* Fails the polygons whose value lists alone need more than room bytes
 * (status over_memory, a warning on log); *failed counts them. */
static rp_status fail_big_polygons(const rp_zonal_options *o, const zonal_raster *r, zonal_polys *p,
                                   uint64_t room, size_t *failed, rp_error *err) {
    uint64_t per_cell = 16 * (uint64_t)zonal_list_stats(o, r);
    *failed = 0;
    for (size_t i = 0; i < p->n && per_cell > 0; i++) {
        zonal_feature *f = &p->feats[i];
        if (!(f->status == ZST_OK || f->status == ZST_REPAIRED) || f->c0 >= f->c1 || f->r0 >= f->r1)
            continue;
        uint64_t cells = (uint64_t)(f->c1 - f->c0) * (uint64_t)(f->r1 - f->r0);
        if (cells * per_cell <= room)
            continue;
        if (!visited_cells(f, &r->info.grid, &cells))
            return rp_error_set(err, RP_NOMEM, "out of memory (coverage of FID %lld)",
                                (long long)f->fid);
        if (cells * per_cell <= room)
            continue;
        f->status = ZST_OVER_MEMORY;
        (*failed)++;
        if (o->log)
            fprintf(o->log,
                    "%s: feature FID %lld: its value-list statistics need %" PRIu64
                    " bytes on %s (%" PRIu64 " cells x %" PRIu64 " bytes), more than the %" PRIu64
                    " bytes --max-memory leaves for value lists; its values there are empty "
                    "(status over_memory)\n",
                    o->polygons_path, (long long)f->fid, cells * per_cell, r->info.path, cells,
                    per_cell, room);
    }
    return RP_OK;
}

rp_status zonal_budget_plan(const rp_zonal_options *o, const zonal_raster *r, int all_bands,
                            zonal_polys *p, zonal_plan *plan, zonal_budget *b, rp_error *err) {
    b->cap = o->max_memory;
    if (b->cap == 0)
        return RP_OK;
    for (int pass = 0; pass < 2; pass++) {
        b->fixed = fixed_bytes(o, r, p, plan, all_bands);
        uint64_t held = atomic_load(&b->lists);
        if (b->fixed + held > b->cap) {
            int threads = o->threads > 0 ? o->threads : rp_usable_cpus();
            return rp_error_set(
                err, RP_USAGE,
                "--max-memory %" PRIu64 " bytes: %s needs at least %" PRIu64
                " bytes before any value list (%d worker(s) x %" PRIu64
                " bytes of block buffers, %zu (polygon, block) pairs x %" PRIu64
                " bytes of statistics, %zu polygons' statistics and vertices%s); raise "
                "--max-memory, use fewer threads (-j) or fewer polygons a run",
                b->cap, r->info.path, b->fixed + held, threads, zonal_worker_bytes(r), plan->npairs,
                (uint64_t)r->nbands * (uint64_t)o->nstats * sizeof(zonal_acc), p->n,
                held ? ", and the value lists of the grids before" : "");
        }
        size_t failed = 0;
        rp_status rc =
            pass == 0 ? fail_big_polygons(o, r, p, b->cap - b->fixed - held, &failed, err) : RP_OK;
        if (rc != RP_OK || failed == 0)
            return rc;
        zonal_plan_free(plan); /* without the failed polygons */
        rc = zonal_plan_build(r, p, plan, err);
        if (rc != RP_OK)
            return rc;
    }
    return RP_OK;
}

rp_status zonal_budget_take(zonal_budget *b, uint64_t bytes, rp_error *err) {
    if (!b || bytes == 0)
        return RP_OK;
    uint64_t held = atomic_fetch_add(&b->lists, bytes) + bytes;
    if (b->cap == 0 || b->fixed + held <= b->cap)
        return RP_OK;
    return rp_error_set(
        err, RP_NOMEM,
        "--max-memory %" PRIu64 " bytes: the polygons' value lists (median, quantile, majority, "
        "values, ...: 16 bytes per covered cell per statistic and band, held "
        "until the merge) need more than the %" PRIu64 " bytes left after the fixed %" PRIu64
        "; raise --max-memory or run fewer polygons at a time",
        b->cap, b->cap - b->fixed, b->fixed);
}
