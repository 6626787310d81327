/*
 * zonal_sources_read.c — the second half of zonal over VRT mosaics
 * (zonal_sources.c has the design): after planning, the touched sources
 * and source blocks (zonal_sources_prepare, the --plan lines), and a
 * worker's compositing of one grid window from the source files
 * (zonal_sources_read).
 *
 * Threads: prepare and print on the caller's thread; zonal_sources_read on
 * any worker, with its own handles; it only reads the rp_vrt and counts
 * decoded source blocks in an atomic.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_vsi.h>

#include "error.h"
#include "pixel.h"
#include "remote.h"
#include "zonal_read.h"

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

size_t zonal_window_sources(const zonal_src_band *sb, int64_t x0, int64_t y0, int64_t x1,
                            int64_t y1, uint32_t **list, size_t *cap) {
    const rp_source_index *ix = &sb->index;
    size_t n = 0;
    for (int64_t by = y0 / ix->cell_h; by <= (y1 - 1) / ix->cell_h && by < ix->ny; by++)
        for (int64_t bx = x0 / ix->cell_w; bx <= (x1 - 1) / ix->cell_w && bx < ix->nx; bx++) {
            size_t b = (size_t)(by * ix->nx + bx);
            for (uint64_t k = ix->start[b]; k < ix->start[b + 1]; k++) {
                if (n == *cap) {
                    size_t nc = *cap ? 2 * *cap : 64;
                    uint32_t *grown = realloc(*list, nc * sizeof *grown);
                    if (!grown)
                        return (size_t)-1;
                    *list = grown;
                    *cap = nc;
                }
                (*list)[n++] = ix->items[k];
            }
        }
    if (n)
        qsort(*list, n, sizeof **list, cmp_u32);
    size_t u = 0;
    for (size_t k = 0; k < n; k++)
        if (u == 0 || (*list)[u - 1] != (*list)[k])
            (*list)[u++] = (*list)[k];
    return u;
}

/* (zonal_read.h) */
bool zonal_source_part(const rp_vrt_source *src, int64_t width, int64_t height, int64_t wx0,
                       int64_t wy0, int64_t wx1, int64_t wy1, int64_t part[4]) {
    int64_t x0, y0, x1, y1;
    if (!rp_source_extent(src, width, height, &x0, &y0, &x1, &y1))
        return false;
    part[0] = x0 > wx0 ? x0 : wx0;
    part[1] = y0 > wy0 ? y0 : wy0;
    part[2] = x1 < wx1 ? x1 : wx1;
    part[3] = y1 < wy1 ? y1 : wy1;
    return part[0] < part[2] && part[1] < part[3];
}

typedef struct block_key {
    uint32_t band, source;
    int64_t bx, by;
} block_key;

static int cmp_block_key(const void *pa, const void *pb) {
    const block_key *a = pa, *b = pb;
    if (a->band != b->band)
        return a->band < b->band ? -1 : 1;
    if (a->source != b->source)
        return a->source < b->source ? -1 : 1;
    if (a->by != b->by)
        return a->by < b->by ? -1 : 1;
    return a->bx < b->bx ? -1 : a->bx > b->bx;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A growing array of block keys. */
typedef struct key_list {
    block_key *keys;
    size_t n, cap;
} key_list;

/* Appends the source blocks of src under part. */
static bool add_block_keys(key_list *kl, uint32_t band, uint32_t s, const rp_vrt_source *src,
                           const int64_t part[4]) {
    int64_t sx0 = part[0] - src->dst_x + src->src_x, sx1 = part[2] - src->dst_x + src->src_x;
    int64_t sy0 = part[1] - src->dst_y + src->src_y, sy1 = part[3] - src->dst_y + src->src_y;
    for (int64_t by = sy0 / src->block_h; by <= (sy1 - 1) / src->block_h; by++)
        for (int64_t bx = sx0 / src->block_w; bx <= (sx1 - 1) / src->block_w; bx++) {
            if (kl->n == kl->cap) {
                size_t nc = kl->cap ? 2 * kl->cap : 1024;
                block_key *grown = realloc(kl->keys, nc * sizeof *grown);
                if (!grown)
                    return false;
                kl->keys = grown;
                kl->cap = nc;
            }
            kl->keys[kl->n++] = (block_key){band, s, bx, by};
        }
    return true;
}

/* Whether a local source file is there (one open; remote ones are not
 * asked before they are read). */
static bool source_exists(const char *path) {
    VSILFILE *f = VSIFOpenL(path, "rb");
    if (f)
        VSIFCloseL(f);
    return f != NULL;
}

/* One source under plan window k of band b: its properties learnt (it
 * may be clipped away, or fail to open); a type other than the band's
 * sends the band to GDAL (false in *direct); its blocks to kl. */
static bool prepare_source(zonal_sources *zs, int b, const rp_band_info *bi, const rp_grid *g,
                           rp_vrt_source *src, uint32_t s, const int64_t win[4], key_list *kl,
                           bool *direct) {
    zonal_src_band *sb = &zs->bands[b];
    char why[16];
    if (!src->props_known && !src->props_failed)
        rp_vrt_source_props(src, why, sizeof why);
    else if (src->props_known && !rp_path_is_remote(src->path) && !source_exists(src->path))
        src->props_failed = true; /* its sizes came from the XML; the file is gone */
    int64_t part[4];
    if (src->props_failed ||
        !zonal_source_part(src, g->width, g->height, win[0], win[1], win[2], win[3], part))
        return true;
    if (src->type != bi->type) {
        snprintf(sb->why, sizeof sb->why,
                 "band %d: source %s is %s, the band %s (values are converted)", bi->band,
                 src->path, GDALGetDataTypeName(src->type), GDALGetDataTypeName(bi->type));
        *direct = false;
        return true;
    }
    size_t bytes = (size_t)src->block_w * (size_t)src->block_h * (size_t)bi->type_size;
    if (bytes <= ZONAL_MAX_SRC_BLOCK_BYTES && bytes > zs->src_block_bytes)
        zs->src_block_bytes = bytes;
    return add_block_keys(kl, (uint32_t)b, s, src, part);
}

/* One band's touched sources, over every window of the plan. */
static bool prepare_band(zonal_sources *zs, int b, const rp_band_info *bi, const rp_grid *g,
                         const zonal_plan *plan, key_list *kl) {
    zonal_src_band *sb = &zs->bands[b];
    uint32_t *list = NULL;
    size_t cap = 0, first_key = kl->n;
    bool ok = true, direct = true;
    for (size_t k = 0; k < plan->nblocks && ok && direct; k++) {
        int64_t win[4] = {plan->blocks[k].bx * g->block_w, plan->blocks[k].by * g->block_h, 0, 0};
        win[2] = win[0] + g->block_w < g->width ? win[0] + g->block_w : g->width;
        win[3] = win[1] + g->block_h < g->height ? win[1] + g->block_h : g->height;
        size_t n = zonal_window_sources(sb, win[0], win[1], win[2], win[3], &list, &cap);
        ok = n != (size_t)-1;
        for (size_t i = 0; ok && direct && i < n; i++)
            ok = prepare_source(zs, b, bi, g, &sb->vb->sources[list[i]], list[i], win, kl, &direct);
    }
    if (!direct) {
        sb->vb = NULL; /* read through GDAL: its keys are not counted */
        kl->n = first_key;
    }
    free(list);
    return ok;
}

/* Counts the distinct touched sources, files and source blocks. */
static bool count_touched(zonal_sources *zs, key_list *kl) {
    block_key *keys = kl->keys;
    size_t n = kl->n;
    if (n)
        qsort(keys, n, sizeof *keys, cmp_block_key);
    const char **paths = malloc((n ? n : 1) * sizeof *paths);
    if (!paths)
        return false;
    size_t np = 0;
    for (size_t k = 0; k < n; k++) {
        bool new_source =
            k == 0 || keys[k].band != keys[k - 1].band || keys[k].source != keys[k - 1].source;
        zs->src_blocks_touched += new_source || cmp_block_key(&keys[k], &keys[k - 1]) != 0;
        if (new_source) {
            zs->sources_touched++;
            paths[np++] = zs->bands[keys[k].band].vb->sources[keys[k].source].path;
        }
    }
    if (np)
        qsort(paths, np, sizeof *paths, cmp_str);
    for (size_t k = 0; k < np; k++)
        zs->files_touched += k == 0 || strcmp(paths[k - 1], paths[k]) != 0;
    free(paths);
    return true;
}

/* Sources of the plan's windows that cannot be opened, each counted once. */
static void count_failed(zonal_sources *zs) {
    for (int b = 0; b < zs->nbands; b++)
        for (size_t s = 0; zs->bands[b].vb && s < zs->bands[b].vb->nsources; s++)
            zs->sources_failed += zs->bands[b].vb->sources[s].props_failed;
}

rp_status zonal_sources_prepare(const rp_zonal_options *o, zonal_raster *r, const zonal_plan *plan,
                                rp_error *err) {
    zonal_sources *zs = r->sources;
    key_list kl = {NULL, 0, 0};
    bool ok = true;
    for (int b = 0; b < zs->nbands && ok; b++) {
        if (!zs->bands[b].vb)
            continue;
        const rp_band_info *bi = b < r->nbands ? &r->bands[b] : &r->wband;
        ok = prepare_band(zs, b, bi, &r->info.grid, plan, &kl);
    }
    zs->any_direct = false;
    for (int b = 0; b < zs->nbands; b++)
        zs->any_direct = zs->any_direct || zs->bands[b].vb;
    count_failed(zs);
    zs->aligned = zonal_sources_aligned(zs, &r->info.grid);
    ok = ok && count_touched(zs, &kl);
    free(kl.keys);
    if (!ok)
        return rp_error_set(err, RP_NOMEM, "out of memory planning the VRT's sources");
    zs->run_len = 1;
    if (zs->remote) {
        size_t cell_bytes = 8 * (size_t)(r->nbands + 1); /* doubles per cell, every band */
        size_t k = rp_read_block_run_length((size_t)(r->info.grid.block_w * r->info.grid.block_h) *
                                            cell_bytes);
        zs->run_len = k > 16 ? 16 : k;
    }
    zs->max_open = rp_read_open_budget(0, zonal_read_threads(o, r));
    return RP_OK;
}

/* The --plan line of band b (r->nbands: the weights) when it is a VRT's. */
static void print_band(const rp_zonal_options *o, const zonal_raster *r, int b, FILE *out) {
    const zonal_sources *zs = r->sources;
    bool weights = b == r->nbands;
    if (weights && !r->has_weights)
        return;
    int k = weights ? o->nrasters : r->band_src[b];
    if (!zs->vrts[k])
        return;
    const char *path = weights ? o->weights_path : o->rasters[k];
    int band = weights ? r->wband.band : r->bands[b].band;
    if (zs->bands[b].vb)
        fprintf(out, "%s%s band %d: read from its source files\n", weights ? "--weights " : "",
                path, band);
    else
        fprintf(out, "%s%s band %d: read through GDAL's VRT driver: %s\n",
                weights ? "--weights " : "", path, band, zs->bands[b].why);
}

void zonal_sources_print(const rp_zonal_options *o, const zonal_raster *r, FILE *out) {
    const zonal_sources *zs = r->sources;
    if (!out || !zs)
        return;
    for (int b = 0; b < zs->nbands; b++)
        print_band(o, r, b, out);
    if (zs->any_direct) {
        fprintf(out,
                "VRT sources touched: %zu in %zu file(s); source blocks touched: %" PRIu64
                " (%s)\n",
                zs->sources_touched, zs->files_touched, zs->src_blocks_touched,
                zs->aligned ? "each decoded once"
                            : "the sources' blocks do not line up with one block grid: a source "
                              "block on a grid block's edge is decoded once per grid block it "
                              "meets");
        if (zs->vrt_block_w &&
            (zs->vrt_block_w != r->info.grid.block_w || zs->vrt_block_h != r->info.grid.block_h))
            fprintf(out,
                    "grid blocks: %" PRId64 " x %" PRId64 " (the VRT's own: %" PRId64 " x %" PRId64
                    "), so that each source block lies in one\n",
                    r->info.grid.block_w, r->info.grid.block_h, zs->vrt_block_w, zs->vrt_block_h);
        if (zs->sources_failed)
            fprintf(out, "sources that cannot be opened: %zu (the polygons on them fail)\n",
                    zs->sources_failed);
    }
    if (zs->remote)
        fprintf(out,
                "remote: %d I/O workers; runs of up to %zu adjacent blocks, each read with one "
                "request\n",
                zonal_read_threads(o, r), zs->run_len);
}
