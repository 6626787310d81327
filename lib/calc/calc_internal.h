/*
 * calc_internal.h — the calc job's pieces: its options, expressions
 * translated for muparser (band references, the nodata keyword), per-worker
 * compiled expressions, the inputs' shared grid, and the ordered writer.
 */
#ifndef RP_CALC_INTERNAL_H
#define RP_CALC_INTERNAL_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <gdal.h>
#include <ogr_srs_api.h>

#include "gdal_config.h"
#include "log.h"
#include "rasterpool.h"

/* -i NAME=FILE */
typedef struct rp_calc_input {
    char *name;
    char *path;
} rp_calc_input;

/* A band that some expression reads: muparser sees it as `_rpv<k>` (its
 * value) and, through isnodata(), as `_rpn<k>` (1 where it is nodata). */
typedef struct rp_calc_ref {
    int input; /* index into inputs */
    int band;  /* 1-based */
    int expr;  /* first expression that uses it, and where (for messages) */
    int pos;
} rp_calc_ref;

/* One -e expression. */
typedef struct rp_calc_expr {
    char *text;       /* as the user wrote it */
    char *translated; /* as muparser gets it */
    int *pos_map;     /* offset in translated -> offset in text (strlen + 1 entries) */
    int *vars;        /* refs whose value the expression reads */
    int nvars;
    int *nd_vars; /* refs passed to isnodata() */
    int n_nd_vars;
    bool uses_nodata; /* the `nodata` keyword (the output's nodata value) */
} rp_calc_expr;

struct rp_calc_options {
    rp_calc_input *inputs;
    int ninputs;
    rp_calc_expr *exprs;
    int nexprs;
    rp_calc_ref *refs;
    int nrefs;
    char *kernel_spec; /* FILE.so:symbol */
    char *kernel_arg;  /* handed to a loaded kernel as its user pointer */
    rp_kernel_fn kernel;
    void *kernel_user;
    char *output_path;
    char *format;            /* "GTiff" or "COG" */
    int out_type;            /* GDT_Unknown: chosen from the inputs */
    char **creation_options; /* CSL, as given with --co */
    bool has_nodata;
    double nodata;
    int out_bands; /* kernels: 0 = the first input's band count */
    int threads;   /* <= 0: usable CPUs */
    char **config; /* KEY, VALUE pairs */
    int nconfig;
    rp_progress_fn progress;
    void *progress_user;
    FILE *log;      /* notes: stderr, a stream of logger, or NULL (silent) */
    FILE *info;     /* the run's summary: a stream of logger, or NULL */
    rp_log *logger; /* the caller's rp_log_fn behind log and info; NULL: none */
};

/* ---- expressions (calc_expr.c): text only, no muparser, no I/O ---------- */

/* Names that cannot be input names: muparser's functions and constants and
 * calc's own keywords. */
bool rp_calc_name_reserved(const char *name);
/* Translates expression number `index` (0-based) over the given input
 * names: `A` -> band 1 of A, `A[3]` -> band 3, `nodata`, `isnodata(A[2])`.
 * New band references are appended to *refs. On error: RP_USAGE with the
 * position and a caret line. */
rp_status rp_calc_expr_translate(const char *text, int index, const rp_calc_input *inputs,
                                 int ninputs, rp_calc_expr *out, rp_calc_ref **refs, int *nrefs,
                                 rp_error *err);
void rp_calc_expr_clear(rp_calc_expr *e);
/* Formats an error at offset `pos` of expression `index`'s text, with a caret. */
rp_status rp_calc_expr_error(rp_error *err, rp_status code, const char *text, int index, int pos,
                             const char *what);

/* ---- muparser (calc_eval.c) --------------------------------------------- */

typedef struct rp_calc_parser rp_calc_parser;
/* Compiles an expression for bulk evaluation over arrays: values[k] and
 * isnodata[k] are the arrays of ref k (NULL for those the expression does
 * not use). NULL with err set (with the user's position) when muparser
 * rejects it. One parser belongs to one thread. */
rp_calc_parser *rp_calc_parser_new(const rp_calc_expr *e, int index, double *const *values,
                                   double *const *isnodata, double nodata, rp_error *err);
/* result[i] for i < n. */
rp_status rp_calc_parser_eval(rp_calc_parser *p, double *result, int n, rp_error *err);
void rp_calc_parser_free(rp_calc_parser *p);
/* Compiles with scalar variables and evaluates once: checks an expression. */
rp_status rp_calc_expr_check(const rp_calc_expr *e, int index, int nrefs, rp_error *err);
/* Makes muparser's bulk evaluation run on the calling thread only (it is
 * built with OpenMP). Call on each thread before evaluating. */
void rp_calc_eval_single_thread(void);

/* ---- values (calc_values.c) --------------------------------------------- */

/* Whether v can be stored in type exactly (integers: in range and integral;
 * Float32: finite values in range; NaN only for floats). */
bool rp_calc_value_fits(double v, GDALDataType type);
/* Converts n doubles to `type` at dst: round half away from zero, clamp to
 * the type's range; NaN becomes `nan_value` for integer types. */
void rp_calc_convert(const double *src, size_t n, GDALDataType type, void *dst, double nan_value);
/* How many of src[0..n) rp_calc_convert would store as exactly `value`
 * (NaN results and a NaN value never count), leaving out pixel i when
 * skip[k][i] != 0 for some k < nskip. */
size_t rp_calc_count_stored_as(const double *src, size_t n, GDALDataType type, double value,
                               const double *const *skip, int nskip);
/* gdal_calc.py's default nodata of an output type: 255 Byte, 65535 UInt16,
 * -32768 Int16, 4294967293 UInt32, -2147483647 Int32, FLT_MAX Float32,
 * DBL_MAX Float64. */
double rp_calc_default_nodata(GDALDataType type);

/* ---- inputs and kernel (calc_setup.c): on the caller's thread ----------- */

typedef struct rp_calc_input_info {
    int bands;
    GDALDataType *types; /* per band */
    int *has_nodata;
    double *nodata;
    char **descriptions; /* per band, "" when none */
    bool *signed_byte;   /* per band: Byte with PIXELTYPE=SIGNEDBYTE, read as Int8 */
} rp_calc_input_info;

/* The type a kernel is told for a signed byte input: GDT_Int8 of GDAL 3.7+
 * (GDAL 3.6 has none; the bytes are the same). */
enum { RP_CALC_TYPE_INT8 = 14 };

/* The first input's GCPs, RPCs and colour tables (calc_georef.c). */
typedef struct rp_calc_georef {
    GDAL_GCP *gcps;
    int ngcps;
    char *gcp_wkt;           /* the GCPs' CRS, "" when none */
    char **rpc;              /* the "RPC" metadata domain; NULL when none */
    GDALColorTableH *colors; /* per band, NULL when none */
    int ncolors;
} rp_calc_georef;

rp_status rp_calc_georef_read(GDALDatasetH ds, rp_calc_georef *g, rp_error *err);
void rp_calc_georef_free(rp_calc_georef *g);
/* For an input b without a geotransform: RP_USAGE unless it has the first
 * input a's GCPs (and their CRS) and RPCs. */
rp_status rp_calc_georef_check(const rp_calc_georef *first, const rp_calc_input *a,
                               const rp_calc_input *b, GDALDatasetH ds, rp_error *err);
/* No GCPs and no RPCs. */
bool rp_calc_georef_none(const rp_calc_georef *g);

typedef struct rp_calc_setup {
    int width, height;
    double gt[6];
    bool has_gt;
    char *wkt;                /* the first input's CRS ("" when none) */
    OGRSpatialReferenceH srs; /* the same, parsed; NULL when none */
    char **metadata;          /* the first input's dataset metadata */
    rp_calc_georef georef;    /* the first input's GCPs, RPCs, colour tables */
    rp_calc_input_info *inputs;
    int ninputs;
    void *library; /* dlopen handle of --kernel */
    rp_kernel_fn kernel;
    void *kernel_user;
    const char *kernel_name;
} rp_calc_setup;

/* Opens every input once: checks that they share size, geotransform and CRS
 * (naming the difference), that every band an expression reads exists, and
 * loads --kernel. */
rp_status rp_calc_setup_read(const rp_calc_options *o, rp_calc_setup *s, rp_error *err);
void rp_calc_setup_free(rp_calc_setup *s);

/* ---- one run: plan (calc_plan.c), execute (calc_exec.c) ---------------- */

/* One rp_calc_run: the plan, read-only while the pool runs, and the
 * failure that stopped it. */
typedef struct rp_calc_job {
    const rp_calc_options *opts;
    const rp_calc_setup *setup;
    struct rp_calc_writer *writer; /* calc_writer.c */
    GDALDataType out_type;
    int out_type_size;
    int out_bands;
    bool has_nodata;
    double nodata;
    int win_w, win_h; /* window size (edges are smaller) */
    int nwin_x, nwin_y;
    size_t nwindows;
    /* expressions: refs laid out so that one input's refs are contiguous */
    int *ref_slot; /* ref -> slot in the values buffer */
    int *slot_ref; /* slot -> ref */
    /* per output band: valid results stored as the nodata value (they read
     * back as nodata; warned about after the run) */
    atomic_ullong *collisions;
    pthread_mutex_t lock; /* guards first_error */
    rp_error first_error;
    atomic_bool cancelled;
} rp_calc_job;

/* Output type, bands and nodata from the options and the inputs; RP_USAGE
 * when the nodata cannot be stored in the type, or kernels get mixed types. */
rp_status rp_calc_choose_output(rp_calc_job *job, rp_error *err);
/* Windows of whole output blocks (block_w x block_h, 256 when unknown), at
 * most about a million pixels each, numbered in row order. */
void rp_calc_plan_windows(rp_calc_job *job, int block_w, int block_h);
/* Window `index`'s offset and size (edge windows are smaller). */
void rp_calc_window_of(const rp_calc_job *job, size_t index, int *x, int *y, int *w, int *h);
/* Slots: one input's refs next to each other, so one RasterIO reads them. */
rp_status rp_calc_layout_refs(rp_calc_job *job, rp_error *err);
/* Starts the writer thread and runs the pool over every window: each
 * worker computes windows and hands them to the writer. Does not finish
 * the writer. The pool's (or the start's) status; a worker's failure is
 * also in job->first_error. */
rp_status rp_calc_execute(rp_calc_job *job, int threads, rp_error *err);

/* ---- the job (calc.c, calc_writer.c) ------------------------------------ */

/* The output dataset, written by one thread in window order. */
typedef struct rp_calc_writer rp_calc_writer;

typedef struct rp_calc_output_spec {
    const char *path;
    const char *format; /* GTiff or COG */
    GDALDataType type;
    int bands;
    int width, height;
    double geotransform[6];
    bool has_geotransform;
    const char *projection_wkt;
    char **metadata;          /* dataset metadata to copy (default domain) */
    char **band_descriptions; /* NULL or one per band */
    const GDAL_GCP *gcps;     /* written when there is no geotransform */
    int ngcps;
    const char *gcp_wkt;
    char **rpc;                    /* the "RPC" metadata domain, or NULL */
    const GDALColorTableH *colors; /* NULL or one per band (entries NULL: none) */
    bool has_nodata;
    double nodata;
    char **creation_options; /* the user's */
    int threads;
    int block_w, block_h; /* out: the output's block size */
} rp_calc_output_spec;

/* Creates the output under a temporary name beside path. */
rp_calc_writer *rp_calc_writer_new(rp_calc_output_spec *spec, rp_error *err);
/* Starts the writer thread: windows [0, nwindows) are expected, in order;
 * at most `capacity` finished windows wait in memory. */
rp_status rp_calc_writer_start(rp_calc_writer *w, size_t nwindows, int capacity, char **config,
                               int nconfig, rp_error *err);
/* Blocks until window `index` may be computed (back-pressure): false when
 * the job has failed or was cancelled meanwhile. */
bool rp_calc_writer_wait_turn(rp_calc_writer *w, size_t index);
/* Hands a finished window (buffer: bands x h x w of the output type, now
 * owned by the writer, freed with free()). */
void rp_calc_writer_submit(rp_calc_writer *w, size_t index, int x, int y, int width, int height,
                           void *buffer);
/* Stops everything (a failure elsewhere, or Ctrl-C); waiting threads wake. */
void rp_calc_writer_abort(rp_calc_writer *w);
/* Whether the job is stopping; lock-free, for kernels to poll. */
bool rp_calc_writer_stopping(rp_calc_writer *w);
/* Windows written so far. */
size_t rp_calc_writer_done(rp_calc_writer *w);
/* Joins the writer; when everything was written, closes, converts (COG) and
 * renames into place; otherwise removes every temporary file. */
rp_status rp_calc_writer_finish(rp_calc_writer *w, bool success, rp_error *err);
/* The same, reporting the COG step's progress to fn (which can cancel it). */
rp_status rp_calc_writer_finish_progress(rp_calc_writer *w, bool success, rp_progress_fn fn,
                                         void *user, rp_error *err);
void rp_calc_writer_free(rp_calc_writer *w);


#endif
