/*
 * zonal_plan.c — the plan of a zonal job: each polygon's bounding box on
 * the raster gives the blocks it touches; the (polygon, block) pairs are
 * grouped by block in row-major block order, polygons in input order
 * within a block. Pure arithmetic, no pixel I/O; --plan prints it.
 *
 * Threads: the caller's. Ownership: the plan owns its arrays.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "zonal_internal.h"

typedef struct keyed {
    uint64_t block; /* by * blocks_x + bx */
    uint32_t feat;
} keyed;

static int cmp_keyed(const void *pa, const void *pb) {
    const keyed *a = pa, *b = pb;
    if (a->block != b->block)
        return a->block < b->block ? -1 : 1;
    return (a->feat > b->feat) - (a->feat < b->feat);
}

static bool plan_wants(const zonal_feature *f) {
    return (f->status == ZST_OK || f->status == ZST_REPAIRED) && f->c0 < f->c1 && f->r0 < f->r1;
}

static size_t count_pairs(const rp_grid *g, const zonal_polys *p) {
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++) {
        const zonal_feature *f = &p->feats[i];
        if (plan_wants(f))
            n += (size_t)((f->c1 - 1) / g->block_w - f->c0 / g->block_w + 1) *
                 (size_t)((f->r1 - 1) / g->block_h - f->r0 / g->block_h + 1);
    }
    return n;
}

static rp_status group_blocks(zonal_plan *plan, keyed *k, const rp_grid *g, rp_error *err) {
    plan->pairs = malloc((plan->npairs ? plan->npairs : 1) * sizeof *plan->pairs);
    plan->blocks = malloc((plan->npairs ? plan->npairs : 1) * sizeof *plan->blocks);
    if (!plan->pairs || !plan->blocks)
        return rp_error_set(err, RP_NOMEM, "out of memory (plan of %zu pairs)", plan->npairs);
    for (size_t i = 0; i < plan->npairs; i++) {
        if (i == 0 || k[i].block != k[i - 1].block) {
            zonal_block *b = &plan->blocks[plan->nblocks++];
            b->bx = (int64_t)(k[i].block % (uint64_t)g->blocks_x);
            b->by = (int64_t)(k[i].block / (uint64_t)g->blocks_x);
            b->start = i;
            b->count = 0;
        }
        plan->blocks[plan->nblocks - 1].count++;
        plan->pairs[i] = (zonal_pair){k[i].feat, (uint32_t)(plan->nblocks - 1)};
    }
    return RP_OK;
}

rp_status zonal_plan_build(const zonal_raster *r, const zonal_polys *p, zonal_plan *plan,
                           rp_error *err) {
    memset(plan, 0, sizeof *plan);
    const rp_grid *g = &r->info.grid;
    if (p->n > UINT32_MAX)
        return rp_error_set(err, RP_USAGE, "more than %" PRIu32 " polygons", UINT32_MAX);
    plan->npairs = count_pairs(g, p);
    keyed *k = malloc((plan->npairs ? plan->npairs : 1) * sizeof *k);
    if (!k)
        return rp_error_set(err, RP_NOMEM, "out of memory (plan of %zu pairs)", plan->npairs);
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++) {
        const zonal_feature *f = &p->feats[i];
        if (!plan_wants(f))
            continue;
        for (int64_t by = f->r0 / g->block_h; by <= (f->r1 - 1) / g->block_h; by++)
            for (int64_t bx = f->c0 / g->block_w; bx <= (f->c1 - 1) / g->block_w; bx++) {
                k[n++] = (keyed){(uint64_t)by * (uint64_t)g->blocks_x + (uint64_t)bx, (uint32_t)i};
                int64_t w = (bx + 1) * g->block_w, h = (by + 1) * g->block_h;
                w = (w < f->c1 ? w : f->c1) - (bx * g->block_w > f->c0 ? bx * g->block_w : f->c0);
                h = (h < f->r1 ? h : f->r1) - (by * g->block_h > f->r0 ? by * g->block_h : f->r0);
                plan->cells += (uint64_t)(w * h);
            }
    }
    qsort(k, n, sizeof *k, cmp_keyed);
    rp_status rc = group_blocks(plan, k, g, err);
    free(k);
    return rc;
}

void zonal_plan_free(zonal_plan *plan) {
    free(plan->pairs);
    free(plan->blocks);
    memset(plan, 0, sizeof *plan);
}

void zonal_plan_print(const rp_zonal_options *o, const zonal_raster *r, const zonal_polys *p,
                      const zonal_plan *plan, FILE *out) {
    if (!out)
        return;
    const rp_grid *g = &r->info.grid;
    size_t counts[ZST_OVER_MEMORY + 1] = {0};
    for (size_t i = 0; i < p->n; i++)
        counts[p->feats[i].status]++;
    uint64_t block_cells = (uint64_t)(g->block_w * g->block_h);
    fprintf(out,
            "raster: %s (%" PRId64 " x %" PRId64 ", blocks %" PRId64 " x %" PRId64
            ", %d band(s))\n",
            r->info.path, g->width, g->height, g->block_w, g->block_h, r->nbands);
    fprintf(out,
            "polygons: %zu (on the raster %zu, outside %zu, no geometry %zu, invalid %zu, "
            "repaired %zu)\n",
            p->n, counts[ZST_OK] + counts[ZST_REPAIRED], counts[ZST_OUTSIDE],
            counts[ZST_NO_GEOMETRY], counts[ZST_INVALID], counts[ZST_REPAIRED]);
    fprintf(out, "blocks touched: %zu of %" PRId64 " (each decoded once)\n", plan->nblocks,
            g->blocks_x * g->blocks_y);
    fprintf(out, "(polygon, block) pairs: %zu; cells in their windows: %" PRIu64 "\n", plan->npairs,
            plan->cells);
    fprintf(out,
            "memory: %" PRIu64 " bytes per worker for a block's pixels and coverage; %zu "
            "bytes of statistics; +16 bytes per covered cell for value-list statistics\n",
            block_cells * (uint64_t)(9 * r->nbands + 41),
            plan->npairs * (size_t)r->nbands * (size_t)o->nstats * sizeof(zonal_acc));
}
