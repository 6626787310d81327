/*
 * extract_internal.h — the extract job's pieces, in the order a run uses
 * them: options (extract_options.c), the rasters and value columns
 * (extract_setup.c), planning and the --plan report (extract_plan.c),
 * execution and the choice of reader (extract_exec.c) over the two readers
 * (read_blocks.c, read_sources.c, sharing lib/read/read_common.c), writing
 * (extract_write.c), and rp_extract_run (extract.c) / the in-memory API
 * (extract_api.c). The VRT files: lib/read/vrt_xml.c (XML), lib/read/vrt_plan.c (source
 * index, grouping by source block), vrt_survey.c (which columns qualify).
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
#include "sample.h"
#include "shard.h"

struct rp_extract_setup;
struct rp_extract_read_stats;
struct rp_pool;
/* What reads the columns' values at the points in a run: rp_extract_execute,
 * or the MPI farm of lib/mpi (rank 0 hands parts of the points to the other
 * ranks, extract_part.h). Same parameters as rp_extract_execute. */
typedef rp_status (*rp_extract_execute_fn)(void *user, struct rp_extract_setup *setup,
                                           struct rp_pool *pool, const double *x, const double *y,
                                           const uint8_t *bad, size_t n,
                                           OGRSpatialReferenceH points_srs,
                                           const struct rp_extract_options *opts,
                                           struct rp_extract_read_stats *stats, rp_error *err);

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
    FILE *log;                /* warnings: stderr, a stream of logger, or NULL (silent) */
    FILE *info;               /* the -v summary: a stream of logger, or NULL */
    rp_log *logger;           /* the caller's rp_log_fn behind log and info; NULL: none */
    FILE *plan_out;           /* where --plan writes its text; NULL: not written */
    int transformer;          /* --transformer: rp_georef_method (georef.h); 0: unset */
    char **transform_options; /* --to KEY=VALUE, NULL-terminated */
    int ntransform_options;
    bool unscale;    /* --unscale: values * scale + offset, as Float64 */
    bool names_desc; /* --names desc: columns named by band descriptions */
    /* sampling around points (sample.h): --method, --window, --window-stat,
     * --nodata-policy; method nearest and window 0 is the plain extract */
    int method;        /* rp_sample_method */
    int window;        /* N of --window N (odd), 0: none */
    int nodata_policy; /* rp_nodata_policy */
    bool nodata_policy_given;
    int stats[RP_SAMPLE_MAX_STATS];
    int nstats;                    /* --window-stat, in the order given, each once */
    rp_shard shard;                /* --shard I/N; count 0: every point (extract_shard.c) */
    bool part_without_header;      /* CSV output without its header (lib/mpi's later parts) */
    rp_extract_execute_fn execute; /* NULL: rp_extract_execute (lib/mpi sets its farm) */
    void *execute_user;
};

/* --shard I/N (extract_shard.c), after pass 1 read every point: the rows
 * outside the shard's contiguous range are left out of the pixel work (their
 * coordinates become NaN) and of the output (pts->write_lo/write_hi), and
 * pts->nbad counts the shard's rows only. *lo, *hi: the range kept. */
struct rp_points;
void rp_extract_shard_header(const rp_extract_options *opts, struct rp_points *pts);
void rp_extract_shard_points(const rp_shard *shard, struct rp_points *pts, size_t *lo, size_t *hi);

/* Remote reads wait on the network, not on a core: a job that reads remote
 * files runs --io-threads workers (default RP_EXTRACT_IO_THREADS, at most
 * RP_EXTRACT_MAX_IO_THREADS) instead of one a CPU. */
#define RP_EXTRACT_IO_THREADS 32 /* = RP_READ_IO_THREADS (lib/read/read_common.h) */
#define RP_EXTRACT_MAX_IO_THREADS 256

/* Without --io-threads, a remote raster's block read grows the pool to one
 * worker a run of blocks, so that every request of the plan is in flight in
 * one round trip (rounds of 32 cost a latency each), bounded by:
 * - RP_EXTRACT_AUTO_IO_THREADS workers at most (threads and connections);
 * - RP_EXTRACT_IO_BUDGET bytes of block data in flight: a worker holds
 *   about RP_EXTRACT_RUN_COPIES copies of its run at once (GDAL's download
 *   buffer and the GTiff driver's copy of the compressed range, the decoded
 *   blocks in GDAL's block cache until the run's read ends, the worker's
 *   buffer: measured, 50k uniform points at 42 workers of 2 MiB runs took
 *   8 MiB a worker), and the largest runs of the plan are counted, so any
 *   set of runs in flight at once fits.
 * Never fewer than the pool already has, never more than the runs.
 * Only when a round trip is long (RP_EXTRACT_GROW_RTT: half the raster's
 * open time, which held two): each worker's buffers are fresh memory, and
 * at 20 ms a request the page faults of 40 more workers cost 2 shared
 * cores more than the two rounds they save (bench R1, R2: 10-16% slower). */
#define RP_EXTRACT_GROW_RTT 0.05
#define RP_EXTRACT_AUTO_IO_THREADS 128
#define RP_EXTRACT_IO_BUDGET ((size_t)384 << 20)
#define RP_EXTRACT_RUN_COPIES 4
/* The workers a remote read of runs of run_count[0..nruns) blocks of
 * block_bytes each wants under the bounds above, at round trips of
 * round_trip seconds: 0 when it is under RP_EXTRACT_GROW_RTT (keep the
 * pool), else at least 1 when nruns > 0. Pure. */
int rp_extract_io_workers(const size_t *run_count, size_t nruns, size_t block_bytes,
                          double round_trip);

/* Remote reads are grouped into runs of consecutive blocks of one file, one
 * run a pool task: one worker reads a run in file order, so GDAL's
 * /vsicurl/ read-ahead merges neighbouring blocks into fewer requests and
 * each file is opened by fewer workers. The run length for ntasks blocks
 * on threads workers: about two runs a worker, 1 to 16 blocks
 * (extract_exec.c). */
size_t rp_extract_run_length(size_t ntasks, int threads);

/* The block reader's runs on a remote raster (read_blocks.c): runs of
 * horizontally adjacent touched blocks, each read with one RasterIO so
 * GDAL merges its tiles' range requests into one GET. The longest run: as
 * many blocks of block_bytes as RP_EXTRACT_RUN_BYTES holds, at least 1
 * (each worker has a buffer of that size). Runs are not split to give idle
 * workers work: on a latency-bound read, fewer requests in as many rounds
 * is the better trade (a server's per-request costs and rate limits count
 * requests, not bytes). */
#define RP_EXTRACT_RUN_BYTES ((size_t)2 << 20) /* = RP_READ_RUN_BYTES */
size_t rp_extract_block_run_length(size_t block_bytes);

/* Splits plan's blocks (row-major) into runs of horizontally adjacent
 * blocks (same block row, consecutive columns) of at most max_len blocks:
 * run k is blocks [first[k], first[k] + count[k]). first and count hold
 * plan->nblocks entries. Returns the number of runs. Pure. */
size_t rp_extract_block_runs(const rp_plan *plan, size_t max_len, size_t *first, size_t *count);

/* One raster of a job: its metadata, and for a VRT its bands and sources
 * as read from its XML (vrt_xml.h), which the job keeps beside it. */
struct rp_vrt;
typedef struct rp_extract_raster {
    rp_raster_info info;
    struct rp_vrt *vrt; /* a VRT's bands and sources, or NULL */
    char vrt_why[256];  /* a VRT without `vrt`: why it is read through GDAL */
    /* The points' CRS cannot be reached from this raster's: why. Its
     * columns fail (status error); the other rasters are read. */
    char crs_error[1024]; /* as rp_error.message */
    /* seconds the first open waited, its own CPU time left out (remote: a
     * HEAD and the header's GET, so about two round trips; more when a
     * connection was set up or the CPUs were busy) */
    double open_seconds;
} rp_extract_raster;

/* Blocks read and failed by the readers. */
typedef struct rp_extract_read_stats {
    uint64_t blocks_read, blocks_failed;
    uint64_t rasters_failed; /* whose CRS the points could not reach */
    /* NULL, or per raster: the points planned on it are added here, and the
     * warning that none falls on a raster is the caller's (a part of a
     * job: lib/mpi warns once from every part's counts) */
    uint64_t *raster_inside;
} rp_extract_read_stats;

/* The readers. Each executes one raster's plan for some of its columns on
 * the pool's workers and scatters values into those columns; each point
 * index is written by one task. One failure policy (read_common.h): a
 * block or source that cannot be opened or read fails only its points
 * (status error, counted in stats->blocks_failed); the first few failures
 * are written to opts->log. Errors returned stop the job: out of memory,
 * interrupted. */

/* Through GDAL, block by block (read_blocks.c). round_trip: seconds a
 * request of a remote raster takes (its open's time / 2), for the pool's
 * size (rp_extract_io_workers). */
rp_status rp_extract_read_blocks(struct rp_pool *pool, const rp_raster_info *raster,
                                 double round_trip, const rp_plan *plan,
                                 rp_value_column *const *columns, int ncolumns,
                                 const rp_extract_options *opts, rp_extract_read_stats *stats,
                                 rp_error *err);

/* Chooses per column (extract_exec.c): a VRT band whose sources are plain
 * 1:1 copies is read from the source files directly (read_sources.c), the
 * others through GDAL (rp_extract_read_blocks). */
rp_status rp_extract_read_raster(struct rp_pool *pool, const rp_extract_raster *raster,
                                 const rp_plan *plan, rp_value_column *const *columns, int ncolumns,
                                 const rp_extract_options *opts, rp_extract_read_stats *stats,
                                 rp_error *err);

/* --- the engine shared by rp_extract_run and the in-memory API ---------- */

/* The rasters of a job, their metadata and the value columns, opened and
 * checked before any pixel is read (extract_setup.c). */
typedef struct rp_extract_setup {
    rp_extract_raster *rasters;
    int nrasters;
    rp_value_column *columns; /* in (raster, band) order */
    int ncolumns;
    /* sampling (sample_exec.c): the band columns the cells are read for,
     * while `columns` are the output's (one per band, method or stat) */
    const rp_extract_options *sample; /* NULL: plain extract */
    rp_value_column *bands;
    int nbands;
} rp_extract_setup;

/* Reads every raster's metadata (and a VRT's XML) and builds the columns
 * (names, band info). bands/nbands: the bands to read from each raster
 * (NULL: all). */
rp_status rp_extract_setup_init(rp_extract_setup *setup, char *const *rasters, int nrasters,
                                const int *bands, int nbands, rp_error *err);
void rp_extract_setup_free(rp_extract_setup *setup);

/* What the options change in a setup: column names by band description
 * (--names desc); for rasters without a geotransform, how points reach
 * their pixels (--transformer, georef.h): RP_USAGE for one that cannot be
 * sampled as asked (extract_setup.c). */
rp_status rp_extract_setup_options(rp_extract_setup *setup, const rp_extract_options *opts,
                                   rp_error *err);

/* Whether a raster of the setup, or a source of a VRT among them, is a
 * remote file (remote.h). */
bool rp_extract_setup_remote(const rp_extract_setup *setup);

/* Allocates the columns' value and status arrays for n points (status
 * outside until read). */
rp_status rp_extract_setup_alloc(rp_extract_setup *setup, size_t n, rp_error *err);

/* The pool's size for a job: --io-threads when it reads remote files,
 * else --threads (or the usable CPUs). */
int rp_extract_job_threads(const rp_extract_options *opts);

/* Points moved to one raster's CRS, kept for the next raster when it has
 * the same CRS (extract_plan.c). */
typedef struct rp_point_scratch {
    double *x, *y;
    OGRSpatialReferenceH srs; /* the CRS x/y are in (borrowed), or NULL */
    struct rp_pool *pool;     /* plans on it when set (idle then), or NULL */
} rp_point_scratch;
void rp_point_scratch_free(rp_point_scratch *scratch);

/* Plans one raster: the points, transformed to its CRS when it differs from
 * points_srs, grouped by block (extract_plan.c). */
rp_status rp_extract_plan_raster(const rp_raster_info *raster, OGRSpatialReferenceH points_srs,
                                 const double *x, const double *y, size_t n,
                                 rp_point_scratch *scratch, rp_plan *plan, rp_error *err);

/* Before any pixel is read: every needed CRS transformation can be built
 * (the rasters' CRSs, which the setup defers, are read here when the points
 * have one);
 * rasters without a CRS are pointed out on log when points have one. A
 * raster whose CRS cannot be reached gets crs_error and a message on log
 * (its columns will fail, the rest is read); an error only when no raster
 * can be reached. */
rp_status rp_extract_check_transforms(rp_extract_setup *setup, OGRSpatialReferenceH points_srs,
                                      FILE *log, rp_error *err);

/* --plan: what would be read, without reading a pixel, as text on out
 * (extract_plan.c). nbad: rows without coordinates; io_threads: the
 * --io-threads option (<= 0: not given), for remote rasters' round trips.
 * RP_WRITE when out cannot be written. */
rp_status rp_extract_write_plan(FILE *out, const rp_extract_setup *setup, const double *x,
                                const double *y, size_t n, size_t nbad,
                                OGRSpatialReferenceH points_srs, int io_threads, rp_error *err);

/* Reads all columns at n points given in points_srs (NULL: each raster's
 * own CRS), one raster after the other (extract_exec.c). Points flagged in
 * `bad` (may be NULL) get status error. */
rp_status rp_extract_execute(rp_extract_setup *setup, struct rp_pool *pool, const double *x,
                             const double *y, const uint8_t *bad, size_t n,
                             OGRSpatialReferenceH points_srs, const rp_extract_options *opts,
                             rp_extract_read_stats *stats, rp_error *err);

/* The warnings of rp_extract_execute, for callers that split a job into
 * parts (lib/mpi): the number of rows with a usable point (none: says so on
 * log), and that none of nusable points falls on a raster. */
size_t rp_extract_warn_usable(const uint8_t *bad, size_t n, FILE *log);
void rp_extract_warn_no_points(const char *raster, size_t nusable, FILE *log);

/* Writes the point rows with their values to opts->output_path
 * (extract_write.c). */
struct rp_points;
rp_status rp_extract_write_values(const rp_extract_options *opts, const rp_extract_setup *setup,
                                  struct rp_points *pts, OGRSpatialReferenceH points_srs,
                                  struct rp_pool *pool, rp_error *err);
/* --unscale: whether column c is written unscaled (a band with a scale or
 * offset, not complex), and the conversion of such columns' n values to
 * Float64 value * scale + offset once read (extract_exec.c). */
bool rp_extract_unscaled(const rp_extract_options *opts, const rp_value_column *col);
rp_status rp_extract_unscale(rp_extract_setup *setup, size_t n, const rp_extract_options *opts,
                             rp_error *err);
/* The band info a column is written with: Float64 for an unscaled one. */
rp_band_info rp_extract_written_band(const rp_extract_options *opts, const rp_value_column *col);

/* Adds the columns' statuses at n points to the report's value counts. */
void rp_extract_count_statuses(const rp_extract_setup *setup, size_t n, rp_extract_report *rep);

/* --- sampling around points (sample_exec.c, sample_plan.c) ------------ */

/* Whether the options ask for more than the cell's value. */
bool rp_sample_active(const rp_extract_options *opts);

/* After rp_extract_setup_init: with sampling, the band columns move to
 * setup->bands and setup->columns become the output's (the method's value,
 * or one per window statistic, window values one per cell), named after
 * their band column (b1, b1_mean, b1_w3_1, ...). Nothing without. */
rp_status rp_sample_setup(rp_extract_setup *setup, const rp_extract_options *opts, rp_error *err);

/* Reads raster r's kernels around the plan's points (rx, ry: the points in
 * the raster's CRS) and fills its output columns. */
rp_status rp_sample_read_raster(struct rp_pool *pool, rp_extract_setup *setup, int r,
                                const rp_plan *plan, const double *rx, const double *ry,
                                const rp_extract_options *opts, rp_extract_read_stats *stats,
                                rp_error *err);

/* The cells of all the kernels around the plan's points, grouped by block
 * (for --plan: a VRT's sources are surveyed for them). Returns 0, or -1
 * when memory runs out or they are too many to plan at once. */
int rp_sample_cell_plan(const rp_extract_setup *setup, int r, const rp_plan *plan, const double *rx,
                        const double *ry, rp_plan *cells);

/* Points a round of raster r holds. */
size_t rp_sample_round_points(const rp_extract_setup *setup, int r);

/* The --plan lines of raster r's kernels. */
void rp_sample_write_plan(FILE *out, const rp_extract_setup *setup, int r, const rp_plan *plan,
                          const double *rx, const double *ry);

/* The points in the raster's CRS: x/y themselves, or transformed into
 * scratch (kept for the next raster of the same CRS). */
rp_status rp_extract_raster_coords(const rp_raster_info *raster, OGRSpatialReferenceH points_srs,
                                   const double *x, const double *y, size_t n,
                                   rp_point_scratch *scratch, const double **rx, const double **ry,
                                   rp_error *err);

#endif
