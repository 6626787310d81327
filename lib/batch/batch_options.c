/*
 * batch_options.c — the batch command line, parsed into options.
 *
 * Same shape as the extract parser (GDAL's *OptionsNew(argv), core's
 * table-driven argv.c): argv[0] is "batch" (ignored), argv[1] the kind (warp, translate, ...), then
 * inputs and options in any order; everything after "--" belongs to the GDAL utility and is checked
 * by GDAL's own parser before anything starts, so a typo there is a usage error too.
 *
 * Threads: none. Ownership: the options own copies of every string.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "batch_internal.h"
#include "error.h"
#include "log.h"

static const char help_text[] =
    "usage: rasterpool batch warp|translate|calc INPUT... --out-dir DIR [options]\n"
    "                        [-- TOOL OPTIONS]\n"
    "\n"
    "Runs one GDAL utility over many files in a pool of worker processes: each\n"
    "input makes one output, written under a temporary name in DIR and renamed\n"
    "into place only when complete, so a failed, crashed, timed-out or\n"
    "interrupted task leaves nothing at its final path. A worker that crashes\n"
    "or hangs is replaced and its task retried.\n"
    "\n"
    "Kinds (their own options go after --, as the utility takes them):\n"
    "  warp        gdalwarp           (-t_srs EPSG:3857 -r bilinear -co ...)\n"
    "  translate   gdal_translate     (-of COG -co COMPRESS=ZSTD ...)\n"
    "  calc        rasterpool calc    (-e \"A*0.1\" --ot Float32 ...; each input is A,\n"
    "                                 the output is named by batch: no -i A=, no -o)\n"
    "\n"
    "Inputs:\n"
    "  INPUT              a file, or a quoted glob pattern ('scenes/*.tif')\n"
    "  --inputs FILE      one input a line (blank lines and lines starting with #\n"
    "                     are skipped); GDAL paths such as /vsicurl/... are fine\n"
    "\n"
    "Outputs:\n"
    "  --out-dir DIR      where outputs go (created if missing)\n"
    "  --suffix TEXT      added to each output's name: <stem><TEXT>.<ext>\n"
    "  --ext EXT          output extension (default: the -of driver's, else tif)\n"
    "  --log FILE         journal, one JSON line per task attempt\n"
    "                     (default: DIR/rasterpool-batch.jsonl; appended to)\n"
    "  --resume           skip inputs whose output exists and whose latest\n"
    "                     journal record says done with the same kind, options\n"
    "                     (after --) and input (path, size, modification time);\n"
    "                     the others are redone, counted by reason on stderr,\n"
    "                     each reason in the journal (\"redo\") and with -v\n"
    "\n"
    "Execution:\n"
    "  -j, --jobs N       worker processes (default: the CPUs this process may\n"
    "                     use, capped by memory at 512 MiB a worker)\n"
    "  --retries N        attempts after a crash or timeout (default: 1)\n"
    "  --timeout SECONDS  kill an attempt that runs longer (default: none)\n"
    "  --config KEY VALUE GDAL configuration option for the workers (repeatable)\n"
    "  --shard I/N        only part I (0-based) of N: every N-th input after sorting\n"
    "                     them by path; for job arrays (sbatch --array=0-99 with\n"
    "                     --shard $SLURM_ARRAY_TASK_ID/100); the journal is then\n"
    "                     DIR/rasterpool-batch.shard-I-of-N.jsonl (docs/cluster.md)\n"
    "  -v, --verbose      one line per finished task on stderr (no progress bar)\n"
    "  -q, --quiet        no progress bar, and no summary when every task is done\n"
    "                     (failures, warnings and an interrupted run's summary\n"
    "                     are still printed)\n"
    "  -h, --help         this help\n"
    "\n"
    "Ctrl-C once: running tasks finish, no new ones start, the summary is\n"
    "written; twice, or SIGTERM: workers are killed and their temporaries\n"
    "removed, within about a second (exit 130).\n"
    "\n"
    "Exit status: 0 all done; 1 some tasks failed (listed on stderr and in the\n"
    "journal); 2 usage error; 3 the output folder or journal cannot be written;\n"
    "130 interrupted.\n"
    "\n"
    "Examples:\n"
    "  rasterpool batch warp 'scenes/*.tif' --out-dir warped/ -j 8 -- -t_srs EPSG:3857\n"
    "  rasterpool batch translate --inputs list.txt --out-dir cogs/ --suffix _cog -- -of COG\n"
    "  rasterpool batch calc 'tiles/*.tif' --out-dir scaled/ -- -e \"A*0.1\"\n"
    "  rasterpool batch warp 'scenes/*.tif' --out-dir warped/ --resume -- -t_srs EPSG:3857\n";

RP_API const char *rp_batch_help(void) {
    return help_text;
}

RP_API void rp_batch_options_free(rp_batch_options *o) {
    if (!o)
        return;
    rp_argv_free_list(o->inputs, o->ninputs);
    rp_argv_free_list(o->tool_args, o->ntool_args);
    rp_argv_free_list(o->config, o->nconfig * 2);
    free(o->inputs_file);
    free(o->out_dir);
    free(o->suffix);
    free(o->extension);
    free(o->log_path);
    free(o->worker_program);
    rp_log_free(o->logger);
    free(o);
}

static rp_status add_input(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    rp_batch_options *o = target;
    if (rp_argv_append(&o->inputs, &o->ninputs, v) != 0)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    return RP_OK;
}

static rp_status set_suffix(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    rp_batch_options *o = target;
    if (strchr(v, '/'))
        return rp_error_set(err, RP_USAGE, "--suffix '%s': a suffix cannot hold '/'", v);
    return rp_argv_set_string(&o->suffix, v) == 0 ? RP_OK
                                                  : rp_error_set(err, RP_NOMEM, "out of memory");
}

static rp_status set_extension(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    rp_batch_options *o = target;
    if (!*v || strchr(v, '/'))
        return rp_error_set(err, RP_USAGE, "--ext '%s' is not a file extension", v);
    return rp_argv_set_string(&o->extension, v[0] == '.' ? v + 1 : v) == 0
               ? RP_OK
               : rp_error_set(err, RP_NOMEM, "out of memory");
}

static rp_status set_shard(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    return rp_shard_parse(v, "--shard", &((rp_batch_options *)target)->shard, err);
}

static rp_status set_timeout(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    rp_batch_options *o = target;
    char *end;
    errno = 0;
    double t = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(t) || t <= 0 || t > 1e7)
        return rp_error_set(err, RP_USAGE, "--timeout: '%s' is not a positive number of seconds",
                            v);
    o->timeout = t;
    return RP_OK;
}

#define FIELD(name) offsetof(rp_batch_options, name)
static const rp_opt batch_table[] = {
    RP_ARGV_COMMON_OPTIONS(rp_batch_options, "--jobs", workers, RP_BATCH_MAX_WORKERS),
    {.long_name = "--inputs",
     .kind = RP_OPT_STRING,
     .offset = FIELD(inputs_file),
     .metavar = "FILE",
     .help = "one input a line"},
    {.long_name = "--out-dir",
     .kind = RP_OPT_STRING,
     .offset = FIELD(out_dir),
     .metavar = "DIR",
     .help = "where outputs go"},
    {.long_name = "--suffix",
     .kind = RP_OPT_CALL,
     .metavar = "TEXT",
     .help = "added to each output's name",
     .handle = set_suffix},
    {.long_name = "--ext",
     .kind = RP_OPT_CALL,
     .metavar = "EXT",
     .help = "output extension",
     .handle = set_extension},
    {.long_name = "--log",
     .kind = RP_OPT_STRING,
     .offset = FIELD(log_path),
     .metavar = "FILE",
     .help = "the journal"},
    {.long_name = "--resume",
     .kind = RP_OPT_FLAG,
     .offset = FIELD(resume),
     .help = "skip inputs done by an earlier run"},
    {.long_name = "--retries",
     .kind = RP_OPT_INT,
     .offset = FIELD(retries),
     .min = 0,
     .max = 100,
     .metavar = "N",
     .help = "attempts after a crash or timeout"},
    {.long_name = "--timeout",
     .kind = RP_OPT_CALL,
     .metavar = "SECONDS",
     .help = "kill an attempt that runs longer",
     .handle = set_timeout},
    {.long_name = "--shard",
     .kind = RP_OPT_CALL,
     .metavar = "I/N",
     .help = "only part I of N (job arrays)",
     .handle = set_shard},
    {.long_name = NULL},
};
#undef FIELD

/* --help anywhere before "--" wins, even without a kind. */
static bool asks_for_help(int argc, const char *const *argv) {
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return true;
    return false;
}

/* The checks that need every option, then GDAL's own check of the tool's. */
static rp_status check_whole(rp_batch_options *o, rp_error *err) {
    if (!o->tool_args && !(o->tool_args = calloc(1, sizeof *o->tool_args)))
        return rp_error_set(err, RP_NOMEM, "out of memory"); /* GDAL takes an empty list */
    if (o->ninputs == 0 && !o->inputs_file)
        return rp_error_set(err, RP_USAGE,
                            "no input given: name files or quoted patterns, or "
                            "--inputs FILE (see rasterpool batch --help)");
    if (!o->out_dir || !*o->out_dir)
        return rp_error_set(err, RP_USAGE, "--out-dir DIR is required");
    if (o->log_path && !*o->log_path)
        return rp_error_set(err, RP_USAGE,
                            "--log: empty file name (omit --log for the default journal "
                            "in --out-dir)");
    if (!o->suffix && rp_argv_set_string(&o->suffix, "") != 0)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    return o->kind->validate(o->tool_args, err);
}

RP_API rp_batch_options *rp_batch_options_new(int argc, const char *const *argv, rp_cli_flags *cli,
                                              rp_error *err) {
    rp_argv_cli_clear(cli);
    if (asks_for_help(argc, argv)) {
        if (cli)
            cli->help = 1;
        rp_error_clear(err);
        return NULL;
    }
    if (argc < 2) {
        rp_error_set(err, RP_USAGE,
                     "batch needs a kind: warp, translate or calc "
                     "(see rasterpool batch --help)");
        return NULL;
    }
    const rp_batch_kind *kind = rp_batch_kind_find(argv[1]);
    if (!kind) {
        rp_error_set(err, RP_USAGE, "unknown batch kind '%s' (warp, translate or calc)", argv[1]);
        return NULL;
    }
    rp_batch_options *o = calloc(1, sizeof *o);
    if (!o) {
        rp_error_set(err, RP_NOMEM, "out of memory");
        return NULL;
    }
    o->kind = kind;
    o->retries = 1;
    o->log = stderr;
    rp_argv_parser parser = {.command = "batch",
                             .options = batch_table,
                             .target = o,
                             .cli = cli,
                             .positional = add_input,
                             .dashdash = RP_ARGV_DASHDASH_STOP};
    int next = argc;
    bool ok = rp_argv_parse(&parser, argc, argv, 2, &next, err) == RP_ARGV_DONE;
    o->quiet = cli && cli->quiet;
    for (int i = next; ok && i < argc; i++) { /* the tool's arguments, after "--" */
        if (rp_argv_append(&o->tool_args, &o->ntool_args, argv[i]) != 0) {
            rp_error_set(err, RP_NOMEM, "out of memory");
            ok = false;
        }
    }
    if (!ok || check_whole(o, err) != RP_OK) {
        rp_batch_options_free(o);
        return NULL;
    }
    return o;
}

RP_API void rp_batch_options_set_progress(rp_batch_options *o, rp_progress_fn fn, void *user) {
    o->progress = fn;
    o->progress_user = user;
}

RP_API rp_status rp_batch_options_set_log(rp_batch_options *o, rp_log_fn fn, void *user) {
    return rp_log_replace(&o->logger, &o->log, &o->info, fn, user);
}

RP_API rp_status rp_batch_options_set_worker_program(rp_batch_options *o, const char *path,
                                                     rp_error *err) {
    if (rp_argv_set_string(&o->worker_program, path) != 0)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    return RP_OK;
}
