/*
 * zonal_read.c — a worker's read of one window of the job's grid: every
 * band (and its mask) and the weights, as doubles, valid cells marked.
 * The window is one block, or for remote rasters a run of horizontally
 * adjacent touched blocks read with one RasterIO a band, so GDAL merges
 * their tiles' range requests into one GET (zonal_exec.c makes the runs).
 * A VRT band whose sources are 1:1 copies is composited from its source
 * files (zonal_sources_read.c); any other band is read through GDAL: one
 * block whose size is the grid's with GDALReadBlock (no block cache),
 * anything else with RasterIO. Every read goes through rp_read_retrying
 * (lib/read: a remote read that fails, or that succeeds after a dropped
 * connection, is tried again on a fresh handle).
 *
 * Threads: any pool worker, with its own rp_read_worker (handles never
 * cross threads).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pixel.h"
#include "remote.h"
#include "sysinfo.h"
#include "zonal_read.h"

int zonal_read_threads(const rp_zonal_options *o, const zonal_raster *r) {
    if (o->threads > 0)
        return o->threads;
    if (r->sources && r->sources->remote)
        return RP_READ_IO_THREADS;
    return rp_usable_cpus();
}

/* One band's read through GDAL. */
typedef struct gdal_read {
    const rp_band_info *bi;
    const rp_grid *g;
    const zonal_window *at;
    void *native;
    double *vals;
    uint8_t *mask; /* the mask's bytes when bi->read_mask, else NULL */
} gdal_read;

static CPLErr read_gdal(GDALRasterBandH band, rp_read_worker *rw, void *ctx) {
    (void)rw;
    const gdal_read *q = ctx;
    const rp_band_info *bi = q->bi;
    const zonal_window *at = q->at;
    int bw = at->w, bh = at->h;
    CPLErr e;
    if (at->nbx == 1 && bi->block_w == q->g->block_w && bi->block_h == q->g->block_h) {
        e = GDALReadBlock(band, (int)at->bx, (int)at->by, q->native);
        for (int y = 0; y < bh && e == CE_None; y++)
            GDALCopyWords64((unsigned char *)q->native +
                                (size_t)y * (size_t)q->g->block_w * (size_t)bi->type_size,
                            bi->type, bi->type_size, q->vals + (size_t)y * (size_t)bw, GDT_Float64,
                            8, bw);
    } else {
        e = GDALRasterIO(band, GF_Read, at->x0, at->y0, bw, bh, q->vals, bw, bh, GDT_Float64, 0, 0);
    }
    if (e == CE_None && q->mask)
        e = GDALRasterIO(GDALGetMaskBand(band), GF_Read, at->x0, at->y0, bw, bh, q->mask, bw, bh,
                         GDT_Byte, 0, 0);
    return e;
}

/* Marks the valid cells of a band read as doubles (not NaN, not nodata,
 * not masked), after taking a SIGNEDBYTE band's bytes as signed. */
static void mark_valid(const rp_band_info *bi, double *vals, const uint8_t *mask, uint8_t *valid,
                       size_t n) {
    if (bi->value_type == RP_GDT_INT8) /* PIXELTYPE=SIGNEDBYTE: GDAL 3.6 gave 0..255 */
        for (size_t i = 0; i < n; i++)
            vals[i] = vals[i] >= 128 ? vals[i] - 256 : vals[i];
    double nd = rp_band_nodata_as_double(bi);
    for (size_t i = 0; i < n; i++)
        valid[i] = !isnan(vals[i]) && !(bi->has_nodata && vals[i] == nd) && (!mask || mask[i]);
}

/* Band b (r->nbands: the weights) of the window into vals and valid. */
static bool read_one(const rp_zonal_options *o, const zonal_raster *r, rp_read_worker *rw,
                     void *native, const zonal_window *at, int b, double *vals, uint8_t *valid) {
    bool weights = b == r->nbands;
    const rp_band_info *bi = weights ? &r->wband : &r->bands[b];
    const char *path = weights ? o->weights_path : o->rasters[r->band_src[b]];
    size_t n = (size_t)at->w * (size_t)at->h;
    zonal_sources *zs = r->sources;
    if (zs && zs->bands[b].vb) {
        if (!zonal_sources_read(zs, b, bi, rw, native, at->x0, at->y0, at->w, at->h, vals))
            return false;
        mark_valid(bi, vals, NULL, valid, n);
        return true;
    }
    uint8_t *mask = bi->read_mask ? malloc(n) : NULL;
    if (bi->read_mask && !mask) {
        snprintf(rw->why, sizeof rw->why, "out of memory");
        return false;
    }
    gdal_read q = {bi, &r->info.grid, at, native, vals, mask};
    bool ok = rp_read_retrying(rw, path, bi->band, read_gdal, &q);
    if (ok)
        mark_valid(bi, vals, mask, valid, n);
    free(mask);
    return ok;
}

bool zonal_read_window(const rp_zonal_options *o, const zonal_raster *r, rp_read_worker *rw,
                       void *native, const zonal_window *at, double *vals, double *weights,
                       uint8_t *valid, char *why, size_t wsize) {
    size_t cells = (size_t)at->w * (size_t)at->h;
    for (int b = 0; b <= r->nbands; b++) {
        if (b == r->nbands && !r->has_weights)
            break;
        double *v = b == r->nbands ? weights : vals + cells * (size_t)b;
        if (!read_one(o, r, rw, native, at, b, v, valid + cells * (size_t)b)) {
            snprintf(why, wsize, "%s", rw->why[0] ? rw->why : "read failed");
            return false;
        }
    }
    return true;
}
