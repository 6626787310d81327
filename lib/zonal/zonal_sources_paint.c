/*
 * zonal_sources_paint.c — a worker composites one window of the grid from
 * a VRT band's source files, as GDAL's VRT driver paints it: the window
 * starts as the fill value (the VRT's nodata, or 0), then each source that
 * meets it, in the XML's order (later ones on top), paints its pixels; a
 * pixel equal to a ComplexSource's NODATA is transparent. Each source
 * block under the window is read once, with GDALReadBlock from the
 * worker's own handle of its file when the file's blocks and type are as
 * planned, else with RasterIO over the piece (zonal_sources.c has the
 * design).
 *
 * Threads: any pool worker; reads the rp_vrt and the index only, counts
 * decoded source blocks in an atomic.
 */
#include <stdlib.h>
#include <string.h>

#include "pixel.h"
#include "zonal_read.h"

/* One source's part of a window, being painted into vals. */
typedef struct composite {
    zonal_sources *zs;
    const rp_vrt_source *src;
    const rp_band_info *bi;
    void *native;
    int64_t part[4]; /* [x0, y0, x1, y1) in VRT cells */
    int64_t x0, y0;  /* the window's first cell */
    int w;           /* its width: vals' row */
    double *vals;
} composite;

/* Paints n pixels of the band's type onto dst (doubles); a pixel equal to
 * the source's NODATA is transparent. */
static void paint_row(const composite *c, const unsigned char *p, double *dst, size_t n) {
    GDALDataType t = c->bi->type;
    int ts = c->bi->type_size;
    if (!c->src->has_nodata) {
        GDALCopyWords64(p, t, ts, dst, GDT_Float64, 8, (GPtrDiff_t)n);
        return;
    }
    for (size_t i = 0; i < n; i++, p += ts)
        if (!rp_pixel_is_source_nodata(c->bi->value_type, p, c->src->nodata))
            GDALCopyWords64(p, t, 0, dst + i, GDT_Float64, 0, 1);
}

/* Source block (bx, by)'s piece [ax0, ax1) x [ay0, ay1) (source pixels):
 * its first pixel and row stride, read into the worker's buffers. */
static CPLErr read_piece(const composite *c, GDALRasterBandH band, rp_read_worker *rw, bool whole,
                         const int64_t a[4], int64_t bx, int64_t by, const unsigned char **base,
                         size_t *stride) {
    const rp_vrt_source *src = c->src;
    size_t ts = (size_t)c->bi->type_size;
    if (whole) {
        if (GDALReadBlock(band, (int)bx, (int)by, rw->block) != CE_None)
            return CE_Failure;
        *base = rw->block + ((size_t)(a[1] - by * src->block_h) * (size_t)src->block_w +
                             (size_t)(a[0] - bx * src->block_w)) *
                                ts;
        *stride = (size_t)src->block_w * ts;
        return CE_None;
    }
    int pw = (int)(a[2] - a[0]), ph = (int)(a[3] - a[1]);
    *base = c->native;
    *stride = (size_t)pw * ts;
    return GDALRasterIO(band, GF_Read, (int)a[0], (int)a[1], pw, ph, c->native, pw, ph, c->bi->type,
                        0, 0);
}

/* Reads the source blocks under the part and paints them. */
static CPLErr read_part(GDALRasterBandH band, rp_read_worker *rw, void *ctx) {
    composite *c = ctx;
    const rp_vrt_source *src = c->src;
    int fbw = 0, fbh = 0;
    GDALGetBlockSize(band, &fbw, &fbh);
    int64_t bw = src->block_w, bh = src->block_h;
    bool whole = fbw == bw && fbh == bh && GDALGetRasterDataType(band) == c->bi->type &&
                 (size_t)bw * (size_t)bh * (size_t)c->bi->type_size <= c->zs->src_block_bytes;
    int64_t dx = src->src_x - src->dst_x, dy = src->src_y - src->dst_y;
    int64_t sx0 = c->part[0] + dx, sy0 = c->part[1] + dy;
    int64_t sx1 = c->part[2] + dx, sy1 = c->part[3] + dy;
    for (int64_t by = sy0 / bh; by <= (sy1 - 1) / bh; by++)
        for (int64_t bx = sx0 / bw; bx <= (sx1 - 1) / bw; bx++) {
            int64_t a[4] = {bx * bw > sx0 ? bx * bw : sx0, by * bh > sy0 ? by * bh : sy0,
                            (bx + 1) * bw < sx1 ? (bx + 1) * bw : sx1,
                            (by + 1) * bh < sy1 ? (by + 1) * bh : sy1};
            const unsigned char *base;
            size_t stride;
            if (read_piece(c, band, rw, whole, a, bx, by, &base, &stride) != CE_None)
                return CE_Failure;
            atomic_fetch_add(&c->zs->src_blocks_read, 1);
            for (int64_t y = a[1]; y < a[3]; y++)
                paint_row(c, base + (size_t)(y - a[1]) * stride,
                          c->vals + (size_t)(y - dy - c->y0) * (size_t)c->w +
                              (size_t)(a[0] - dx - c->x0),
                          (size_t)(a[2] - a[0]));
        }
    return CE_None;
}

/* Opens nothing more: rp_read_retrying has opened the file by now. */
static CPLErr open_only(GDALRasterBandH band, rp_read_worker *rw, void *ctx) {
    (void)band;
    (void)rw;
    (void)ctx;
    return CE_Failure;
}

/* Paints one source; false with rw->why naming it. */
static bool paint_source(composite *c, rp_read_worker *rw) {
    const rp_vrt_source *src = c->src;
    bool ok = false;
    if (src->props_known) {
        ok = rp_read_retrying(rw, src->path, src->band, read_part, c);
    } else { /* it could not be opened when planned: again, for the reason */
        rp_read_retrying(rw, src->path, src->band, open_only, NULL);
        if (!rw->open_failed)
            snprintf(rw->why, sizeof rw->why, "could not be opened when planned");
    }
    if (!ok) {
        char why[sizeof rw->why];
        memcpy(why, rw->why, sizeof why);
        if (!why[0])
            snprintf(why, sizeof why, "cannot be opened");
        if (strncmp(why, src->path, strlen(src->path)) == 0) /* "PATH: cannot open: ..." */
            snprintf(rw->why, sizeof rw->why, "source %.1000s", why);
        else
            snprintf(rw->why, sizeof rw->why, "source %.180s: %.800s", src->path, why);
    }
    return ok;
}

bool zonal_sources_read(zonal_sources *zs, int b, const rp_band_info *bi, rp_read_worker *rw,
                        void *native, int64_t x0, int64_t y0, int w, int h, double *vals) {
    const zonal_src_band *sb = &zs->bands[b];
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++)
        vals[i] = sb->fill;
    uint32_t *list = NULL;
    size_t cap = 0;
    size_t n = zonal_window_sources(sb, x0, y0, x0 + w, y0 + h, &list, &cap);
    bool ok = n != (size_t)-1;
    if (!ok)
        snprintf(rw->why, sizeof rw->why, "out of memory");
    for (size_t i = 0; ok && i < n; i++) {
        composite c = {.zs = zs,
                       .src = &sb->vb->sources[list[i]],
                       .bi = bi,
                       .native = native,
                       .x0 = x0,
                       .y0 = y0,
                       .w = w,
                       .vals = vals};
        if (zonal_source_part(c.src, sb->index.width, sb->index.height, x0, y0, x0 + w, y0 + h,
                              c.part))
            ok = paint_source(&c, rw);
    }
    free(list);
    return ok;
}
