/*
 * vrt_plan.h — planning points against a VRT band's source
 * files: which source paints a cell (painter's order, later sources on
 * top), and grouping points by (source, source block). Pure arithmetic on
 * the VRT's XML and the sources' sizes: no pixel I/O.
 */
#ifndef RP_VRT_PLAN_H
#define RP_VRT_PLAN_H
#include <stddef.h>
#include <stdint.h>

#include "vrt_xml.h"

#define RP_NO_SOURCE UINT32_MAX

/* A bucket grid over the VRT's pixels; each bucket lists, in ascending
 * order, the sources whose DstRect meets it. */
typedef struct rp_source_index {
    int64_t width, height; /* the VRT's size */
    int64_t cell_w, cell_h;
    int64_t nx, ny;
    uint64_t *start; /* nx * ny + 1 offsets into items */
    uint32_t *items;
} rp_source_index;

/* Builds the index (about four buckets per source). Returns 0, or -1 when
 * memory runs out or the sources overlap so much that the index would pass
 * max_items entries. */
int rp_source_index_build(rp_source_index *ix, const rp_vrt_band *band, int64_t width,
                          int64_t height, uint64_t max_items);
void rp_source_index_free(rp_source_index *ix);

/* The part of source s's DstRect on a VRT of width x height, clipped to
 * the source file's extent when its size is known (as GDAL clips it), as
 * half-open [x0, x1) x [y0, y1); false when empty. */
bool rp_source_extent(const rp_vrt_source *s, int64_t width, int64_t height, int64_t *x0,
                      int64_t *y0, int64_t *x1, int64_t *y1);

/* The topmost source below `limit` (exclusive; band->nsources for no
 * limit) whose DstRect holds VRT cell (col, row), clipped to the source
 * file's extent when its size is known. RP_NO_SOURCE when none. */
uint32_t rp_source_lookup(const rp_source_index *ix, const rp_vrt_band *band, int64_t col,
                          int64_t row, uint32_t limit);

/* The pixel of source s under VRT cell (col, row). */
static inline void rp_source_pixel(const rp_vrt_source *s, int64_t col, int64_t row, int64_t *sx,
                                   int64_t *sy) {
    *sx = col - s->dst_x + s->src_x;
    *sy = row - s->dst_y + s->src_y;
}

/* One read: a block of one source and the run of `order` it serves. */
typedef struct rp_source_task {
    uint32_t source;
    int64_t block_x, block_y;
    size_t start, count;
} rp_source_task;

typedef struct rp_source_tasks {
    uint32_t *order; /* point indices, grouped by task, each group in input order */
    size_t norder;
    rp_source_task *tasks; /* by source, then block row, then block column */
    size_t ntasks;
} rp_source_tasks;

/* Groups n (point, source) pairs by the source block holding the point's
 * cell. cell[p] is the point's VRT cell (row * vrt_width + col). Every
 * source named must have known properties. Returns 0 or -1 (memory). */
int rp_source_tasks_build(rp_source_tasks *out, const rp_vrt_band *band, int64_t vrt_width,
                          const uint64_t *cell, const uint32_t *points, const uint32_t *sources,
                          size_t n);
void rp_source_tasks_free(rp_source_tasks *t);

#endif
