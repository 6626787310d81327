/*
 * batch_internal.h — the batch job: options, the task list, the job kinds
 * (warp, translate, ...), the parent <-> worker messages and the journal.
 *
 * A batch runs one GDAL utility over many files. The parent process plans
 * the tasks (one input -> one output), starts worker processes
 * (rasterpool __batch-worker), hands each one task at a time and puts each
 * finished output in place; workers do the GDAL work (batch_worker.c).
 */
#ifndef RP_BATCH_INTERNAL_H
#define RP_BATCH_INTERNAL_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "gdal_config.h"
#include "rasterpool.h"
#include "shard.h"

enum {
    RP_BATCH_PATH_MAX = 4096,  /* longest input or output path a task carries */
    RP_BATCH_ERROR_MAX = 1024, /* longest error text a worker reports */
    RP_BATCH_MAX_WORKERS = 1024,
};

/* ---- job kinds --------------------------------------------------------- */

typedef struct rp_batch_kind {
    const char *name; /* "warp" */
    const char *tool; /* "gdalwarp": how messages name the options */
    /* In the parent, before anything starts: checks the tool's own options
     * (GDAL's parser) so that a typo is a usage error. */
    rp_status (*validate)(char **tool_args, rp_error *err);
    /* In a worker: makes `output` (a new file) from `input`. On failure
     * fills `error` (GDAL's text). */
    bool (*run)(char **tool_args, const char *input, const char *output, char *error,
                size_t error_cap);
} rp_batch_kind;

/* The kind of that name, or NULL. */
const rp_batch_kind *rp_batch_kind_find(const char *name);
/* The output file extension the tool's options ask for (the -of driver's
 * extension), or NULL when they name none. */
const char *rp_batch_kind_extension(char **tool_args);
/* In a worker, before any task: whether the user set
 * GDAL_DISABLE_READDIR_ON_OPEN (environment or --config); if not, remote
 * inputs are opened with EMPTY_DIR (batch_kinds.c). */
void rp_batch_kinds_user_set_readdir(bool set);

/* ---- options ------------------------------------------------------------ */

struct rp_batch_options {
    const rp_batch_kind *kind;
    char **inputs; /* patterns and paths from the command line */
    int ninputs;
    char *inputs_file; /* --inputs FILE: one path a line */
    char *out_dir;
    char *suffix;     /* added to each output's stem; "" by default */
    char *extension;  /* --ext; NULL: from -of, else "tif" */
    char *log_path;   /* --log; NULL: OUT_DIR/rasterpool-batch.jsonl */
    char **tool_args; /* after "--", NULL-terminated (GDAL's CSL shape) */
    int ntool_args;
    char **config; /* --config KEY VALUE pairs, flattened */
    int nconfig;
    int workers;    /* -j; 0: from CPUs and memory */
    int retries;    /* --retries; default 1 */
    double timeout; /* --timeout seconds per attempt; 0: none */
    bool resume;
    bool quiet;           /* -q: no summary line after a run where every task is done */
    rp_shard shard;       /* --shard I/N; count 0: the whole batch */
    char *worker_program; /* NULL: /proc/self/exe */
    rp_progress_fn progress;
    void *progress_user;
    FILE *log;             /* summary and failures: stderr, a stream of logger, or NULL */
    FILE *info;            /* a line per finished task: a stream of logger, or NULL */
    struct rp_log *logger; /* the caller's rp_log_fn behind log and info */
};

/* ---- tasks ----------------------------------------------------------- */

/* Expands the options' inputs (glob patterns, plain paths, the --inputs
 * list) in order, without duplicates, and names each output
 * OUT_DIR/<stem><suffix>.<ext>. Two inputs that would write the same output
 * are a usage error naming both; so is an empty list. */
typedef struct rp_batch_plan {
    char **inputs;
    char **outputs;
    size_t n;
} rp_batch_plan;

rp_status rp_batch_plan_make(const rp_batch_options *o, rp_batch_plan *plan, rp_error *err);
void rp_batch_plan_free(rp_batch_plan *plan);
/* --shard I/N (batch_shard.c): keeps the tasks at positions k % N == I of
 * the plan sorted by input path (a stable sort: the same shard whatever
 * order the inputs were given in), in the plan's order. An empty shard is
 * not an error. No-op when the shard's count is 0. */
rp_status rp_batch_plan_shard(rp_batch_plan *plan, const rp_shard *shard, rp_error *err);

/* A name of the plan with its task's position (batch_plan.c). */
typedef struct rp_batch_named {
    const char *name;
    size_t index;
} rp_batch_named;
/* names[0..n) with their positions, sorted by name, ties by position (a
 * stable order); NULL when out of memory. The caller frees it. */
rp_batch_named *rp_batch_sort_names(char *const *names, size_t n);
/* Removes the tasks whose drop[i] is set (their strings freed), keeping
 * the others in order. */
void rp_batch_plan_drop(rp_batch_plan *plan, const char *drop);
/* The output name for one input: "<stem><suffix>.<ext>" (no folder), from
 * the last path component, any URL query dropped, the last extension
 * removed. Returns false when it does not fit in cap or the input names no
 * file. */
bool rp_batch_output_name(const char *input, const char *suffix, const char *ext, char *out,
                          size_t cap);

/* ---- messages ------------------------------------------------------------ */

#define RP_BATCH_MAGIC 0x52504231u /* "RPB1" */

typedef enum rp_batch_msg_type {
    RP_MSG_READY = 1,  /* worker -> parent: GDAL is set up */
    RP_MSG_TASK = 2,   /* parent -> worker: make output from input */
    RP_MSG_RESULT = 3, /* worker -> parent: how the task ended */
} rp_batch_msg_type;

typedef struct rp_batch_task_msg {
    uint32_t magic, type;
    uint64_t task;
    char input[RP_BATCH_PATH_MAX];
    char output[RP_BATCH_PATH_MAX]; /* the temporary name to write */
} rp_batch_task_msg;

typedef struct rp_batch_result_msg {
    uint32_t magic, type;
    uint64_t task;
    int32_t ok;
    char error[RP_BATCH_ERROR_MAX];
} rp_batch_result_msg;

/* ---- journal --------------------------------------------------------- */

/* How one attempt of a task ended. One table gives both the enum and the
 * names the journal records (libuv's UV_ERRNO_MAP shape): no drift, and
 * switches over it are checked by -Wswitch. */
#define RP_ATTEMPT_OUTCOME_MAP(XX)                                                                 \
    XX(DONE, "done")               /* the output is in place */                                    \
    XX(ERROR, "error")             /* GDAL failed: the error text says why */                      \
    XX(CRASHED, "crashed")         /* the worker died: signal or exit_code says how */             \
    XX(TIMEOUT, "timeout")         /* killed after --timeout */                                    \
    XX(INTERRUPTED, "interrupted") /* killed by a second Ctrl-C */

typedef enum rp_attempt_outcome {
#define RP_ATTEMPT_OUTCOME_ENUM(id, name) RP_ATTEMPT_##id,
    RP_ATTEMPT_OUTCOME_MAP(RP_ATTEMPT_OUTCOME_ENUM)
#undef RP_ATTEMPT_OUTCOME_ENUM
} rp_attempt_outcome;

/* "done", "error", ...; "unknown" for a value outside the enum. */
const char *rp_attempt_outcome_name(rp_attempt_outcome outcome);
/* The outcome of that journal name; false when it names none. */
bool rp_attempt_outcome_parse(const char *name, rp_attempt_outcome *outcome);

/* What an input was when a task read it: its size and modification time
 * (stat), so that --resume can tell a changed input. */
typedef struct rp_batch_fingerprint {
    bool known; /* false: not a local file stat() can see (/vsi..., missing) */
    int64_t size;
    int64_t mtime_ns; /* nanoseconds since the epoch */
} rp_batch_fingerprint;

typedef struct rp_journal_record {
    const char *input, *output;
    const char *kind; /* warp, translate, calc; NULL: not recorded */
    char **options;   /* the tool's options (after --), NULL-terminated; NULL: none */
    rp_batch_fingerprint input_fp;
    const char *redo; /* why --resume redid a task the journal said was done; NULL */
    int attempt;
    long pid;
    double start_unix; /* seconds since the epoch */
    double seconds;
    rp_attempt_outcome outcome;
    const char *error; /* NULL when none */
    int signal;        /* 0 when none */
    int exit_code;     /* -1 when none */
} rp_journal_record;

/* One JSON object on one line, newline-terminated, NUL-terminated, in a new
 * buffer the caller frees (its length in *len). NULL when out of memory.
 * Any path fits: control characters are escaped (up to 6 bytes each). */
char *rp_journal_format(const rp_journal_record *r, size_t *len);

/* The tool's options as the journal records them (a JSON array of strings,
 * one canonical text: two option lists are the same when their texts are).
 * malloc'ed; NULL when out of memory. */
char *rp_journal_options_text(char *const *options);

/* One parsed record: what --resume needs. Strings are malloc'ed; kind and
 * options are NULL in records of an older rasterpool, which wrote none. */
typedef struct rp_journal_entry {
    char *output, *input;
    char *kind;
    char *options; /* rp_journal_options_text's form */
    rp_batch_fingerprint input_fp;
    bool done;
    size_t order; /* line number: the latest record of an output wins */
} rp_journal_entry;
void rp_journal_entry_clear(rp_journal_entry *e);

/* Parses one journal line into e. Lines that are not records (bad JSON,
 * missing or mistyped fields, an unknown outcome) return false. */
bool rp_journal_parse_record(const char *line, size_t len, rp_journal_entry *e);
/* The same, giving only *output (malloc'ed) and *done (the outcome is
 * "done"). */
bool rp_journal_parse_line(const char *line, size_t len, char **output, bool *done);

/* Opens the journal for appending, creating it (and then fsyncing its
 * folder, so that the new name survives a power loss). A last line cut
 * short by an earlier crash (no newline: never synced whole, not a record to
 * rp_journal_read_done) is cut off, so the next record starts a line of its
 * own. NULL on failure (RP_WRITE in err). */
FILE *rp_journal_open(const char *path, rp_error *err);

/* Appends one record and makes it durable (fflush, then fsync) before it
 * returns: a task counts as done only once its record is on disk, after its
 * output (rp_stage_commit syncs that first). RP_WRITE or RP_NOMEM on
 * failure, naming path. */
rp_status rp_journal_append(FILE *journal, const char *path, const rp_journal_record *rec,
                            rp_error *err);

/* The outputs whose latest record in the journal file says done (a later
 * failure of the same output undoes an earlier done). Only whole records
 * count: a last line without its newline is a record whose append was cut
 * short (it was never synced whole), and is counted in *bad like any other
 * line that cannot be read. A missing file is an empty set. */
typedef struct rp_journal_done {
    rp_journal_entry *entries; /* sorted by output, for bsearch */
    size_t n;
} rp_journal_done;
rp_status rp_journal_read_done(const char *path, rp_journal_done *done, size_t *bad, rp_error *err);
bool rp_journal_done_has(const rp_journal_done *done, const char *output);
/* The latest (done) record of output, or NULL. */
const rp_journal_entry *rp_journal_done_find(const rp_journal_done *done, const char *output);
void rp_journal_done_free(rp_journal_done *done);

/* ---- workers ------------------------------------------------------------- */

/* What the parent tells each worker at start. */
typedef struct rp_batch_worker_setup {
    int gdal_threads;      /* GDAL_NUM_THREADS */
    long long cache_bytes; /* GDAL_CACHEMAX */
} rp_batch_worker_setup;

/* Workers and per-worker GDAL shares for this machine (usable CPUs, memory
 * budget / per-worker estimate), or -j when given. */
int rp_batch_default_workers(int cpus, uint64_t memory);
rp_batch_worker_setup rp_batch_worker_share(int workers, int cpus, uint64_t memory);

#endif
