/*
 * zonal_sources.c — zonal over VRT mosaics, read from the source files as
 * extract reads them (lib/read/vrt_xml.c decides which bands qualify: every
 * source a plain 1:1 copy; the others stay on GDAL's VRT driver, the reason
 * kept for --plan).
 *
 * The design: zonal's unit of work is a block of the job's grid, decoded
 * once. For a VRT the grid's blocks are chosen so that each source block
 * (a tile's block, placed in the mosaic) lies inside exactly one of them:
 * a multiple of the sources' block size when the tiles sit on that
 * block grid (gdalbuildvrt of a tiled grid), else a multiple of the tile
 * size. A grid block is then composited from the source blocks under it,
 * each read once with GDALReadBlock from the worker's own handle of its
 * file: sources in the XML's order (later ones on top), a ComplexSource
 * NODATA pixel transparent, a cell no source paints the VRT's nodata (or
 * 0), exactly as GDAL's VRT driver paints it. When no such grid exists
 * (tiles off their own block grid), blocks on the edges are read by each
 * grid block they meet, and --plan says so.
 *
 * Threads: open/prepare/print on the caller's thread (prepare opens the
 * touched sources whose XML lacks their sizes, so workers never write the
 * rp_vrt); zonal_sources_read on any worker, with the worker's handles
 * (at most max_open source files open each, lowered to fit the open-files
 * limit). Ownership: zonal_sources owns the rp_vrts and indexes.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "pixel.h"
#include "remote.h"
#include "zonal_read.h"

#define MAX_INDEX_ITEMS ((uint64_t)64 << 20)
#define MAX_SIDE 1024 /* the chosen grid block's side */
#define MAX_SIDE_REMOTE 512
#define MAX_BLOCK_SIDE 4096 /* a source block wider than cap (a strip): one grid block */
#define MAX_CELLS ((int64_t)1 << 20)

/* Whether band b (of the zonal bands, or the weights at r->nbands) of
 * raster path can be read from its sources; fills sb. */
static void survey_band(zonal_src_band *sb, rp_vrt *vrt, const rp_band_info *bi, const rp_grid *g) {
    if (bi->band > vrt->nbands) {
        snprintf(sb->why, sizeof sb->why, "band %d is not in the VRT's XML", bi->band);
        return;
    }
    rp_vrt_band *vb = &vrt->bands[bi->band - 1];
    if (!vb->direct)
        snprintf(sb->why, sizeof sb->why, "%s", vb->reason);
    else if (bi->read_mask)
        snprintf(sb->why, sizeof sb->why, "band %d has a mask", bi->band);
    else if (vb->type != bi->type)
        snprintf(sb->why, sizeof sb->why, "band %d: its XML type differs from GDAL's", bi->band);
    else if (vb->nsources >= RP_NO_SOURCE)
        snprintf(sb->why, sizeof sb->why, "band %d has too many sources", bi->band);
    else if (rp_source_index_build(&sb->index, vb, g->width, g->height, MAX_INDEX_ITEMS) != 0)
        snprintf(sb->why, sizeof sb->why, "band %d: its sources overlap too much to index",
                 bi->band);
    else
        sb->vb = vb;
    sb->fill = bi->has_nodata ? rp_band_nodata_as_double(bi) : 0;
}

/* Whether every source block of the direct bands, placed in the mosaic and
 * clipped to its extent, lies inside one step-wide cell along one axis. */
static bool axis_fits(const zonal_sources *zs, const rp_grid *g, int64_t step, bool x) {
    for (int b = 0; b < zs->nbands; b++) {
        const rp_vrt_band *vb = zs->bands[b].vb;
        for (size_t s = 0; vb && s < vb->nsources; s++) {
            const rp_vrt_source *src = &vb->sources[s];
            int64_t x0, y0, x1, y1;
            if (!src->props_known ||
                !rp_source_extent(src, g->width, g->height, &x0, &y0, &x1, &y1))
                continue;
            int64_t lo = x ? x0 : y0, hi = x ? x1 : y1;
            int64_t off = x ? src->dst_x - src->src_x : src->dst_y - src->src_y;
            int64_t bsz = x ? src->block_w : src->block_h;
            for (int64_t m = lo / step + 1; m * step < hi; m++)
                if ((((m * step - off) % bsz) + bsz) % bsz != 0)
                    return false;
        }
    }
    return true;
}

/* The smallest side, a multiple of `block` or of `tile` of at least
 * 256 cells (or block, when larger, up to MAX_BLOCK_SIDE) and at most
 * cap, that fits; 0: none. */
static int64_t choose_side(const zonal_sources *zs, const rp_grid *g, int64_t block, int64_t tile,
                           int64_t cap, bool x) {
    int64_t units[2] = {block, tile}, best = 0;
    for (int u = 0; u < 2; u++) {
        if (units[u] <= 0)
            continue;
        int64_t k = units[u] >= 256 ? 1 : (256 + units[u] - 1) / units[u];
        for (; k * units[u] <= cap || (u == 0 && k == 1 && units[u] <= MAX_BLOCK_SIDE); k++)
            if (axis_fits(zs, g, k * units[u], x)) {
                if (!best || k * units[u] < best)
                    best = k * units[u];
                break;
            }
    }
    return best;
}

bool zonal_sources_aligned(const zonal_sources *zs, const rp_grid *g) {
    return axis_fits(zs, g, g->block_w, true) && axis_fits(zs, g, g->block_h, false);
}

/* The first source with known properties of the first direct band (its
 * properties learnt from the file when its XML lacks them). */
static const rp_vrt_source *first_source(zonal_sources *zs) {
    for (int b = 0; b < zs->nbands; b++) {
        rp_vrt_band *vb = zs->bands[b].vb;
        for (size_t s = 0; vb && s < vb->nsources; s++) {
            char why[16];
            if (vb->sources[s].props_known || rp_vrt_source_props(&vb->sources[s], why, sizeof why))
                return &vb->sources[s];
        }
    }
    return NULL;
}

/* The grid of the job when the first raster is a VRT read from its
 * sources: blocks each source block lies inside. */
static rp_status choose_grid(zonal_sources *zs, zonal_raster *r, rp_error *err) {
    rp_grid *g = &r->info.grid;
    zs->vrt_block_w = g->block_w;
    zs->vrt_block_h = g->block_h;
    const rp_vrt_source *s0 = first_source(zs);
    if (!s0)
        return RP_OK;
    int64_t cap = zs->remote ? MAX_SIDE_REMOTE : MAX_SIDE;
    int64_t bw = choose_side(zs, g, s0->block_w, s0->w, cap, true);
    int64_t bh = choose_side(zs, g, s0->block_h, s0->h, cap, false);
    if (!bw || !bh || bw * bh > MAX_CELLS) {         /* no grid holds each source block: */
        bw = s0->block_w <= cap ? s0->block_w : cap; /* some are read more than once */
        bh = s0->block_h <= cap ? s0->block_h : cap;
    }
    rp_grid ng;
    if (!rp_grid_init(&ng, g->gt, g->width, g->height, bw, bh))
        return rp_error_set(err, RP_USAGE, "%s: cannot lay a %lldx%lld block grid on it",
                            r->info.path, (long long)bw, (long long)bh);
    *g = ng;
    return RP_OK;
}

/* Whether some band of r is of raster k of the options. */
static bool has_raster(const zonal_raster *r, int k) {
    for (int b = 0; b < r->nbands; b++)
        if (r->band_src[b] == k)
            return true;
    return false;
}

rp_status zonal_sources_open(const rp_zonal_options *o, zonal_raster *r, rp_error *err) {
    zonal_sources *zs = calloc(1, sizeof *zs);
    r->sources = zs;
    if (!zs)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    int npaths = o->nrasters + 1;
    zs->nvrts = npaths;
    zs->nbands = r->nbands + 1;
    zs->vrts = calloc((size_t)npaths, sizeof *zs->vrts);
    zs->bands = calloc((size_t)zs->nbands, sizeof *zs->bands);
    if (!zs->vrts || !zs->bands)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    atomic_init(&zs->src_blocks_read, 0);
    /* r may be one grid's view (zonal_raster_view): its bands are those of
     * some rasters, and its info is the first of them's */
    int first = r->nbands > 0 ? r->band_src[0] : 0;
    for (int k = 0; k < npaths; k++) {
        const char *path = k < o->nrasters ? o->rasters[k] : o->weights_path;
        if (!path || (k == o->nrasters && !r->has_weights) ||
            (k < o->nrasters && !has_raster(r, k)))
            continue;
        zs->remote = zs->remote || rp_path_is_remote(path);
        const rp_raster_info *info = k == first ? &r->info : k == o->nrasters ? &r->winfo : NULL;
        bool is_vrt = info ? info->driver && strcmp(info->driver, "VRT") == 0
                           : GDALIdentifyDriver(path, NULL) == GDALGetDriverByName("VRT");
        char why[256];
        zs->vrts[k] = is_vrt ? rp_vrt_read(path, why, sizeof why) : NULL;
        zs->remote = zs->remote || (zs->vrts[k] && zs->vrts[k]->remote);
    }
    for (int b = 0; b < zs->nbands; b++) {
        bool weights = b == r->nbands;
        rp_vrt *vrt = zs->vrts[weights ? o->nrasters : r->band_src[b]];
        if (vrt && (!weights || r->has_weights))
            survey_band(&zs->bands[b], vrt, weights ? &r->wband : &r->bands[b], &r->info.grid);
        zs->any_direct = zs->any_direct || zs->bands[b].vb;
    }
    bool first_direct = false;
    for (int b = 0; b < r->nbands; b++)
        first_direct = first_direct || (r->band_src[b] == first && zs->bands[b].vb);
    return first_direct ? choose_grid(zs, r, err) : RP_OK;
}

void zonal_sources_free(zonal_sources *zs) {
    if (!zs)
        return;
    for (int b = 0; b < zs->nbands && zs->bands; b++)
        rp_source_index_free(&zs->bands[b].index);
    free(zs->bands);
    for (int k = 0; k < zs->nvrts && zs->vrts; k++)
        rp_vrt_free(zs->vrts[k]);
    free(zs->vrts);
    free(zs);
}
