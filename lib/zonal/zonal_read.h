/*
 * zonal_read.h — how zonal's workers read the pixels of a window of the
 * job's grid (zonal_read.c): each band, its mask and the weights, as
 * doubles with their valid cells marked. A VRT band whose sources are
 * plain 1:1 copies is read from its source files (zonal_sources.c,
 * zonal_sources_read.c, zonal_sources_paint.c), every
 * other band through GDAL; remote rasters in runs of adjacent blocks.
 */
#ifndef RP_ZONAL_READ_H
#define RP_ZONAL_READ_H
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "read_common.h"
#include "vrt_plan.h"
#include "vrt_xml.h"
#include "zonal_internal.h"

/* Source blocks larger than this are read with RasterIO, piece by piece. */
#define ZONAL_MAX_SRC_BLOCK_BYTES ((size_t)16 << 20)

/* One band (or the weights) as the readers see it. */
typedef struct zonal_src_band {
    rp_vrt_band *vb;       /* read from its source files; NULL: through GDAL */
    rp_source_index index; /* vb's sources over the grid */
    double fill;           /* a cell no source paints: the VRT's nodata, or 0 (as GDAL) */
    char why[256];         /* a VRT band read through GDAL: why */
} zonal_src_band;

/* The job's reading state, built on the caller's thread before planning
 * (zonal_sources_open), completed after it (zonal_sources_prepare), then
 * read-only for the workers but for the counters. */
typedef struct zonal_sources {
    rp_vrt **vrts; /* per raster path (nrasters, then the weights), or NULL */
    int nvrts;
    zonal_src_band *bands;            /* the zonal bands, then the weights (nbands + 1) */
    int nbands;                       /* r->nbands + 1 */
    bool any_direct;                  /* some band is read from its source files */
    bool remote;                      /* a raster or a source is remote: I/O workers, runs */
    int64_t vrt_block_w, vrt_block_h; /* the first raster's own blocks, before the choice */
    bool aligned;                     /* every touched source block lies in one grid block */
    size_t src_block_bytes; /* the largest source block read whole (the worker's buffer) */
    int max_open;           /* source files a worker keeps open */
    /* zonal_sources_prepare: what the plan touches */
    size_t sources_touched, files_touched, sources_failed;
    uint64_t src_blocks_touched;
    size_t run_len;                        /* blocks a remote run may hold (1: none) */
    atomic_uint_least64_t src_blocks_read; /* by the workers */
} zonal_sources;

/* For one grid's view of the rasters (zonal_raster_view), before it is
 * planned: reads the VRTs' XML, decides per band whether it is read from
 * its source files, and when the view's first raster is such a VRT,
 * chooses its block grid (r->info.grid) so that each source block lies inside
 * one grid block (a multiple of the sources' block size, or of their
 * tile size, up to 1024 cells a side, 512 for remote sources; a source
 * block wider than that, up to 4096, is one grid block; at most 2^20
 * cells a grid block). Sets
 * r->sources. */
rp_status zonal_sources_open(const rp_zonal_options *o, zonal_raster *r, rp_error *err);
/* Whether every source block of the bands read from their sources (of
 * those whose sizes are known) lies inside one block of grid g. */
bool zonal_sources_aligned(const zonal_sources *zs, const rp_grid *g);
/* After planning, on the caller's thread: opens the touched sources whose
 * XML lacks their sizes, counts touched sources, files and source blocks,
 * and the remote run length. */
rp_status zonal_sources_prepare(const rp_zonal_options *o, zonal_raster *r, const zonal_plan *plan,
                                rp_error *err);
/* The --plan lines about VRT bands and remote reads. */
void zonal_sources_print(const rp_zonal_options *o, const zonal_raster *r, FILE *out);
void zonal_sources_free(zonal_sources *s);

/* Composites band b's window [x0, x0 + w) x [y0, y0 + h) from its source
 * files into vals (w a row, as doubles): sources in painter's order,
 * NODATA pixels transparent, gaps the fill value. native: a buffer of at
 * least w * h * 16 bytes. false with rw->why (naming the source). Any
 * worker thread. */
bool zonal_sources_read(zonal_sources *s, int b, const rp_band_info *bi, rp_read_worker *rw,
                        void *native, int64_t x0, int64_t y0, int w, int h, double *vals);

/* The sources of sb whose index buckets meet [x0, x1) x [y0, y1), in
 * ascending (painter's) order, into *list (grown with realloc). Returns
 * the count, or (size_t)-1 when memory runs out. */
size_t zonal_window_sources(const zonal_src_band *sb, int64_t x0, int64_t y0, int64_t x1,
                            int64_t y1, uint32_t **list, size_t *cap);
/* A source's part of the window [wx0, wx1) x [wy0, wy1) on a VRT of
 * width x height: part = {x0, y0, x1, y1}; false when they do not meet. */
bool zonal_source_part(const rp_vrt_source *src, int64_t width, int64_t height, int64_t wx0,
                       int64_t wy0, int64_t wx1, int64_t wy1, int64_t part[4]);

/* A window of the grid: blocks [bx, bx + nbx) of block row by, at
 * [x0, x0 + w) x [y0, y0 + h). */
typedef struct zonal_window {
    int64_t bx, by, nbx;
    int x0, y0, w, h;
} zonal_window;

/* Reads every band of the window (planes of w * h cells: vals and valid
 * per band, then the weights' valid), and the weights. false with why. */
bool zonal_read_window(const rp_zonal_options *o, const zonal_raster *r, rp_read_worker *rw,
                       void *native, const zonal_window *at, double *vals, double *weights,
                       uint8_t *valid, char *why, size_t wsize);

/* Pool workers for the job: --threads, or for remote reads (no --threads)
 * RP_READ_IO_THREADS. */
int zonal_read_threads(const rp_zonal_options *o, const zonal_raster *r);

#endif
