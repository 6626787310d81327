/*
 * sample_plan.c — the --plan lines of sampling: how many blocks the
 * kernels touch beyond the blocks of the points' own cells, and in how
 * many rounds the points are read (sample_exec.c). Arithmetic only: one
 * bit per block of the raster, no pixel read.
 *
 * Threads: the caller's.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "extract_internal.h"

/* Bitmaps beyond this many blocks are not built (the count is unknown). */
#define MAX_BITMAP_BLOCKS ((uint64_t)1 << 31)

/* The rectangle of cells the kernel at (px, py) reads: [c0, c1] x [r0, r1]. */
static void kernel_rect(const rp_grid *g, rp_sample_method m, int window, double px, double py,
                        int64_t rect[4]) {
    uint64_t cells[16];
    rp_kernel_at at;
    if (window > 0) {
        rp_sample_kernel_cells(g, RP_METHOD_NEAREST, 0, px, py, cells, &at);
        int64_t col = (int64_t)(cells[0] % (uint64_t)g->width);
        int64_t row = (int64_t)(cells[0] / (uint64_t)g->width);
        int64_t h = window / 2;
        rect[0] = col - h < 0 ? 0 : col - h;
        rect[1] = col + h >= g->width ? g->width - 1 : col + h;
        rect[2] = row - h < 0 ? 0 : row - h;
        rect[3] = row + h >= g->height ? g->height - 1 : row + h;
        return;
    }
    int side = rp_sample_kernel_side(m, 0);
    rp_sample_kernel_cells(g, m, 0, px, py, cells, &at);
    uint64_t last = cells[side * side - 1]; /* clamping keeps the corners in order */
    rect[0] = (int64_t)(cells[0] % (uint64_t)g->width);
    rect[2] = (int64_t)(cells[0] / (uint64_t)g->width);
    rect[1] = (int64_t)(last % (uint64_t)g->width);
    rect[3] = (int64_t)(last / (uint64_t)g->width);
}

/* Marks the blocks of the kernels of the plan's points; their count, or
 * -1 when the raster has too many blocks for the bitmap. */
static int64_t count_kernel_blocks(const rp_grid *g, rp_sample_method m, int window,
                                   const rp_plan *plan, const double *rx, const double *ry) {
    uint64_t total = (uint64_t)g->blocks_x * (uint64_t)g->blocks_y;
    if (total > MAX_BITMAP_BLOCKS)
        return -1;
    unsigned char *bits = calloc((size_t)(total / 8 + 1), 1);
    if (!bits)
        return -1;
    int64_t count = 0;
    for (size_t k = 0; k < plan->inside; k++) {
        uint32_t p = plan->order[k];
        double px, py;
        int64_t rect[4];
        rp_grid_pixel(g, rx[p], ry[p], &px, &py);
        kernel_rect(g, m, window, px, py, rect);
        for (int64_t by = rect[2] / g->block_h; by <= rect[3] / g->block_h; by++) {
            for (int64_t bx = rect[0] / g->block_w; bx <= rect[1] / g->block_w; bx++) {
                uint64_t key = (uint64_t)by * (uint64_t)g->blocks_x + (uint64_t)bx;
                if (!(bits[key / 8] & (1u << (key % 8)))) {
                    bits[key / 8] |= (unsigned char)(1u << (key % 8));
                    count++;
                }
            }
        }
    }
    free(bits);
    return count;
}

void rp_sample_write_plan(FILE *out, const rp_extract_setup *s, int r, const rp_plan *plan,
                          const double *rx, const double *ry) {
    const rp_extract_options *o = s->sample;
    const rp_grid *g = &s->rasters[r].info.grid;
    rp_sample_method m =
        rp_sample_effective_method((rp_sample_method)o->method, g->width, g->height);
    int side = rp_sample_kernel_side(m, o->window);
    if (o->window)
        fprintf(out, "  sampling: window %d x %d cells around each point", side, side);
    else
        fprintf(out, "  sampling: %s, %d x %d cells a point", rp_sample_method_name(m), side, side);
    if (!o->window && m != (rp_sample_method)o->method)
        fprintf(out, " (%s falls back to %s on a %" PRId64 " x %" PRId64 " raster, as GDAL)",
                rp_sample_method_name((rp_sample_method)o->method), rp_sample_method_name(m),
                g->width, g->height);
    fprintf(out, "\n");
    int64_t kb = count_kernel_blocks(g, m, o->window, plan, rx, ry);
    if (kb >= 0)
        fprintf(out,
                "  blocks touched by the kernels: %" PRId64 " (%" PRId64
                " more than the points' own cells touch)\n",
                kb, kb - (int64_t)plan->nblocks);
    else
        fprintf(out, "  blocks touched by the kernels: unknown (too many blocks to count)\n");
    size_t per_round = rp_sample_round_points(s, r);
    size_t rounds = plan->inside ? (plan->inside + per_round - 1) / per_round : 0;
    fprintf(
        out,
        "  rounds: %zu (at most %zu points a round; a block two rounds touch is read by each)\n",
        rounds, per_round);
}
