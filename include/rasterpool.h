/*
 * rasterpool.h — the one public header of librasterpool.
 *
 * rasterpool runs heavy GDAL raster workloads in parallel: extract (raster
 * values at many points, each touched block decoded once), calc (block-wise
 * raster math from expressions or C kernels) and batch (one GDAL utility over
 * many files in crash-isolated worker processes).
 *
 * Conventions (after zstd and curl):
 *  - opaque handles come in _new/_free pairs; every _free accepts NULL;
 *  - errors are reported into a caller-owned rp_error (no global state), so
 *    the library is safe to use from several threads at once;
 *  - the library never installs a process-wide GDAL error handler;
 *  - call rp_init() once before anything else (it registers GDAL's drivers);
 *  - the library prints nothing itself: warnings and notes go to a log
 *    callback (rp_log_fn), progress to a progress callback (rp_progress_fn).
 */
#ifndef RASTERPOOL_H
#define RASTERPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define RP_API __attribute__((visibility("default")))
#define RP_RESULT_USED __attribute__((warn_unused_result))
#else
#define RP_API
#define RP_RESULT_USED
#endif

#include "rasterpool_version.h"

/* The version of the library this program runs with: "MAJOR.MINOR.PATCH",
 * a static string, and RP_VERSION_NUMBER's encoding of it. Compare with the
 * RP_VERSION_* macros (rasterpool_version.h) the program was compiled with. */
RP_API const char *rp_version(void);
RP_API unsigned rp_version_number(void);

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

/* One table gives the codes, their names and their texts (libuv's X-macro).
 * X(NAME, value, exit code of the CLI, text).
 *
 * The values are part of the ABI and never change: a new status is appended
 * at the end of the table with the next unused value; a status is never
 * renumbered, and a removed one leaves its value unused. */
#define RP_STATUS_MAP(X)                                                                           \
    X(OK, 0, 0, "success")                                                                         \
    X(PARTIAL, 1, 1, "the job ran but some items failed")                                          \
    X(USAGE, 2, 2, "usage error")                                                                  \
    X(OPEN, 3, 3, "input cannot be opened")                                                        \
    X(READ, 4, 3, "input cannot be read")                                                          \
    X(WRITE, 5, 3, "output cannot be written")                                                     \
    X(CRS, 6, 3, "coordinate reference system error")                                              \
    X(NOMEM, 7, 3, "out of memory")                                                                \
    X(INTERNAL, 8, 3, "internal error")                                                            \
    X(INTERRUPTED, 9, 130, "interrupted")

/* The same values spelled out, for readers and binding generators (cffi's
 * cdef takes no X-macro): RP_OK 0, RP_PARTIAL 1, RP_USAGE 2, RP_OPEN 3,
 * RP_READ 4, RP_WRITE 5, RP_CRS 6, RP_NOMEM 7, RP_INTERNAL 8,
 * RP_INTERRUPTED 9. */
typedef enum rp_status {
#define RP_STATUS_ENUM(name, value, exitcode, text) RP_##name = value,
    RP_STATUS_MAP(RP_STATUS_ENUM)
#undef RP_STATUS_ENUM
} rp_status;

/* A caller-owned error record. code is RP_OK until something fails; message
 * holds the first failure's text, naming the file, line or block. */
typedef struct rp_error {
    rp_status code;
    char message[1024];
} rp_error;

RP_API const char *rp_status_name(rp_status code); /* "OPEN" */
RP_API const char *rp_status_text(rp_status code); /* "input cannot be opened" */
/* The CLI exit code for a status: 0 ok, 1 partial, 2 usage, 3 input, 130. */
RP_API int rp_status_exit_code(rp_status code);
/* Resets err to RP_OK with an empty message. err may be NULL. */
RP_API void rp_error_clear(rp_error *err);

/* ------------------------------------------------------------------------ */
/* Initialisation                                                            */
/* ------------------------------------------------------------------------ */

/* Registers GDAL's drivers (GDALAllRegister). Call it before any other
 * function of the library that opens data (the rp_*_options_new parsers
 * included: batch's checks the GDAL utility's options with GDAL's parser).
 * Idempotent and thread-safe: the first call registers (pthread_once), later
 * and concurrent calls return once that is done. A caller that has already
 * called GDALAllRegister itself may skip it. Nothing needs undoing: the
 * drivers stay registered for the life of the process. */
RP_API void rp_init(void);
/* Releases what GDAL keeps for the life of the process (its drivers, PROJ's
 * and the network layer's caches: GDALDestroyDriverManager), so that leak
 * checkers see only real leaks. Optional; for a program's very end, when no
 * job runs and none will: no rasterpool or GDAL function may be called
 * after it. Not thread-safe. */
RP_API void rp_shutdown(void);
/* GDAL's release name ("3.6.2"), of the GDAL the library runs with. Static
 * text owned by GDAL. */
RP_API const char *rp_gdal_version(void);
/* For a program's signal handler that must end the process at once (a job
 * that did not stop within its grace after SIGINT/SIGTERM, a second
 * Ctrl-C): removes the staging folders of every output of this process
 * that is not yet in place (every job stages its outputs in a hidden folder
 * beside the destination and renames them into place when complete), so
 * that nothing is left behind and every old output stays as it was; then
 * call _exit. Async-signal-safe: no lock, no allocation, system calls only;
 * callable from any thread while jobs still run. Returns how many staging
 * folders it removed, or -1 while an output is being renamed into place (a
 * few renames: nothing removed; call it again a moment later, e.g. 50 ms).
 * Once it has returned >= 0, no output of this process can be put in place
 * any more: end the process. */
RP_API int rp_remove_staged_outputs(void);
/* Points files (CSV) are read with pread, copying their pages, unless the
 * program opts in here to mapping them (mmap: no copy; at 10 million points
 * about 0.1 s of CPU a pass less). A mapped file that another process
 * truncates while a job reads it raises SIGBUS in the reading thread, which
 * ends the process unless the program handles it: opt in only from a
 * program that installs a SIGBUS handler (SA_SIGINFO) that asks
 * rp_mapped_points_at(info->si_addr), and when that names a points file,
 * removes the staged outputs (rp_remove_staged_outputs), says so and calls
 * _exit (the rasterpool program does: "points file X changed while being
 * read"). A file changed without shrinking is found either way: the job
 * fails with RP_READ naming it. Only regular files are mapped; standard
 * input and pipes are always read. Affects jobs started after the call. */
RP_API void rp_map_points_files(int enable);
/* For a SIGBUS handler: the name of the points file a job of this process
 * has mapped at addr, or NULL when addr lies in none. Async-signal-safe. */
RP_API const char *rp_mapped_points_at(const void *addr);

/* ------------------------------------------------------------------------ */
/* Machine                                                                   */
/* ------------------------------------------------------------------------ */

/* CPUs this process may really use: the minimum of its affinity mask and its
 * cgroup CPU quota (v1, v2 and hybrid layouts), rounded up, at least 1. */
RP_API int rp_usable_cpus(void);
/* Memory this process may use in bytes: the minimum of physical RAM and the
 * cgroup memory limit. 0 when unknown. */
RP_API uint64_t rp_usable_memory(void);

/* ------------------------------------------------------------------------ */
/* Progress                                                                  */
/* ------------------------------------------------------------------------ */

/* What a progress callback asks of the job. The same in every job:
 *  - RP_PROGRESS_CONTINUE: go on;
 *  - RP_PROGRESS_DRAIN: start no new work, let what runs finish, then end
 *    with RP_INTERRUPTED. batch lets running tasks finish; extract and calc
 *    have no unit of work worth finishing alone, so for them DRAIN is ABORT;
 *  - RP_PROGRESS_ABORT: stop now, remove temporary output, end with
 *    RP_INTERRUPTED.
 * Any other non-zero value is taken as RP_PROGRESS_ABORT. */
typedef enum rp_progress_action {
    RP_PROGRESS_CONTINUE = 0,
    RP_PROGRESS_DRAIN = 1,
    RP_PROGRESS_ABORT = 2
} rp_progress_action;

/* Called from the thread that started the job, never from a worker.
 * fraction is in [0, 1]. Returns an rp_progress_action (as int, so that the
 * type stays ABI-compatible with callbacks written as returning int). */
typedef int (*rp_progress_fn)(double fraction, const char *message, void *user);

/* A text progress bar: draws on `stream` only when it is a terminal and the
 * job has run for more than a second; silent otherwise. Use
 * rp_progress_bar_update as an rp_progress_fn with the bar as `user`. */
typedef struct rp_progress_bar rp_progress_bar;
RP_API rp_progress_bar *rp_progress_bar_new(FILE *stream);
RP_API int rp_progress_bar_update(double fraction, const char *message, void *bar);
/* Erases the bar line if one was drawn. */
RP_API void rp_progress_bar_free(rp_progress_bar *bar);

/* ------------------------------------------------------------------------ */
/* Log                                                                       */
/* ------------------------------------------------------------------------ */

/* How much a log line matters. A program shows RP_LOG_WARNING lines by
 * default and RP_LOG_INFO lines when asked to be verbose (the rasterpool
 * program's -v). */
typedef enum rp_log_level {
    RP_LOG_WARNING = 1, /* bad rows, unreadable blocks, failed tasks, summaries
                           of a partial result */
    RP_LOG_INFO = 2     /* timings, summaries, one line per finished task */
} rp_log_level;

/* Receives the warnings and notes of a job, one whole line per call, without
 * its newline. level is an rp_log_level. Called from whichever thread writes
 * the line (often a worker), but never twice at once for one options object:
 * calls are serialised. line is valid during the call only. The callback must
 * not call back into the job. */
typedef void (*rp_log_fn)(void *user, int level, const char *line);

/* ------------------------------------------------------------------------ */
/* Program flags                                                             */
/* ------------------------------------------------------------------------ */

/* What a command line asks of the program around the job rather than of the
 * job (GDAL's *OptionsForBinary): the rp_*_options_new parsers fill it when
 * given one; C callers pass NULL (-q and -v are then accepted and ignored).
 * The parser zeroes it first. Fields are only ever appended; reserved keeps
 * the size fixed for that. */
typedef struct rp_cli_flags {
    int quiet;   /* -q/--quiet: no progress bar */
    int verbose; /* -v/--verbose: show RP_LOG_INFO lines */
    int help;    /* -h/--help: the parser returned NULL with RP_OK */
    int reserved[5];
} rp_cli_flags;

/* ------------------------------------------------------------------------ */
/* extract: raster values at points                                          */
/* ------------------------------------------------------------------------ */

/* Per-point, per-value-column outcome. */
typedef enum rp_point_status {
    RP_POINT_OK = 0,      /* a value was read */
    RP_POINT_NODATA = 1,  /* the pixel equals the band's nodata, or is masked */
    RP_POINT_OUTSIDE = 2, /* the point is off the raster (or NaN) */
    RP_POINT_ERROR = 3    /* the row could not be parsed, or its block not read */
} rp_point_status;

RP_API const char *rp_point_status_name(rp_point_status s); /* "ok", ... */

typedef struct rp_extract_options rp_extract_options;

/* Parses the extract command line (argv[0] is "extract" or ignored, like a
 * program name). The same parser serves the CLI and C callers, GDAL-style:
 *   const char *argv[] = {"extract", "dem.tif", "--points", "pts.csv", NULL};
 *   rp_extract_options *o = rp_extract_options_new(4, argv, NULL, &err);
 * cli: filled with -q/-v/-h when not NULL (see rp_cli_flags).
 * Returns NULL on a usage error with err->code RP_USAGE and the reason.
 * When argv asks for --help, returns NULL with err->code RP_OK. */
RP_API rp_extract_options *rp_extract_options_new(int argc, const char *const *argv,
                                                  rp_cli_flags *cli, rp_error *err) RP_RESULT_USED;
RP_API void rp_extract_options_free(rp_extract_options *opts);
/* The help text of the extract command. */
RP_API const char *rp_extract_help(void);
/* Progress reporting (default: none). fn is called on the caller's thread. */
RP_API void rp_extract_options_set_progress(rp_extract_options *opts, rp_progress_fn fn,
                                            void *user);
/* Where per-row and per-block warnings (RP_LOG_WARNING) and the timing
 * summary (RP_LOG_INFO) go. Default: warnings to stderr, no info lines;
 * fn NULL: silence. user is passed to every call and must outlive the
 * options. Returns RP_NOMEM (the log unchanged) or RP_OK. */
RP_API rp_status rp_extract_options_set_log(rp_extract_options *opts, rp_log_fn fn, void *user);

/* What a run did. */
typedef struct rp_extract_report {
    uint64_t points;    /* data rows / features read */
    uint64_t bad_rows;  /* rows whose coordinates could not be parsed */
    uint64_t values_ok; /* (point, value column) pairs with a value */
    uint64_t values_nodata;
    uint64_t values_outside;
    uint64_t values_error; /* unreadable blocks or bad rows */
    uint64_t blocks_read;
    uint64_t blocks_failed;
    int threads;
} rp_extract_report;

/* Runs the job the options describe: points in, values out (or, with --plan,
 * the plan out). Returns RP_OK, RP_PARTIAL when some rows or blocks failed,
 * or some raster's CRS cannot be reached from the points' (the rest of the
 * output is complete), or an error. report may be NULL. */
RP_API rp_status rp_extract_run(const rp_extract_options *opts, rp_extract_report *report,
                                rp_error *err) RP_RESULT_USED;

/* In-memory extraction for C callers: values of each raster band at n points.
 * rasters: nrasters paths; bands: nbands 1-based band numbers applied to
 * every raster, or NULL/0 for all bands of each. Points are in each raster's
 * CRS. Results are columns in (raster, band) order; column c, point i is at
 * values[c * n + i] (as double: exact for all types but 64-bit integers
 * beyond 2^53) and status[c * n + i]. Both arrays are caller-allocated with
 * ncols * n elements; rp_extract_count_columns tells ncols. threads <= 0
 * means usable CPUs. A raster without a geotransform is refused (RP_USAGE):
 * rp_extract_run_arrays with --transformer samples it. */
RP_API rp_status rp_extract_count_columns(const char *const *rasters, int nrasters,
                                          const int *bands, int nbands, int *ncols,
                                          rp_error *err) RP_RESULT_USED;
RP_API rp_status rp_extract_points(const char *const *rasters, int nrasters, const int *bands,
                                   int nbands, const double *x, const double *y, size_t n,
                                   int threads, double *values, uint8_t *status,
                                   rp_error *err) RP_RESULT_USED;

/* extract: VRT mosaics and remote rasters.
 *
 * Both rp_extract_run and rp_extract_points read a VRT band whose sources
 * are all plain 1:1 copies (same-size SrcRect/DstRect, no scaling, LUT or
 * type change) straight from its source files, with GDAL's painter's order
 * and per-source NODATA transparency, so the values equal GDAL's read of
 * the VRT; other bands go through GDAL's VRT reader (--plan says why). A
 * source that cannot be read fails only its points (RP_POINT_ERROR).
 *
 * rp_extract_run treats a job as remote when a raster or a VRT source is
 * under /vsicurl/, /vsis3/, /vsigs/, /vsiaz/ (or another GDAL network file
 * system) or is a bare http(s):// URL (read through /vsicurl/): it then
 * runs --io-threads workers (default 32) and sets GDAL's retry, keep-alive
 * and timeout options on its own threads unless the caller set them. */

/* ------------------------------------------------------------------------ */
/* extract: output streams and the handle-based in-memory call               */
/* ------------------------------------------------------------------------ */

/* Where --plan writes its report (the CLI passes stdout). Default NULL: the
 * job plans and checks but writes no report; the library never writes to
 * the process's stdout itself. out must stay open during rp_extract_run. */
RP_API void rp_extract_options_set_plan_output(rp_extract_options *opts, FILE *out);

/* The handle-based in-memory call (for C callers and bindings), shaped as
 * PROJ's proj_trans_generic: options from the same argv parser as the CLI,
 * without --points (--points-crs, --band, --config, -j/--threads,
 * --io-threads, --max-open and the log and progress setters apply; output,
 * column and --plan options are ignored):
 *
 *   const char *argv[] = {"extract", "dem.tif", "--points-crs", "EPSG:4326", NULL};
 *   rp_extract_options *o = rp_extract_options_new(4, argv, &err);
 *   rp_extract_result *res = NULL;
 *   rp_status rc = rp_extract_run_arrays(o, &pts[0].x, &pts[0].y, n, sizeof pts[0],
 *                                        &res, &err);
 *   ... rp_extract_result_values_raw(res, 0) ...
 *   rp_extract_result_free(res);
 *   rp_extract_options_free(o);
 *
 * Every raster is opened once on the caller's thread (its metadata) and
 * once by each worker that reads it. */
typedef struct rp_extract_result rp_extract_result;

/* Values of every (raster, band) column at n points: point i is at x[i],
 * y[i] read stride_bytes apart (0: sizeof(double); interleaved x, y pairs:
 * 2 * sizeof(double)), in the --points-crs CRS, or each raster's own CRS
 * when none is given. Returns RP_OK or RP_PARTIAL (some blocks could not be
 * read: their points have RP_POINT_ERROR) with *out set (the caller frees
 * it); any other status (a usage or open error, RP_INTERRUPTED when the
 * progress function asked to stop) with *out NULL. opts and the arrays
 * must stay valid during the call only. With "--method bilinear" (cubic,
 * cubicspline) or "--window N" [--window-stat S ...] in the options' argv,
 * the columns are the interpolated values (GDT_Float64) or the window
 * statistics, named as the CLI names them (b1, b1_mean, b1_w3_1, ...). */
RP_API rp_status rp_extract_run_arrays(const rp_extract_options *opts, const double *x,
                                       const double *y, size_t n, size_t stride_bytes,
                                       rp_extract_result **out, rp_error *err) RP_RESULT_USED;
/* Frees the result. NULL is a no-op. */
RP_API void rp_extract_result_free(rp_extract_result *res);
RP_API size_t rp_extract_result_npoints(const rp_extract_result *res);
/* Columns in (raster, band) order. */
RP_API int rp_extract_result_ncols(const rp_extract_result *res);
/* The column's name as the CLI writes it (b1; dem_b1 with several
 * rasters); owned by the result. NULL for a column out of range. */
RP_API const char *rp_extract_result_name(const rp_extract_result *res, int col);
/* The column's GDALDataType value, and its size in bytes. Signed bytes
 * (a Byte band with PIXELTYPE=SIGNEDBYTE on GDAL 3.6) are 14, GDAL 3.7's
 * GDT_Int8: read the values as int8_t. */
RP_API int rp_extract_result_type(const rp_extract_result *res, int col);
RP_API int rp_extract_result_type_size(const rp_extract_result *res, int col);
/* n values in the band's own type (npoints x type_size bytes), exact for
 * every type including 64-bit integers: the pixel for RP_POINT_OK and
 * RP_POINT_NODATA (then the nodata value), 0 for outside and error. Owned
 * by the result. */
RP_API const void *rp_extract_result_values_raw(const rp_extract_result *res, int col);
/* n values as doubles (64-bit integers beyond 2^53 rounded; complex: the
 * real part); NaN for RP_POINT_OUTSIDE and RP_POINT_ERROR. Converted on the
 * first call for a column (NULL when memory runs out); owned by the
 * result. */
RP_API const double *rp_extract_result_values_f64(rp_extract_result *res, int col);
/* n rp_point_status values. Owned by the result. */
RP_API const uint8_t *rp_extract_result_status(const rp_extract_result *res, int col);

/* ------------------------------------------------------------------------ */
/* calc: block-wise raster processing (expressions or C kernels)             */
/* ------------------------------------------------------------------------ */

/* One input's pixels for a window, handed to a kernel. */
typedef struct rp_kernel_input {
    const char *name;      /* the input's name ("A" of -i A=file.tif) */
    int bands;             /* all bands of the input */
    int type;              /* a GDALDataType value (GDT_Byte, GDT_Float32, ...); 14
                              (GDT_Int8 of GDAL >= 3.7) for a signed byte band,
                              which GDAL 3.6 keeps as Byte + PIXELTYPE=SIGNEDBYTE */
    int type_size;         /* bytes per value */
    const void *data;      /* bands x height x width values: band-sequential, rows
                              top to bottom, no padding; band b (0-based), row r,
                              column c is element (b * height + r) * width + c */
    const int *has_nodata; /* per band: 1 when the band has a nodata value */
    const double *nodata;  /* per band: that value */
} rp_kernel_input;

/* A window of the raster, its inputs and the output block to fill. */
typedef struct rp_kernel_block {
    int x_off, y_off;  /* window origin in pixels (column, row) */
    int width, height; /* window size (smaller at the right/bottom edges) */
    int raster_width, raster_height;
    double geotransform[6]; /* of the whole raster (GDAL order); the window's
                               top-left corner is at pixel (x_off, y_off) */
    int ninputs;
    const rp_kernel_input *inputs;
    int out_bands; /* bands of the output */
    int out_type;  /* a GDALDataType value */
    int out_type_size;
    void *out; /* out_bands x height x width, laid out like inputs'
                  data, to be filled completely by the kernel (zero-filled
                  before the call: pixels left unset are 0) */
    int out_has_nodata;
    double out_nodata;
    int worker;        /* 0 .. threads-1: the calling worker thread */
    char *error;       /* on failure, write a message here (NUL-terminated, */
    size_t error_size; /* at most error_size bytes) */
    /* Returns non-zero once the job is stopping (another window failed, or
     * Ctrl-C): a long kernel may poll it, e.g. once a row, and return at
     * once (any return value; the window is discarded). */
    int (*stopping)(const struct rp_kernel_block *block);
    const void *job; /* rasterpool's, for stopping() */
} rp_kernel_block;

/* A kernel: called once per window, from several worker threads at once (each
 * call with its own block; `user` is shared, so it must be read-only or
 * synchronised by the kernel). Fills block->out. Returns 0 on success; any
 * other value fails the job (no output is written) with block->error as the
 * reason. Must not keep pointers into the block after returning. Runs in
 * the caller's process: a kernel that calls exit() ends it with status 1
 * and a message (no output), a crash takes the process down. */
typedef int (*rp_kernel_fn)(const rp_kernel_block *block, void *user);

typedef struct rp_calc_options rp_calc_options;

/* Parses the calc command line (argv[0] is "calc" or ignored), GDAL-style:
 *   const char *argv[] = {"calc", "-i", "A=nir.tif", "-i", "B=red.tif",
 *                         "-e", "(A-B)/(A+B)", "-o", "ndvi.tif", NULL};
 * Checks the expressions' syntax (band references, names, brackets) but opens
 * no file. Returns NULL on a usage error with err->code RP_USAGE and the
 * reason (for a bad expression: its number, the position and a caret line).
 * When argv asks for --help, returns NULL with err->code RP_OK. cli: as for
 * rp_extract_options_new. */
RP_API rp_calc_options *rp_calc_options_new(int argc, const char *const *argv, rp_cli_flags *cli,
                                            rp_error *err) RP_RESULT_USED;
RP_API void rp_calc_options_free(rp_calc_options *opts);
/* The help text of the calc command. */
RP_API const char *rp_calc_help(void);
/* Progress reporting (default: none); fn runs on the caller's thread and can
 * cancel the job (RP_INTERRUPTED, no output left behind). */
RP_API void rp_calc_options_set_progress(rp_calc_options *opts, rp_progress_fn fn, void *user);
/* Where notes (RP_LOG_WARNING) and the run's summary (RP_LOG_INFO) go.
 * Default: notes to stderr, no info lines; fn NULL: silence. user must
 * outlive the options. Returns RP_NOMEM (the log unchanged) or RP_OK. */
RP_API rp_status rp_calc_options_set_log(rp_calc_options *opts, rp_log_fn fn, void *user);
/* Uses a kernel function instead of expressions (replacing any -e or --kernel
 * of argv). user is passed to every call and must outlive rp_calc_run. */
RP_API void rp_calc_options_set_kernel(rp_calc_options *opts, rp_kernel_fn fn, void *user);

/* What a run did. */
typedef struct rp_calc_report {
    uint64_t windows; /* windows computed and written */
    uint64_t pixels;  /* pixels per band written */
    int threads;      /* compute workers (one more thread writes) */
    int out_bands;
    int out_type; /* a GDALDataType value */
} rp_calc_report;

/* Runs the job: reads the inputs window by window on worker threads,
 * computes, and writes the output in window order from one writer thread.
 * The output appears only when complete (written under a temporary name in
 * its folder, then renamed); on any failure or interruption nothing is left.
 * Returns RP_OK; RP_USAGE (mismatched grids, band out of range, kernel symbol
 * not found...); RP_OPEN/RP_READ/RP_WRITE; RP_PARTIAL when the kernel
 * reported an error on a window (no output); RP_INTERRUPTED. report may be
 * NULL. */
RP_API rp_status rp_calc_run(const rp_calc_options *opts, rp_calc_report *report,
                             rp_error *err) RP_RESULT_USED;

/* ------------------------------------------------------------------------ */
/* batch: one GDAL utility over many files, in crash-isolated processes      */
/* ------------------------------------------------------------------------ */

/* A batch runs gdalwarp (kind "warp") or gdal_translate ("translate") over
 * many inputs, one output each, in a pool of worker processes. Workers are
 * fresh executions of a program that hands the arguments after its
 * "__batch-worker" word to rp_batch_worker_main (the rasterpool program
 * does; C callers point rp_batch_options_set_worker_program at it). Outputs
 * appear only complete (temporary name + rename); crashed or hung workers are
 * replaced and their task retried; every attempt is a JSON line in the
 * journal. */
typedef struct rp_batch_options rp_batch_options;

/* Parses the batch command line: argv[0] "batch" (ignored), argv[1] the kind,
 * then inputs and options; the arguments after "--" are the GDAL utility's,
 * checked here by GDAL's own parser (GDALWarpAppOptionsNew /
 * GDALTranslateOptionsNew). Returns NULL on a usage error (err->code
 * RP_USAGE), or with err->code RP_OK when argv asks for --help. cli: as for
 * rp_extract_options_new. Call rp_init() first (GDAL's parsers need the
 * drivers). */
RP_API rp_batch_options *rp_batch_options_new(int argc, const char *const *argv, rp_cli_flags *cli,
                                              rp_error *err) RP_RESULT_USED;
RP_API void rp_batch_options_free(rp_batch_options *opts);
RP_API const char *rp_batch_help(void);
/* fn is called on the caller's thread about five times a second with the
 * fraction of tasks ended and a "N done N fail N run" message. Its return
 * (rp_progress_action): RP_PROGRESS_CONTINUE go on; RP_PROGRESS_DRAIN start
 * no new task, let running ones finish, then end with RP_INTERRUPTED;
 * RP_PROGRESS_ABORT kill the workers now, remove their temporary files, end
 * with RP_INTERRUPTED. */
RP_API void rp_batch_options_set_progress(rp_batch_options *opts, rp_progress_fn fn, void *user);
/* Where the summary and the list of failed tasks (RP_LOG_WARNING) and one
 * line per finished task (RP_LOG_INFO) go. Default: warnings to stderr, no
 * info lines; fn NULL: silence. user must outlive the options. Returns
 * RP_NOMEM (the log unchanged) or RP_OK. */
RP_API rp_status rp_batch_options_set_log(rp_batch_options *opts, rp_log_fn fn, void *user);
/* The program workers run. Default: $RASTERPOOL_WORKER when set, else the
 * rasterpool-worker installed beside this library (LIBDIR/../libexec/
 * rasterpool/), else, for a library used from its build tree, the build
 * tree's. A program given here must hand `__batch-worker` arguments to
 * rp_batch_worker_main. */
RP_API rp_status rp_batch_options_set_worker_program(rp_batch_options *opts, const char *path,
                                                     rp_error *err) RP_RESULT_USED;

typedef struct rp_batch_report {
    uint64_t tasks;       /* inputs in the batch */
    uint64_t done;        /* outputs put in place by this run */
    uint64_t failed;      /* tasks that failed (listed in the log and journal) */
    uint64_t skipped;     /* --resume: done by an earlier run */
    uint64_t not_started; /* left when the run was interrupted */
    uint64_t attempts;    /* task attempts, retries included */
    uint64_t retried;     /* attempts repeated after a crash or timeout */
    int workers;
    double seconds;
} rp_batch_report;

/* Runs the batch. Returns RP_OK when every task is done, RP_PARTIAL when
 * some failed (the others are complete), RP_INTERRUPTED when the progress
 * callback stopped it, RP_USAGE for inputs that cannot make a task list
 * (a pattern matching nothing, two inputs writing one output), RP_WRITE when
 * the output folder or the journal cannot be written. report may be NULL. */
RP_API rp_status rp_batch_run(const rp_batch_options *opts, rp_batch_report *report,
                              rp_error *err) RP_RESULT_USED;

/* The worker process's main: argv[0] is "__batch-worker", the rest is what
 * rp_batch_run passes. Returns the process exit code. */
RP_API int rp_batch_worker_main(int argc, const char *const *argv);

/* ------------------------------------------------------------------------ */
/* zonal: statistics over polygons with exact coverage fractions            */
/* ------------------------------------------------------------------------ */

typedef struct rp_zonal_options rp_zonal_options;

/* Parses the zonal command line, as rp_extract_options_new does:
 *   const char *argv[] = {"zonal", "dem.tif", "--polygons", "b.gpkg", "-s", "mean", NULL};
 * Returns NULL on a usage error (err->code RP_USAGE), or with RP_OK for
 * --help. */
RP_API rp_zonal_options *rp_zonal_options_new(int argc, const char *const *argv, rp_cli_flags *cli,
                                              rp_error *err) RP_RESULT_USED;
RP_API void rp_zonal_options_free(rp_zonal_options *opts);
RP_API const char *rp_zonal_help(void);
RP_API void rp_zonal_options_set_progress(rp_zonal_options *opts, rp_progress_fn fn, void *user);
/* As rp_extract_options_set_log. */
RP_API rp_status rp_zonal_options_set_log(rp_zonal_options *opts, rp_log_fn fn, void *user);
/* Where --plan goes (default: nothing is printed). */
RP_API void rp_zonal_options_set_plan_output(rp_zonal_options *opts, FILE *out);

typedef struct rp_zonal_report {
    uint64_t polygons;        /* features read */
    uint64_t polygons_ok;     /* with at least one valid cell */
    uint64_t polygons_empty;  /* no valid cell, off the raster, no geometry */
    uint64_t polygons_failed; /* invalid (repaired or not) or an unreadable block */
    uint64_t blocks_read;
    uint64_t blocks_failed;
    int threads;
} rp_zonal_report;

/* Runs the job: polygons in, one row of statistics per polygon out (or,
 * with --plan, the plan). RP_OK; RP_PARTIAL when some polygons failed (the
 * rest is complete); or an error. report may be NULL. */
RP_API rp_status rp_zonal_run(const rp_zonal_options *opts, rp_zonal_report *report,
                              rp_error *err) RP_RESULT_USED;


#ifdef __cplusplus
}
#endif
#endif /* RASTERPOOL_H */
