/*
 * calc_options.c — the calc command line, parsed into options.
 *
 * One parser serves the CLI, C callers and (later) each line of a batch
 * (GDAL's *OptionsNew(argv) shape). Options are `--name value` or
 * `--name=value`. Expressions are translated and checked by muparser here,
 * so a typo is a usage error with its position before any file is opened.
 *
 * Threads: none. Ownership: the options own copies of every string.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cpl_conv.h>
#include <cpl_string.h>

#include "argv.h"
#include "calc_internal.h"
#include "error.h"

enum { RP_CALC_MAX_THREADS = 1024, RP_CALC_MAX_BANDS = 65535 };

static const char help_text[] =
    "usage: rasterpool calc -i NAME=FILE [-i ...] (-e EXPR [-e ...] | --kernel LIB.so:SYMBOL)\n"
    "                       -o OUTPUT [options]\n"
    "\n"
    "Computes a raster window by window on worker threads and writes a tiled GeoTIFF\n"
    "(or COG) from one writer, in window order. The output appears only when\n"
    "complete; on an error or Ctrl-C nothing is left behind.\n"
    "\n"
    "Inputs and what to compute:\n"
    "  -i, --input NAME=FILE  an input raster, named for the expressions (A, B, nir,\n"
    "                     ...: letters, digits, _). All inputs must share size,\n"
    "                     geotransform and CRS (nothing is resampled).\n"
    "  -e, --expr EXPR    one output band (repeat for several bands, in order).\n"
    "                     muparser syntax: + - * / ^, comparisons, && ||, c ? a : b,\n"
    "                     sin cos tan log log2 log10 ln exp sqrt abs sign rint min\n"
    "                     max sum avg, _pi, _e. A is band 1 of input A, A[3] band 3.\n"
    "                     nodata is the output's nodata value; isnodata(A[2]) is 1\n"
    "                     where that band is nodata. Computed in double precision.\n"
    "  --kernel LIB.so:SYMBOL  instead of expressions, a C function of type\n"
    "                     rp_kernel_fn (rasterpool.h) called on every window\n"
    "  --kernel-arg TEXT  a string handed to the kernel (its user pointer)\n"
    "  --bands N          output bands of a kernel (default: the first input's)\n"
    "\n"
    "Nodata: a pixel where a band an expression reads is nodata (its band's nodata\n"
    "value, or NaN when that is NaN) is nodata in that output band, as gdal_calc.py\n"
    "does; an expression that uses isnodata() decides itself instead. NaN results\n"
    "are nodata in integer outputs.\n"
    "\n"
    "Output:\n"
    "  -o, --output FILE  the output raster (replaced if it exists)\n"
    "  --of FORMAT        GTiff (default; tiled) or COG\n"
    "  --ot TYPE          Byte, UInt16, Int16, UInt32, Int32, Float32, Float64.\n"
    "                     Default for expressions: Float32, or Float64 when an input\n"
    "                     band read is Float64 or a 32-bit integer; for kernels: the\n"
    "                     first input's type. Integers round half away from zero and\n"
    "                     clamp to the type's range.\n"
    "  --co KEY=VALUE     a creation option of the format (repeatable), e.g.\n"
    "                     COMPRESS=DEFLATE, BLOCKXSIZE=512\n"
    "  --nodata VALUE     the output's nodata value (default: the first nodata of the\n"
    "                     bands read, if any; 'nan' is allowed for float types)\n"
    "\n"
    "Execution:\n"
    "  -j, --threads N    compute threads (default: the CPUs this process may use);\n"
    "                     one more thread writes. Output bytes do not depend on N.\n"
    "  --config KEY VALUE set a GDAL configuration option (repeatable)\n"
    "  -v, --verbose      print a summary on stderr\n"
    "  -q, --quiet        no progress bar (it shows on a terminal for long jobs)\n"
    "  -h, --help         this help\n"
    "\n"
    "Exit status: 0 done; 1 the kernel reported an error (no output); 2 usage error\n"
    "(bad expression, mismatched grids, ...); 3 an input cannot be read or the\n"
    "output written; 130 interrupted.\n"
    "\n"
    "Examples:\n"
    "  rasterpool calc -i A=nir.tif -i B=red.tif -e \"(A-B)/(A+B)\" -o ndvi.tif \\\n"
    "      --ot Float32 --co COMPRESS=DEFLATE -j 8\n"
    "  rasterpool calc -i A=rgb.tif -e \"A[3]\" -e \"A[2]\" -e \"A[1]\" -o bgr.tif\n"
    "  rasterpool calc -i A=dem.tif -e \"A > 1000 ? A : nodata\" --nodata -9999 \\\n"
    "      -o high.tif --of COG\n"
    "  rasterpool calc -i A=rgb.tif --kernel ./reverse.so:reverse_bands -o out.tif\n";

RP_API const char *rp_calc_help(void) {
    return help_text;
}

RP_API void rp_calc_options_free(rp_calc_options *o) {
    if (!o)
        return;
    for (int i = 0; i < o->ninputs; i++) {
        free(o->inputs[i].name);
        free(o->inputs[i].path);
    }
    free(o->inputs);
    for (int i = 0; i < o->nexprs; i++)
        rp_calc_expr_clear(&o->exprs[i]);
    free(o->exprs);
    free(o->refs);
    free(o->kernel_spec);
    free(o->kernel_arg);
    free(o->output_path);
    free(o->format);
    CSLDestroy(o->creation_options);
    for (int i = 0; i < o->nconfig * 2; i++)
        free(o->config[i]);
    free(o->config);
    free(o);
}

static bool valid_name(const char *s, size_t len) {
    if (len == 0 || len > 64 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
            return false;
    return true;
}

static rp_status add_input(rp_calc_options *o, const char *v, rp_error *err) {
    const char *eq = strchr(v, '=');
    if (!eq || !valid_name(v, (size_t)(eq - v)) || !eq[1])
        return rp_error_set(err, RP_USAGE,
                            "-i/--input: '%s' is not NAME=FILE (NAME: letters, digits and _, "
                            "not starting with a digit; e.g. -i A=dem.tif)",
                            v);
    size_t len = (size_t)(eq - v);
    char *name = strndup(v, len);
    if (!name)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    if (rp_calc_name_reserved(name)) {
        rp_status rc = rp_error_set(err, RP_USAGE,
                                    "-i/--input: '%s' is a function, constant or keyword of "
                                    "expressions; pick another input name",
                                    name);
        free(name);
        return rc;
    }
    for (int k = 0; k < o->ninputs; k++) {
        if (strcmp(o->inputs[k].name, name) == 0) {
            rp_status rc =
                rp_error_set(err, RP_USAGE, "-i/--input: the name '%s' is given twice", name);
            free(name);
            return rc;
        }
    }
    rp_calc_input *grown = realloc(o->inputs, (size_t)(o->ninputs + 1) * sizeof *grown);
    char *path = strdup(eq + 1);
    if (!grown || !path) {
        if (grown)
            o->inputs = grown;
        free(name);
        free(path);
        return rp_error_set(err, RP_NOMEM, "out of memory");
    }
    o->inputs = grown;
    o->inputs[o->ninputs++] = (rp_calc_input){.name = name, .path = path};
    return RP_OK;
}

static rp_status parse_type(const char *v, int *out, rp_error *err) {
    static const GDALDataType allowed[] = {GDT_Byte,  GDT_UInt16,  GDT_Int16,  GDT_UInt32,
                                           GDT_Int32, GDT_Float32, GDT_Float64};
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        if (strcasecmp(v, GDALGetDataTypeName(allowed[i])) == 0) {
            *out = (int)allowed[i];
            return RP_OK;
        }
    }
    return rp_error_set(err, RP_USAGE,
                        "--ot: '%s' is not one of Byte, UInt16, Int16, UInt32, Int32, Float32, "
                        "Float64",
                        v);
}

static rp_status parse_nodata(const char *v, double *out, rp_error *err) {
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || *end || (errno == ERANGE && isinf(d)))
        return rp_error_set(err, RP_USAGE, "--nodata: '%s' is not a number", v);
    *out = d;
    return RP_OK;
}

/* Translates and checks all -e expressions once every -i is known. */
static rp_status translate_all(rp_calc_options *o, const char **texts, int ntexts, rp_error *err) {
    if (ntexts == 0)
        return RP_OK;
    o->exprs = calloc((size_t)ntexts, sizeof *o->exprs);
    if (!o->exprs)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    for (int k = 0; k < ntexts; k++) {
        rp_status rc = rp_calc_expr_translate(texts[k], k, o->inputs, o->ninputs, &o->exprs[k],
                                              &o->refs, &o->nrefs, err);
        if (rc != RP_OK)
            return rc;
        o->nexprs = k + 1;
    }
    for (int k = 0; k < o->nexprs; k++) {
        rp_status rc = rp_calc_expr_check(&o->exprs[k], k, o->nrefs, err);
        if (rc != RP_OK)
            return rc;
    }
    return RP_OK;
}

RP_API rp_calc_options *rp_calc_options_new(int argc, const char *const *argv, rp_error *err) {
    rp_calc_options *o = calloc(1, sizeof *o);
    const char **texts = calloc((size_t)(argc > 0 ? argc : 1), sizeof *texts);
    if (!o || !texts) {
        free(o);
        free(texts);
        rp_error_set(err, RP_NOMEM, "out of memory");
        return NULL;
    }
    int ntexts = 0;
    o->log = stderr;
    o->out_type = GDT_Unknown;
    bool failed = false, oom = false;
    for (int i = 1; i < argc && !failed && !oom; i++) {
        const char *a = argv[i];
        const char *v = NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            free(texts);
            rp_calc_options_free(o);
            if (err)
                rp_error_clear(err);
            return NULL;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            o->verbose = true;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            o->quiet = true;
        } else if (rp_argv_match_value(a, "-i", "--input", argc, argv, &i, &v, err, &failed)) {
            if (!failed)
                failed = add_input(o, v, err) != RP_OK;
        } else if (rp_argv_match_value(a, "-e", "--expr", argc, argv, &i, &v, err, &failed)) {
            if (!failed)
                texts[ntexts++] = v;
        } else if (rp_argv_match_value(a, NULL, "--kernel", argc, argv, &i, &v, err, &failed)) {
            const char *colon = strrchr(v, ':');
            if (!failed && (!colon || colon == v || !colon[1])) {
                rp_error_set(err, RP_USAGE, "--kernel: '%s' is not LIBRARY.so:SYMBOL", v);
                failed = true;
            }
            oom = !failed && rp_argv_set_string(&o->kernel_spec, v);
        } else if (rp_argv_match_value(a, NULL, "--kernel-arg", argc, argv, &i, &v, err, &failed)) {
            oom = !failed && rp_argv_set_string(&o->kernel_arg, v);
        } else if (rp_argv_match_value(a, "-o", "--output", argc, argv, &i, &v, err, &failed)) {
            if (!failed && !*v) {
                rp_error_set(err, RP_USAGE, "-o/--output: empty file name");
                failed = true;
            }
            oom = !failed && rp_argv_set_string(&o->output_path, v);
        } else if (rp_argv_match_value(a, NULL, "--of", argc, argv, &i, &v, err, &failed)) {
            if (!failed && strcasecmp(v, "GTiff") != 0 && strcasecmp(v, "COG") != 0) {
                rp_error_set(err, RP_USAGE, "--of: '%s' is not GTiff or COG", v);
                failed = true;
            }
            oom = !failed &&
                  rp_argv_set_string(&o->format, strcasecmp(v, "COG") == 0 ? "COG" : "GTiff");
        } else if (rp_argv_match_value(a, NULL, "--ot", argc, argv, &i, &v, err, &failed)) {
            failed = failed || parse_type(v, &o->out_type, err) != RP_OK;
        } else if (rp_argv_match_value(a, NULL, "--co", argc, argv, &i, &v, err, &failed)) {
            if (!failed && (!strchr(v, '=') || v[0] == '=')) {
                rp_error_set(err, RP_USAGE, "--co: '%s' is not KEY=VALUE", v);
                failed = true;
            }
            if (!failed)
                o->creation_options = CSLAddString(o->creation_options, v);
        } else if (rp_argv_match_value(a, NULL, "--nodata", argc, argv, &i, &v, err, &failed)) {
            failed = failed || parse_nodata(v, &o->nodata, err) != RP_OK;
            o->has_nodata = !failed;
        } else if (rp_argv_match_value(a, NULL, "--bands", argc, argv, &i, &v, err, &failed)) {
            if (!failed && !rp_argv_parse_int(v, 1, RP_CALC_MAX_BANDS, &o->out_bands)) {
                rp_error_set(err, RP_USAGE, "--bands: '%s' is not a number from 1 to %d", v,
                             RP_CALC_MAX_BANDS);
                failed = true;
            }
        } else if (rp_argv_match_value(a, "-j", "--threads", argc, argv, &i, &v, err, &failed)) {
            if (!failed && !rp_argv_parse_int(v, 1, RP_CALC_MAX_THREADS, &o->threads)) {
                rp_error_set(err, RP_USAGE, "-j/--threads: '%s' is not a number from 1 to %d", v,
                             RP_CALC_MAX_THREADS);
                failed = true;
            }
        } else if (strcmp(a, "--config") == 0) {
            if (i + 2 >= argc) {
                rp_error_set(err, RP_USAGE, "--config needs a KEY and a VALUE");
                failed = true;
                break;
            }
            int n = o->nconfig * 2;
            oom = rp_argv_append(&o->config, &n, argv[i + 1]) != 0 ||
                  rp_argv_append(&o->config, &n, argv[i + 2]) != 0;
            o->nconfig++;
            i += 2;
        } else {
            rp_error_set(err, RP_USAGE,
                         a[0] == '-' ? "unknown option '%s' (see rasterpool calc --help)"
                                     : "unexpected argument '%s' (inputs are given with -i "
                                       "NAME=FILE; see rasterpool calc --help)",
                         a);
            failed = true;
        }
    }
    if (oom)
        rp_error_set(err, RP_NOMEM, "out of memory");
    if (!failed && !oom) {
        if (o->ninputs == 0) {
            rp_error_set(err, RP_USAGE,
                         "no input given: -i NAME=FILE (see rasterpool calc --help)");
            failed = true;
        } else if (!o->output_path) {
            rp_error_set(err, RP_USAGE, "no output given: -o FILE");
            failed = true;
        } else if (ntexts && o->kernel_spec) {
            rp_error_set(err, RP_USAGE, "give either -e expressions or --kernel, not both");
            failed = true;
        } else if (o->out_bands && ntexts) {
            rp_error_set(err, RP_USAGE, "--bands is for kernels; expressions give one band each");
            failed = true;
        } else {
            failed = translate_all(o, texts, ntexts, err) != RP_OK;
        }
    }
    if (!failed && !oom && !o->format)
        oom = rp_argv_set_string(&o->format, "GTiff") != 0;
    free(texts);
    if (failed || oom) {
        if (oom)
            rp_error_set(err, RP_NOMEM, "out of memory");
        rp_calc_options_free(o);
        return NULL;
    }
    return o;
}

RP_API void rp_calc_options_set_progress(rp_calc_options *o, rp_progress_fn fn, void *user) {
    o->progress = fn;
    o->progress_user = user;
}

RP_API int rp_calc_options_quiet(const rp_calc_options *o) {
    return o->quiet;
}

RP_API void rp_calc_options_set_log(rp_calc_options *o, FILE *log) {
    o->log = log;
}

RP_API void rp_calc_options_set_kernel(rp_calc_options *o, rp_kernel_fn fn, void *user) {
    o->kernel = fn;
    o->kernel_user = user;
}

void rp_calc_apply_config(char **config, int nconfig, bool set) {
    for (int i = 0; i < nconfig; i++)
        CPLSetThreadLocalConfigOption(config[2 * i], set ? config[2 * i + 1] : NULL);
}
