/*
 * zonal_internal.h — the zonal job's pieces, in the order a run uses them:
 * options and the -s operations (zonal_options.c, zonal_ops.c, with the
 * running statistics in zonal_acc.c), the raster (zonal_setup.c), the
 * polygons read (zonal_polys.c) and put in pixel units on the pool
 * (zonal_prepare.c), the plan: (polygon, block) pairs grouped by block
 * (zonal_plan.c), the pool of workers over the blocks (zonal_exec.c), the
 * merge in block order and the column layout (zonal_merge.c), writing the
 * table (zonal_write.c: CSV, zonal_write_ogr.c: vector formats), and
 * rp_zonal_run (zonal.c). coverage.c computes the fractions.
 */
#ifndef RP_ZONAL_INTERNAL_H
#define RP_ZONAL_INTERNAL_H
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <gdal.h>
#include <ogr_srs_api.h>

#include "coverage.h"
#include "log.h"
#include "raster_info.h"
#include "rasterpool.h"
#include "shard.h"

/* The operations, exactextract's names. */
typedef enum zonal_op {
    ZOP_COUNT,
    ZOP_SUM,
    ZOP_MEAN,
    ZOP_MIN,
    ZOP_MAX,
    ZOP_VARIANCE,
    ZOP_STDEV,
    ZOP_CV,
    ZOP_MAJORITY,
    ZOP_MINORITY,
    ZOP_VARIETY,
    ZOP_MEDIAN,
    ZOP_QUANTILE,
    ZOP_WEIGHTED_SUM,
    ZOP_WEIGHTED_MEAN,
    ZOP_WEIGHTED_VARIANCE,
    ZOP_WEIGHTED_STDEV,
    ZOP_MIN_CENTER_X,
    ZOP_MIN_CENTER_Y,
    ZOP_MAX_CENTER_X,
    ZOP_MAX_CENTER_Y,
    ZOP_FRAC,          /* one column per distinct value (frac_<value>) */
    ZOP_WEIGHTED_FRAC, /* the same, cells weighing coverage x weight */
    ZOP_VALUES,        /* list-valued, cells in raster order: their values */
    ZOP_COVERAGE,      /* their coverage fractions (times the cell area with area_cartesian) */
    ZOP_CELL_ID,       /* their row * width + column */
    ZOP_CENTER_X,      /* their centres */
    ZOP_CENTER_Y,
    ZOP_UNIQUE, /* list-valued: the distinct values, increasing */
    ZOP_N_OPS
} zonal_op;

/* What a covered cell weighs besides its fraction (coverage_weight=). */
typedef enum zonal_area {
    ZAREA_NONE,      /* fraction or none */
    ZAREA_CARTESIAN, /* |gt[1] * gt[5]|, the cell's area in CRS units */
    ZAREA_SPHERICAL  /* the cell's area on a sphere of radius 6378137 m (zonal_cells.c) */
} zonal_area;

/* One -s: an operation and its arguments. */
typedef struct zonal_stat {
    char *name; /* output column name (name= or the op's text); owned */
    zonal_op op;
    double q;           /* quantile */
    double min_cov;     /* min_coverage_frac= (cells with less are left out) */
    bool weight_cov;    /* coverage_weight=fraction or area_* (true) or none */
    zonal_area area;    /* area_*: the fraction times the cell's area */
    double area_unit;   /* area_spherical_km2: 1e-6 (of m2); else 1 */
    bool has_default;   /* default_value= given */
    double default_val; /* replaces nodata cells' values */
} zonal_stat;

struct rp_zonal_options {
    char *raster;   /* the first raster (its grid is the job's) */
    char **rasters; /* every raster, the first included; they share its grid */
    int nrasters;
    int *bands; /* NULL: all */
    int nbands;
    char *polygons_path;
    char *layer;
    char *output_path; /* NULL: stdout */
    char *weights_path;
    char **include_cols;
    int ninclude_cols;
    bool include_all_cols; /* no --include-col */
    bool status_column;
    bool plan_only;
    bool include_geom; /* --include-geom: the input geometry goes out too */
    bool fid;          /* --fid: the feature's FID is the first column */
    zonal_stat *stats;
    int nstats;
    char **config;
    int nconfig;
    int threads;
    uint64_t max_memory; /* --max-memory in bytes; 0: no cap */
    rp_progress_fn progress;
    void *progress_user;
    FILE *log, *info;
    rp_log *logger;
    FILE *plan_out;
    rp_shard shard; /* --shard I/N; count 0: every polygon (zonal_shard.c) */
    /* lib/mpi: each grid's execute stage (NULL: zonal_exec; the hook is the
     * first member of its caller's state);
     * no_output: a rank that only reads blocks (no table, no output). */
    struct zonal_exec_hook *exec_hook;
    bool no_output;
};

/* Parses one -s text: "mean", "quantile(q=0.9)", "p90=quantile(q=0.9)",
 * "mean(min_coverage_frac=0.5,coverage_weight=none)". RP_USAGE naming the
 * text and what is wrong. */
rp_status zonal_stat_parse(const char *text, zonal_stat *out, rp_error *err);
const char *zonal_op_name(zonal_op op);
/* Does the operation need every (value, coverage) of a polygon kept? */
bool zonal_op_needs_values(zonal_op op);
bool zonal_op_needs_weights(zonal_op op);
/* Is its value a list (values, coverage, cell_id, center_x/y, unique)? */
bool zonal_op_is_list(zonal_op op);

/* What a polygon came to. */
typedef enum zonal_status {
    ZST_OK,
    ZST_NO_CELLS,    /* no valid (covered, not nodata) cell */
    ZST_OUTSIDE,     /* off the raster */
    ZST_NO_GEOMETRY, /* empty or missing geometry */
    ZST_INVALID,     /* invalid geometry that could not be repaired */
    ZST_REPAIRED,    /* invalid geometry repaired with make-valid */
    ZST_READ_ERROR,  /* a block it needs could not be read */
    ZST_OVER_MEMORY  /* its value lists alone need more than --max-memory leaves */
} zonal_status;
const char *zonal_status_name(zonal_status s);

/* One feature: its attributes as text, its rings in pixel units. */
typedef struct zonal_feature {
    int64_t fid;
    char **attrs; /* ncols texts; NULL: null field */
    double *xy;   /* all rings' vertices */
    rp_cov_ring *rings;
    unsigned char *a_hole;
    rp_cov_poly poly;
    zonal_status status;
    void *geom;         /* OGRGeometryH read, not yet prepared (zonal_prepare.c) */
    void *geom_src;     /* with rasters on several grids: the geometry read, kept */
    char *msg;          /* a warning about this feature, printed in input order */
    unsigned char *wkb; /* --include-geom: the input geometry (ISO WKB), or NULL */
    size_t wkb_size;
    int64_t c0, r0, c1, r1; /* touched cells [c0, c1) x [r0, r1) on the raster */
} zonal_feature;

typedef struct zonal_polys {
    char **col_names;
    int *col_types; /* OGRFieldType of each attribute */
    int ncols;
    int *out_cols; /* which columns are written */
    int nout_cols;
    zonal_feature *feats;
    size_t n;
    size_t invalid;           /* repaired or failed */
    OGRSpatialReferenceH srs; /* the layer's CRS (for --include-geom), or NULL */
} zonal_polys;

/* The raster side. */
typedef struct zonal_raster {
    rp_raster_info info; /* the first raster's */
    rp_band_info *bands; /* every raster's bands read, raster by raster */
    int *band_src;       /* per band: its raster's index in options' rasters */
    int nbands;
    rp_raster_info winfo; /* --weights */
    rp_band_info wband;
    bool has_weights;
    /* Grids: the rasters on one size, geotransform and CRS share one. Grid
     * 0 is info's; the others' first rasters' infos are more_grids. */
    int ngrids;
    int *grid_of;               /* per raster of the options: its grid */
    rp_raster_info *more_grids; /* ngrids - 1, owned */
    bool is_view;               /* a zonal_raster_view (borrows its infos) */
    /* how the blocks are read: VRT bands from their source files, remote
     * rasters in runs (zonal_read.h; set by zonal_sources_open in zonal.c) */
    struct zonal_sources *sources;
} zonal_raster;

/* Grid g's first raster's info. */
const rp_raster_info *zonal_grid_info(const zonal_raster *r, int g);
/* The bands of grid g as a raster of their own (one grid), for the plan,
 * the workers and the merge; band_global (r->nbands long) gets each of its
 * bands' index in r. The view borrows r's infos: free it with
 * zonal_raster_view_free before r. */
rp_status zonal_raster_view(const zonal_raster *r, int g, zonal_raster *view, int *band_global,
                            rp_error *err);
void zonal_raster_view_free(zonal_raster *view);
/* --shard I/N (zonal_shard.c), after the features are read and before
 * they are prepared: only the shard's contiguous range of them is kept. */
void zonal_polys_shard(const rp_shard *shard, zonal_polys *p);

rp_status zonal_raster_open(const rp_zonal_options *o, zonal_raster *r, rp_error *err);
void zonal_raster_free(zonal_raster *r);
/* Reads every feature of the polygons, transformed to the raster's CRS and
 * then to pixel units, invalid ones repaired or marked (warnings on log). */
rp_status zonal_polys_read(const rp_zonal_options *o, const zonal_raster *r, zonal_polys *p,
                           rp_error *err);
/* What one feature holds (its attributes, rings, geometries, message). */
void zonal_feature_free(zonal_feature *f, int ncols);
void zonal_polys_free(zonal_polys *p);
/* One feature's read geometry (f->geom, consumed) transformed with ct (may
 * be NULL), checked or repaired, flattened into pixel rings, its window
 * set; a problem goes to f->status and f->msg. false: out of memory. Any
 * thread (ct belongs to the caller's thread). */
bool zonal_feature_prepare(zonal_feature *f, void *ct, const zonal_raster *r, const char *path);
/* Puts every feature on grid view r (after the polygons were read and
 * prepared for another grid): from its kept geometry, transformed to r's
 * CRS, into r's pixel units. Warnings not given already are printed. */
rp_status zonal_polys_regrid(const rp_zonal_options *o, const zonal_raster *r, zonal_polys *p,
                             rp_error *err);
/* Prepares every feature on a pool of threads (zonal_prepare.c), each with
 * its own coordinate transformation from src (NULL: none needed). */
rp_status zonal_polys_prepare(const rp_zonal_options *o, const zonal_raster *r, zonal_polys *p,
                              OGRSpatialReferenceH src, rp_error *err);

/* A polygon's running statistics over some cells (one per stat and band). */
typedef struct zonal_acc {
    double w;          /* sum of weights (coverage, or 1) */
    double sum;        /* sum of weight * value */
    double mean, m2;   /* weighted Welford */
    double wsum, wcov; /* weighted_*: sum of c*v*w2 and c*w2 */
    double min, max;
    uint64_t cells;
    double *vals; /* (value, weight) pairs when the op needs them */
    size_t nvals, capvals;
} zonal_acc;

/* The plan: (feature, block) pairs grouped by block, row-major. */
typedef struct zonal_pair {
    uint32_t feat;
    uint32_t block; /* index into the plan's blocks */
} zonal_pair;
typedef struct zonal_block {
    int64_t bx, by;
    size_t start, count; /* its pairs */
} zonal_block;
typedef struct zonal_plan {
    zonal_pair *pairs;
    size_t npairs;
    zonal_block *blocks;
    size_t nblocks;
    uint64_t cells; /* sum over pairs of the cells of their windows */
} zonal_plan;

rp_status zonal_plan_build(const zonal_raster *r, const zonal_polys *p, zonal_plan *plan,
                           rp_error *err);
void zonal_plan_free(zonal_plan *plan);
void zonal_plan_print(const rp_zonal_options *o, const zonal_raster *r, const zonal_polys *p,
                      const zonal_plan *plan, FILE *out);

/* Accumulators: pair-major, then band, then stat. */
typedef struct zonal_results {
    zonal_acc *accs; /* npairs * nbands * nstats */
    uint8_t *pair_failed;
    uint64_t blocks_read, blocks_failed;
} zonal_results;

/* --max-memory (zonal_budget.c): the cap, the fixed part of the pass under
 * way, and the value-list bytes the workers hold (over every grid). */
typedef struct zonal_budget {
    uint64_t cap; /* 0: none */
    uint64_t fixed;
    _Atomic uint64_t lists;
} zonal_budget;
/* How many (band, statistic) accumulators of grid view r keep value lists. */
int zonal_list_stats(const rp_zonal_options *o, const zonal_raster *r);
/* One worker's block buffers on grid view r. */
uint64_t zonal_worker_bytes(const zonal_raster *r);
/* Before a grid's pass: its fixed part within the cap (else RP_USAGE), and
 * the polygons whose value lists alone would not fit failed (status
 * over_memory; the plan rebuilt without them). all_bands: the job's bands
 * (the table's). Nothing to do without a cap. */
rp_status zonal_budget_plan(const rp_zonal_options *o, const zonal_raster *r, int all_bands,
                            zonal_polys *p, zonal_plan *plan, zonal_budget *b, rp_error *err);
/* A worker's value lists grew by bytes: RP_NOMEM over the cap. b may be
 * NULL. Any thread. */
rp_status zonal_budget_take(zonal_budget *b, uint64_t bytes, rp_error *err);

/* The workers over the plan's blocks; budget (may be NULL) counts the
 * value lists they keep. */
rp_status zonal_exec(const rp_zonal_options *o, const zonal_raster *r, const zonal_polys *p,
                     const zonal_plan *plan, zonal_budget *budget, zonal_results *res,
                     rp_error *err);
void zonal_results_free(zonal_results *res, size_t nacc);
/* Reads plan blocks [first, first + count) into res, whose accumulators
 * (already allocated, zeroed) start at the first block's first pair;
 * block_failed (count long) gets 1 for each block that could not be read.
 * The pool and its handles live for this call. zonal_exec is this over
 * every block. */
rp_status zonal_exec_blocks(const rp_zonal_options *o, const zonal_raster *r, const zonal_polys *p,
                            const zonal_plan *plan, zonal_budget *budget, zonal_results *res,
                            size_t first, size_t count, uint8_t *block_failed, rp_error *err);
/* After the blocks were read: the pairs of failed blocks failed, and
 * res's blocks read and failed counted (block_failed: nblocks long). */
void zonal_results_fail_blocks(const zonal_plan *plan, zonal_results *res,
                               const uint8_t *block_failed);
/* The pairs of plan blocks [first, first + count): they are contiguous
 * from plan->blocks[first].start. */
size_t zonal_plan_pairs_of(const zonal_plan *plan, size_t first, size_t count);
/* An execute stage in place of zonal_exec (lib/mpi's farm): called for
 * each grid's pass with what zonal_exec gets; it fills res as zonal_exec
 * does (or leaves it empty with no_output). */
typedef struct zonal_exec_hook {
    rp_status (*exec)(struct zonal_exec_hook *hook, const rp_zonal_options *o,
                      const zonal_raster *r, const zonal_polys *p, const zonal_plan *plan, int grid,
                      zonal_budget *budget, zonal_results *res, rp_error *err);
} zonal_exec_hook;

/* What an operation needs kept per cell (zonal_acc_flags). */
enum { ZACC_VAR = 1, ZACC_WEIGHTED = 2, ZACC_VALUES = 4 };
unsigned zonal_acc_flags(zonal_op op);
/* Appends (v, weight) to the value list. */
rp_status zonal_acc_push(zonal_acc *a, double v, double weight);
/* Makes room for n (value, weight) pairs in all (exactly n when it grows). */
rp_status zonal_acc_reserve(zonal_acc *a, size_t n);

/* Adds one cell to an accumulator, keeping only what flags ask (the inner
 * loop of every block: inline, no division unless the variance is asked). */
static inline rp_status zonal_acc_add(zonal_acc *a, unsigned flags, double v, double weight,
                                      double w2) {
    if (a->cells++ == 0) {
        a->min = a->max = v;
    } else {
        a->min = v < a->min ? v : a->min;
        a->max = v > a->max ? v : a->max;
    }
    if ((flags & ZACC_VAR) && weight != 0) {
        double w = a->w + weight;
        double delta = v - a->mean;
        a->mean += delta * weight / w;
        a->m2 += weight * delta * (v - a->mean);
    }
    a->w += weight;
    a->sum += weight * v;
    if (flags & ZACC_WEIGHTED) {
        a->wsum += weight * v * w2;
        a->wcov += weight * w2;
    }
    return (flags & ZACC_VALUES) ? zonal_acc_push(a, v, weight) : RP_OK;
}
/* The cells of one (polygon, block) pair, for one (band, stat)
 * accumulator: the window [sx, sx + cw) x [sy, sy + ch) of a block bw cells
 * wide holds the polygon's cells; cov is its coverage, row-major cw wide. */
typedef struct cell_src {
    const double *cov, *vals, *weights;
    const int *spans;              /* per window row: [first, end) of the cells to visit */
    const uint8_t *valid, *wvalid; /* wvalid NULL: no weights */
    int bw, sx, sy, cw, ch;
    double cell_area;       /* |gt[1] * gt[5]|, for coverage_weight=area_cartesian */
    const double *row_area; /* per block row: its cells' spherical area in m2, or NULL */
    const double *gt;       /* the grid's geotransform, for the cell-centre ops */
    int64_t x0, y0;         /* the block's first column and row on the raster */
    int64_t width;          /* the raster's, for cell ids */
} cell_src;
/* Adds the pair's cells to acc (zonal_cells.c). RP_NOMEM: a value list
 * could not grow. */
rp_status zonal_cells_add(zonal_acc *acc, const zonal_stat *st, const cell_src *src);
/* The spherical area (m2) of a cell in each of rows row0 .. row0 + n - 1
 * of a longitude/latitude grid (degrees). */
void zonal_sphere_row_areas(const double *gt, int64_t row0, int n, double *out);

/* Merges b into a (a's order first). */
rp_status zonal_acc_merge(zonal_acc *a, const zonal_acc *b, zonal_op op);
/* The statistic of a merged accumulator; false when it has none (no cell). */
bool zonal_acc_value(zonal_acc *a, const zonal_stat *s, double *out);

rp_status zonal_write(const rp_zonal_options *o, const zonal_raster *r, zonal_polys *p,
                      const zonal_plan *plan, zonal_results *res, rp_error *err);

/* The finished table: per polygon, nb * ns values and whether each is set. */
typedef struct zonal_table {
    const rp_zonal_options *o;
    const zonal_raster *r;
    const zonal_polys *p;
    double *vals;
    uint8_t *has;
    double **lists; /* per cell: a list-valued op's items (NULL: none), vals the count */
    int per_row;    /* value columns */
    int *col_j;     /* per value column: its (band, stat) index b * nstats + s */
    int *col_key;   /* per value column: its index in keys[col_j] (frac), or -1 */
    double **keys;  /* per (band, stat): frac's distinct values, sorted */
    size_t *nkeys;
    zonal_acc *merged;    /* until finished: per polygon, nb * ns merged statistics */
    zonal_status *status; /* until finished: per polygon, over the grids added */
} zonal_table;
/* Merges every polygon's (polygon, block) statistics in block order and
 * lays out the value columns (frac: one per distinct value found): one
 * grid's results (zonal_table_build), or several: zonal_table_begin, then
 * zonal_table_add for each grid's view (band_global: zonal_raster_view's),
 * whose results can then be freed, then zonal_table_finish. */
rp_status zonal_table_build(zonal_table *t, zonal_polys *p, const zonal_plan *plan,
                            zonal_results *res, rp_error *err);
rp_status zonal_table_begin(zonal_table *t, size_t nfeat, rp_error *err);
rp_status zonal_table_add(zonal_table *t, const zonal_raster *rg, const int *band_global,
                          zonal_polys *p, const zonal_plan *plan, zonal_results *res,
                          rp_error *err);
rp_status zonal_table_finish(zonal_table *t, zonal_polys *p, rp_error *err);
/* Writes a finished table (staged). */
rp_status zonal_write_table(zonal_table *t, rp_error *err);
void zonal_table_free(zonal_table *t);
/* Folds a value list into sorted (value, total weight) pairs; returns how
 * many. */
size_t zonal_acc_fold(zonal_acc *a);
/* The name of value column k (b<N>_<stat> when there are several bands). */
void zonal_column_name(const zonal_table *t, int k, char *buf, size_t cap);
/* Writes the table with a GDAL vector driver to target. */
rp_status zonal_write_ogr(const zonal_table *t, const char *target, GDALDriverH drv, rp_error *err);

#endif
