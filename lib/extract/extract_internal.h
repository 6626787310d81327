/*
 * extract_internal.h — the extract job's pieces: its options, the value
 * columns it fills, the per-raster metadata it plans with, and the reader
 * that executes a plan.
 */
#ifndef RP_EXTRACT_INTERNAL_H
#define RP_EXTRACT_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <gdal.h>
#include <ogr_srs_api.h>

#include "columns.h"
#include "gdal_config.h"
#include "grid.h"
#include "log.h"
#include "plan.h"
#include "raster_info.h"
#include "rasterpool.h"

struct rp_extract_options {
    char **rasters;
    int nrasters;
    int *bands; /* 1-based; NULL: all */
    int nbands;
    char *points_path; /* NULL: stdin */
    char *output_path; /* NULL: stdout */
    char *x_col, *y_col, *layer;
    char *points_crs;
    char **config; /* KEY, VALUE pairs, NULL-terminated list */
    int nconfig;
    int threads; /* <= 0: usable CPUs */
    int max_open_per_worker;
    bool status_column;
    bool plan_only;
    int io_threads; /* workers for jobs that read remote files; <= 0: default */
    bool remote;    /* the job reads remote files (set by the job; remote.c) */
    rp_progress_fn progress;
    void *progress_user;
    FILE *log;      /* warnings: stderr, a stream of logger, or NULL (silent) */
    FILE *info;     /* the -v summary: a stream of logger, or NULL */
    rp_log *logger; /* the caller's rp_log_fn behind log and info; NULL: none */
};

/* Executes one raster's plan: reads every touched block once on the pool's
 * workers and scatters values into the columns for that raster. Blocks that
 * cannot be read fail only their points (status error); the first few such
 * failures are written to log. */
typedef struct rp_extract_read_stats {
    uint64_t blocks_read, blocks_failed;
} rp_extract_read_stats;

struct rp_pool;
rp_status rp_extract_read_plan(struct rp_pool *pool, const rp_raster_info *raster,
                               const rp_plan *plan, rp_value_column *const *columns, int ncolumns,
                               const rp_extract_options *opts, rp_extract_read_stats *stats,
                               rp_error *err);

/* Whether the pixel at p equals the band's nodata value. */
bool rp_band_is_nodata(const rp_band_info *b, const unsigned char *p);

/* Reads one raster's columns: bands of a VRT whose sources are plain 1:1
 * copies are read from the source files directly (source_read.c), the
 * others through GDAL (rp_extract_read_plan). Same contract as that. */
rp_status rp_extract_read_raster(struct rp_pool *pool, const rp_raster_info *raster,
                                 const rp_plan *plan, rp_value_column *const *columns, int ncolumns,
                                 const rp_extract_options *opts, rp_extract_read_stats *stats,
                                 rp_error *err);

/* Reads a VRT raster's XML into info->vrt (or the reason it cannot be
 * planned into info->vrt_why). Nothing for other drivers. */
void rp_extract_load_vrt(rp_raster_info *info);

/* --plan: how each of a VRT raster's columns would be read (sources read
 * directly, files touched; or why it goes through GDAL's VRT reader).
 * Opens source files whose XML lacks their size. Nothing for other
 * rasters. */
void rp_extract_print_vrt_plan(FILE *out, const rp_raster_info *raster, const rp_plan *plan,
                               rp_value_column *const *columns, int ncolumns);


/* --- the engine shared by rp_extract_run and rp_extract_points ----------- */

/* The rasters of a job, their metadata and the value columns, opened and
 * checked before any pixel is read. */
typedef struct rp_extract_setup {
    rp_raster_info *rasters;
    int nrasters;
    rp_value_column *columns; /* in (raster, band) order */
    int ncolumns;
} rp_extract_setup;

/* Reads every raster's metadata and builds the columns (names, band info).
 * bands/nbands: the bands to read from each raster (NULL: all). */
rp_status rp_extract_setup_init(rp_extract_setup *setup, char *const *rasters, int nrasters,
                                const int *bands, int nbands, rp_error *err);
void rp_extract_setup_free(rp_extract_setup *setup);

/* Whether a raster of the setup, or a source of a VRT among them, is a
 * remote file (remote.c). */
bool rp_extract_setup_remote(const rp_extract_setup *setup);

/* Allocates the columns' value and status arrays for n points. */
rp_status rp_extract_setup_alloc(rp_extract_setup *setup, size_t n, rp_error *err);

/* Reads all columns at n points given in points_srs (NULL: each raster's
 * own CRS). Points flagged in `bad` (may be NULL) get status error. */
rp_status rp_extract_execute(rp_extract_setup *setup, struct rp_pool *pool, const double *x,
                             const double *y, const uint8_t *bad, size_t n,
                             OGRSpatialReferenceH points_srs, const rp_extract_options *opts,
                             rp_extract_read_stats *stats, rp_error *err);

#endif
