/*
 * batch_options.c — the batch command line, parsed into options.
 *
 * Same shape as the extract parser (GDAL's *OptionsNew(argv)): argv[0] is
 * "batch" (ignored), argv[1] the kind (warp, translate, ...), then inputs and
 * options in any order; everything after "--" belongs to the GDAL utility and
 * is checked by GDAL's own parser before anything starts, so a typo there is
 * a usage error too.
 *
 * Threads: none. Ownership: the options own copies of every string.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "batch_internal.h"
#include "error.h"

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
    "                     journal record says done\n"
    "\n"
    "Execution:\n"
    "  -j, --jobs N       worker processes (default: the CPUs this process may\n"
    "                     use, capped by memory at 512 MiB a worker)\n"
    "  --retries N        attempts after a crash or timeout (default: 1)\n"
    "  --timeout SECONDS  kill an attempt that runs longer (default: none)\n"
    "  --config KEY VALUE GDAL configuration option for the workers (repeatable)\n"
    "  -v, --verbose      one line per finished task on stderr (no progress bar)\n"
    "  -q, --quiet        no progress bar\n"
    "  -h, --help         this help\n"
    "\n"
    "Ctrl-C once: running tasks finish, no new ones start, the summary is\n"
    "written; twice: workers are killed and their temporaries removed.\n"
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

static void free_list(char **list, int n) {
    for (int i = 0; list && i < n; i++)
        free(list[i]);
    free(list);
}

RP_API void rp_batch_options_free(rp_batch_options *o) {
    if (!o)
        return;
    free_list(o->inputs, o->ninputs);
    free_list(o->tool_args, o->ntool_args);
    free_list(o->config, o->nconfig * 2);
    free(o->inputs_file);
    free(o->out_dir);
    free(o->suffix);
    free(o->extension);
    free(o->log_path);
    free(o->worker_program);
    free(o);
}

/* One option at argv[*i]; returns false on a usage error (err set). */
static bool parse_option(rp_batch_options *o, int argc, const char *const *argv, int *i, bool *oom,
                         rp_error *err) {
    const char *a = argv[*i];
    const char *v = NULL;
    bool failed = false;
    if (strcmp(a, "--resume") == 0) {
        o->resume = true;
    } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
        o->verbose = true;
    } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
        o->quiet = true;
    } else if (rp_argv_match_value(a, NULL, "--inputs", argc, argv, i, &v, err, &failed)) {
        *oom = !failed && rp_argv_set_string(&o->inputs_file, v);
    } else if (rp_argv_match_value(a, NULL, "--out-dir", argc, argv, i, &v, err, &failed)) {
        *oom = !failed && rp_argv_set_string(&o->out_dir, v);
    } else if (rp_argv_match_value(a, NULL, "--suffix", argc, argv, i, &v, err, &failed)) {
        if (!failed && strchr(v, '/')) {
            rp_error_set(err, RP_USAGE, "--suffix '%s': a suffix cannot hold '/'", v);
            return false;
        }
        *oom = !failed && rp_argv_set_string(&o->suffix, v);
    } else if (rp_argv_match_value(a, NULL, "--ext", argc, argv, i, &v, err, &failed)) {
        if (!failed && (!*v || strchr(v, '/'))) {
            rp_error_set(err, RP_USAGE, "--ext '%s' is not a file extension", v);
            return false;
        }
        *oom = !failed && rp_argv_set_string(&o->extension, v[0] == '.' ? v + 1 : v);
    } else if (rp_argv_match_value(a, NULL, "--log", argc, argv, i, &v, err, &failed)) {
        *oom = !failed && rp_argv_set_string(&o->log_path, v);
    } else if (rp_argv_match_value(a, "-j", "--jobs", argc, argv, i, &v, err, &failed)) {
        if (!failed && !rp_argv_parse_int(v, 1, RP_BATCH_MAX_WORKERS, &o->workers)) {
            rp_error_set(err, RP_USAGE, "-j/--jobs: '%s' is not a number from 1 to %d", v,
                         RP_BATCH_MAX_WORKERS);
            return false;
        }
    } else if (rp_argv_match_value(a, NULL, "--retries", argc, argv, i, &v, err, &failed)) {
        if (!failed && !rp_argv_parse_int(v, 0, 100, &o->retries)) {
            rp_error_set(err, RP_USAGE, "--retries: '%s' is not a number from 0 to 100", v);
            return false;
        }
    } else if (rp_argv_match_value(a, NULL, "--timeout", argc, argv, i, &v, err, &failed)) {
        if (failed)
            return false;
        char *end;
        errno = 0;
        double t = strtod(v, &end);
        if (errno || end == v || *end || !isfinite(t) || t <= 0 || t > 1e7) {
            rp_error_set(err, RP_USAGE, "--timeout: '%s' is not a positive number of seconds", v);
            return false;
        }
        o->timeout = t;
    } else if (strcmp(a, "--config") == 0) {
        if (*i + 2 >= argc) {
            rp_error_set(err, RP_USAGE, "--config needs a KEY and a VALUE");
            return false;
        }
        int n = o->nconfig * 2;
        *oom = rp_argv_append(&o->config, &n, argv[*i + 1]) != 0 ||
               rp_argv_append(&o->config, &n, argv[*i + 2]) != 0;
        o->nconfig++;
        *i += 2;
    } else {
        rp_error_set(err, RP_USAGE, "unknown option '%s' (see rasterpool batch --help)", a);
        return false;
    }
    return !failed;
}

RP_API rp_batch_options *rp_batch_options_new(int argc, const char *const *argv, rp_error *err) {
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            rp_error_clear(err);
            return NULL;
        }
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
    bool failed = false, oom = false;
    int i = 2;
    for (; i < argc && !failed && !oom; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || strcmp(a, "-") == 0)
            oom = rp_argv_append(&o->inputs, &o->ninputs, a) != 0;
        else
            failed = !parse_option(o, argc, argv, &i, &oom, err);
    }
    for (; i < argc && !failed && !oom; i++)
        oom = rp_argv_append(&o->tool_args, &o->ntool_args, argv[i]) != 0;
    if (!failed && !oom && !o->tool_args) /* GDAL's parsers take an empty list */
        oom = !(o->tool_args = calloc(1, sizeof *o->tool_args));
    if (oom)
        rp_error_set(err, RP_NOMEM, "out of memory");
    if (!failed && !oom && o->ninputs == 0 && !o->inputs_file) {
        rp_error_set(err, RP_USAGE,
                     "no input given: name files or quoted patterns, or "
                     "--inputs FILE (see rasterpool batch --help)");
        failed = true;
    }
    if (!failed && !oom && (!o->out_dir || !*o->out_dir)) {
        rp_error_set(err, RP_USAGE, "--out-dir DIR is required");
        failed = true;
    }
    if (!failed && !oom && !o->suffix)
        oom = rp_argv_set_string(&o->suffix, "") != 0;
    if (!failed && !oom)
        failed = o->kind->validate(o->tool_args, err) != RP_OK;
    if (failed || oom) {
        rp_batch_options_free(o);
        return NULL;
    }
    return o;
}

RP_API void rp_batch_options_set_progress(rp_batch_options *o, rp_progress_fn fn, void *user) {
    o->progress = fn;
    o->progress_user = user;
}

RP_API int rp_batch_options_quiet(const rp_batch_options *o) {
    return o->quiet;
}

RP_API int rp_batch_options_verbose(const rp_batch_options *o) {
    return o->verbose;
}

RP_API void rp_batch_options_set_log(rp_batch_options *o, FILE *log) {
    o->log = log;
}

RP_API rp_status rp_batch_options_set_worker_program(rp_batch_options *o, const char *path,
                                                     rp_error *err) {
    if (rp_argv_set_string(&o->worker_program, path) != 0)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    return RP_OK;
}
