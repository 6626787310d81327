/*
 * vrt_plan.c — which source file paints a VRT cell, and grouping points
 * by source block, so that each source block is read once.
 *
 * The index is a bucket grid over the VRT (about four buckets per source,
 * so a lookup scans a handful of sources even in a 10,000-file mosaic).
 * Buckets list sources in XML order, and a lookup walks them from the last:
 * the first that holds the cell is the one GDAL paints on top. A source's
 * window is clipped to its file's extent as GDAL clips it.
 *
 * Grouping sorts (source, block row, block column, point) records: O(n log
 * n) over the points of one pass, deterministic whatever the thread count.
 *
 * Threads: none; pure functions over the caller's data.
 */
#include <stdlib.h>
#include <string.h>

#include "vrt_plan.h"

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

/* The part of a source's DstRect on the VRT, as half-open [x0,x1)x[y0,y1);
 * false when empty. */
static bool dst_extent(const rp_vrt_source *s, int64_t width, int64_t height, int64_t *x0,
                       int64_t *y0, int64_t *x1, int64_t *y1) {
    int64_t w = s->w, h = s->h;
    if (s->props_known) { /* GDAL clips the window to the file */
        if (s->src_x + w > s->raster_w)
            w = s->raster_w - s->src_x;
        if (s->src_y + h > s->raster_h)
            h = s->raster_h - s->src_y;
    }
    *x0 = clamp64(s->dst_x, 0, width);
    *y0 = clamp64(s->dst_y, 0, height);
    *x1 = clamp64(s->dst_x + (w > 0 ? w : 0), 0, width);
    *y1 = clamp64(s->dst_y + (h > 0 ? h : 0), 0, height);
    return *x0 < *x1 && *y0 < *y1;
}

bool rp_source_extent(const rp_vrt_source *s, int64_t width, int64_t height, int64_t *x0,
                      int64_t *y0, int64_t *x1, int64_t *y1) {
    return dst_extent(s, width, height, x0, y0, x1, y1);
}

int rp_source_index_build(rp_source_index *ix, const rp_vrt_band *band, int64_t width,
                          int64_t height, uint64_t max_items) {
    memset(ix, 0, sizeof *ix);
    if (width <= 0 || height <= 0)
        return -1;
    ix->width = width;
    ix->height = height;
    /* about 4 buckets per source, square-ish in pixels */
    double want = 4.0 * (double)(band->nsources ? band->nsources : 1);
    int64_t n = 1;
    while ((double)n * (double)n < want && n < 4096)
        n++;
    ix->cell_w = (width + n - 1) / n;
    ix->cell_h = (height + n - 1) / n;
    ix->nx = (width + ix->cell_w - 1) / ix->cell_w;
    ix->ny = (height + ix->cell_h - 1) / ix->cell_h;
    size_t nb = (size_t)(ix->nx * ix->ny);
    ix->start = calloc(nb + 1, sizeof *ix->start);
    if (!ix->start)
        return -1;
    /* count, then fill: buckets keep sources in ascending order */
    uint64_t total = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t s = 0; s < band->nsources; s++) {
            int64_t x0, y0, x1, y1;
            if (!dst_extent(&band->sources[s], width, height, &x0, &y0, &x1, &y1))
                continue;
            int64_t bx0 = x0 / ix->cell_w, bx1 = (x1 - 1) / ix->cell_w;
            int64_t by0 = y0 / ix->cell_h, by1 = (y1 - 1) / ix->cell_h;
            for (int64_t by = by0; by <= by1; by++) {
                for (int64_t bx = bx0; bx <= bx1; bx++) {
                    size_t b = (size_t)(by * ix->nx + bx);
                    if (pass == 0) {
                        ix->start[b + 1]++;
                        if (++total > max_items)
                            goto too_many;
                    } else {
                        ix->items[ix->start[b]++] = (uint32_t)s;
                    }
                }
            }
        }
        if (pass == 0) {
            for (size_t b = 0; b < nb; b++)
                ix->start[b + 1] += ix->start[b];
            ix->items = malloc((total ? total : 1) * sizeof *ix->items);
            if (!ix->items)
                goto too_many;
        } else {
            /* the fill advanced each start to the next bucket's: shift back */
            memmove(ix->start + 1, ix->start, nb * sizeof *ix->start);
            ix->start[0] = 0;
        }
    }
    return 0;
too_many:
    rp_source_index_free(ix);
    return -1;
}

void rp_source_index_free(rp_source_index *ix) {
    if (!ix)
        return;
    free(ix->start);
    free(ix->items);
    memset(ix, 0, sizeof *ix);
}

uint32_t rp_source_lookup(const rp_source_index *ix, const rp_vrt_band *band, int64_t col,
                          int64_t row, uint32_t limit) {
    if (col < 0 || row < 0 || col >= ix->width || row >= ix->height)
        return RP_NO_SOURCE;
    size_t b = (size_t)((row / ix->cell_h) * ix->nx + col / ix->cell_w);
    for (uint64_t k = ix->start[b + 1]; k > ix->start[b]; k--) {
        uint32_t s = ix->items[k - 1];
        if (s >= limit)
            continue;
        int64_t x0, y0, x1, y1;
        if (dst_extent(&band->sources[s], ix->width, ix->height, &x0, &y0, &x1, &y1) && col >= x0 &&
            col < x1 && row >= y0 && row < y1)
            return s;
    }
    return RP_NO_SOURCE;
}

typedef struct task_key {
    uint32_t source;
    uint32_t point;
    int64_t block_y, block_x;
} task_key;

static int compare_keys(const void *pa, const void *pb) {
    const task_key *a = pa, *b = pb;
    if (a->source != b->source)
        return a->source < b->source ? -1 : 1;
    if (a->block_y != b->block_y)
        return a->block_y < b->block_y ? -1 : 1;
    if (a->block_x != b->block_x)
        return a->block_x < b->block_x ? -1 : 1;
    return a->point < b->point ? -1 : a->point > b->point;
}

static bool same_block(const task_key *a, const task_key *b) {
    return a->source == b->source && a->block_x == b->block_x && a->block_y == b->block_y;
}

int rp_source_tasks_build(rp_source_tasks *out, const rp_vrt_band *band, int64_t vrt_width,
                          const uint64_t *cell, const uint32_t *points, const uint32_t *sources,
                          size_t n) {
    memset(out, 0, sizeof *out);
    task_key *keys = malloc((n ? n : 1) * sizeof *keys);
    out->order = malloc((n ? n : 1) * sizeof *out->order);
    if (!keys || !out->order) {
        free(keys);
        rp_source_tasks_free(out);
        return -1;
    }
    for (size_t k = 0; k < n; k++) {
        const rp_vrt_source *s = &band->sources[sources[k]];
        int64_t col = (int64_t)(cell[points[k]] % (uint64_t)vrt_width);
        int64_t row = (int64_t)(cell[points[k]] / (uint64_t)vrt_width);
        int64_t sx, sy;
        rp_source_pixel(s, col, row, &sx, &sy);
        keys[k].source = sources[k];
        keys[k].point = points[k];
        keys[k].block_x = sx / s->block_w;
        keys[k].block_y = sy / s->block_h;
    }
    qsort(keys, n, sizeof *keys, compare_keys);
    size_t ntasks = 0;
    for (size_t k = 0; k < n; k++)
        if (k == 0 || !same_block(&keys[k - 1], &keys[k]))
            ntasks++;
    out->tasks = malloc((ntasks ? ntasks : 1) * sizeof *out->tasks);
    if (!out->tasks) {
        free(keys);
        rp_source_tasks_free(out);
        return -1;
    }
    for (size_t k = 0; k < n; k++) {
        rp_source_task *t = out->ntasks ? &out->tasks[out->ntasks - 1] : NULL;
        if (k == 0 || !same_block(&keys[k - 1], &keys[k])) {
            t = &out->tasks[out->ntasks++];
            t->source = keys[k].source;
            t->block_x = keys[k].block_x;
            t->block_y = keys[k].block_y;
            t->start = k;
            t->count = 0;
        }
        t->count++;
        out->order[k] = keys[k].point;
    }
    out->norder = n;
    free(keys);
    return 0;
}

void rp_source_tasks_free(rp_source_tasks *t) {
    if (!t)
        return;
    free(t->order);
    free(t->tasks);
    memset(t, 0, sizeof *t);
}
