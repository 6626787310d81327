/*
 * calc_options.c — the calc command line, parsed into options.
 *
 * One parser serves the CLI, C callers and each input of `batch calc`
 * (GDAL's *OptionsNew(argv) shape): the option table below, read by core's
 * table-driven parser (argv.c), which takes `--name value`, `--name=value`,
 * `-n value` and `-nVALUE`. Expressions are translated and checked by muparser here,
 * so a typo is a usage error with its position before any file is opened.
 *
 * Threads: none. Ownership: the options own copies of every string.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cpl_string.h>

#include "argv.h"
#include "calc_internal.h"
#include "error.h"
#include "log.h"

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
    "                     geotransform and CRS (nothing is resampled). A Byte band\n"
    "                     with PIXELTYPE=SIGNEDBYTE (Int8 on GDAL 3.6) reads as\n"
    "                     -128..127, its nodata -128 included. Inputs without a\n"
    "                     geotransform must share their GCPs or RPCs. The output\n"
    "                     keeps the first input's georeferencing (geotransform or\n"
    "                     GCPs), RPCs, CRS, metadata and, for Byte/UInt16 bands,\n"
    "                     colour tables.\n"
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
    "are nodata in integer outputs. The output's nodata value is --nodata, else,\n"
    "when a band read has one or an expression uses nodata, gdal_calc.py's default\n"
    "for the output type (Byte 255, UInt16 65535, Int16 -32768, UInt32 4294967293,\n"
    "Int32 -2147483647, Float32 3.4028235e38, Float64 1.7976931348623157e308), never\n"
    "the inputs' value: a valid result equal to it would read as nodata. Valid\n"
    "results that are stored as the nodata value anyway are counted, and a warning\n"
    "names the band and the count.\n"
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
    "  --nodata VALUE     the output's nodata value (default: the output type's, see\n"
    "                     Nodata above; 'nan' is allowed for float types)\n"
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
    "  rasterpool calc -i A=rgb.tif --kernel build/reverse_bands.so:reverse_bands \\\n"
    "      -o out.tif     # the example kernel, examples/kernels/reverse_bands.c,\n"
    "                     # built by: cmake --build build --target reverse_bands\n";

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
    rp_argv_free_list(o->config, o->nconfig * 2);
    rp_log_free(o->logger);
    free(o);
}

/* The -e texts, kept until every -i is known. */
typedef struct expr_texts {
    char **list;
    int n;
} expr_texts;

static bool valid_name(const char *s, size_t len) {
    if (len == 0 || len > 64 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
            return false;
    return true;
}

static rp_status add_input(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    rp_calc_options *o = target;
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

static rp_status parse_type(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    int *out = &((rp_calc_options *)target)->out_type;
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

static rp_status parse_nodata(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    rp_calc_options *o = target;
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || *end || (errno == ERANGE && isinf(d)))
        return rp_error_set(err, RP_USAGE, "--nodata: '%s' is not a number", v);
    o->nodata = d;
    o->has_nodata = true;
    return RP_OK;
}

/* -e: kept as text until every -i is known (ctx: the expression list). */
static rp_status add_expr(void *target, void *ctx, const char *v, rp_error *err) {
    (void)target;
    expr_texts *texts = ctx;
    if (rp_argv_append(&texts->list, &texts->n, v) != 0)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    return RP_OK;
}

static rp_status set_kernel(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    rp_calc_options *o = target;
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v || !colon[1])
        return rp_error_set(err, RP_USAGE, "--kernel: '%s' is not LIBRARY.so:SYMBOL", v);
    return rp_argv_set_string(&o->kernel_spec, v) == 0
               ? RP_OK
               : rp_error_set(err, RP_NOMEM, "out of memory");
}

static rp_status set_output(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    rp_calc_options *o = target;
    if (!*v)
        return rp_error_set(err, RP_USAGE, "-o/--output: empty file name");
    return rp_argv_set_string(&o->output_path, v) == 0
               ? RP_OK
               : rp_error_set(err, RP_NOMEM, "out of memory");
}

static rp_status set_format(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    rp_calc_options *o = target;
    if (strcasecmp(v, "GTiff") != 0 && strcasecmp(v, "COG") != 0)
        return rp_error_set(err, RP_USAGE, "--of: '%s' is not GTiff or COG", v);
    const char *name = strcasecmp(v, "COG") == 0 ? "COG" : "GTiff";
    return rp_argv_set_string(&o->format, name) == 0 ? RP_OK
                                                     : rp_error_set(err, RP_NOMEM, "out of memory");
}

static rp_status add_creation_option(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    rp_calc_options *o = target;
    if (!strchr(v, '=') || v[0] == '=')
        return rp_error_set(err, RP_USAGE, "--co: '%s' is not KEY=VALUE", v);
    o->creation_options = CSLAddString(o->creation_options, v);
    return RP_OK;
}

/* calc takes no positional argument: inputs have names. */
static rp_status reject_positional(void *target, void *ctx, const char *v, rp_error *err) {
    (void)target;
    (void)ctx;
    return rp_error_set(err, RP_USAGE,
                        "unexpected argument '%s' (inputs are given with -i NAME=FILE; see "
                        "rasterpool calc --help)",
                        v);
}

#define FIELD(name) offsetof(rp_calc_options, name)
static const rp_opt calc_table[] = {
    RP_ARGV_COMMON_OPTIONS(rp_calc_options, "--threads", threads, RP_CALC_MAX_THREADS),
    {.long_name = "--input",
     .short_name = "-i",
     .kind = RP_OPT_CALL,
     .metavar = "NAME=FILE",
     .help = "an input raster, named for the expressions",
     .handle = add_input},
    {.long_name = "--expr",
     .short_name = "-e",
     .kind = RP_OPT_CALL,
     .metavar = "EXPR",
     .help = "one output band (repeatable)",
     .handle = add_expr},
    {.long_name = "--kernel",
     .kind = RP_OPT_CALL,
     .metavar = "LIB.so:SYMBOL",
     .help = "a C kernel instead of expressions",
     .handle = set_kernel},
    {.long_name = "--kernel-arg",
     .kind = RP_OPT_STRING,
     .offset = FIELD(kernel_arg),
     .metavar = "TEXT",
     .help = "a string handed to the kernel"},
    {.long_name = "--bands",
     .kind = RP_OPT_INT,
     .offset = FIELD(out_bands),
     .min = 1,
     .max = RP_CALC_MAX_BANDS,
     .metavar = "N",
     .help = "output bands of a kernel"},
    {.long_name = "--output",
     .short_name = "-o",
     .kind = RP_OPT_CALL,
     .metavar = "FILE",
     .help = "the output raster",
     .handle = set_output},
    {.long_name = "--of",
     .kind = RP_OPT_CALL,
     .metavar = "FORMAT",
     .help = "GTiff or COG",
     .handle = set_format},
    {.long_name = "--ot",
     .kind = RP_OPT_CALL,
     .metavar = "TYPE",
     .help = "output data type",
     .handle = parse_type},
    {.long_name = "--co",
     .kind = RP_OPT_CALL,
     .metavar = "KEY=VALUE",
     .help = "a creation option (repeatable)",
     .handle = add_creation_option},
    {.long_name = "--nodata",
     .kind = RP_OPT_CALL,
     .metavar = "VALUE",
     .help = "the output's nodata value",
     .handle = parse_nodata},
    {.long_name = NULL},
};
#undef FIELD

/* Translates and checks all -e expressions once every -i is known. */
static rp_status translate_all(rp_calc_options *o, char **texts, int ntexts, rp_error *err) {
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

/* The checks that need every option: inputs and output given, expressions
 * or a kernel, the expressions translated. */
static rp_status check_whole(rp_calc_options *o, const expr_texts *texts, rp_error *err) {
    if (o->ninputs == 0)
        return rp_error_set(err, RP_USAGE,
                            "no input given: -i NAME=FILE (see rasterpool calc --help)");
    if (!o->output_path)
        return rp_error_set(err, RP_USAGE, "no output given: -o FILE");
    if (texts->n && o->kernel_spec)
        return rp_error_set(err, RP_USAGE, "give either -e expressions or --kernel, not both");
    if (o->out_bands && texts->n)
        return rp_error_set(err, RP_USAGE,
                            "--bands is for kernels; expressions give one band each");
    rp_status rc = translate_all(o, texts->list, texts->n, err);
    if (rc == RP_OK && !o->format && rp_argv_set_string(&o->format, "GTiff") != 0)
        rc = rp_error_set(err, RP_NOMEM, "out of memory");
    return rc;
}

RP_API rp_calc_options *rp_calc_options_new(int argc, const char *const *argv, rp_cli_flags *cli,
                                            rp_error *err) {
    rp_argv_cli_clear(cli);
    rp_calc_options *o = calloc(1, sizeof *o);
    if (!o) {
        rp_error_set(err, RP_NOMEM, "out of memory");
        return NULL;
    }
    o->log = stderr;
    o->out_type = GDT_Unknown;
    expr_texts texts = {NULL, 0};
    rp_argv_parser parser = {.command = "calc",
                             .options = calc_table,
                             .target = o,
                             .ctx = &texts,
                             .cli = cli,
                             .positional = reject_positional,
                             .dashdash = RP_ARGV_DASHDASH_UNKNOWN};
    rp_argv_result r = rp_argv_parse(&parser, argc, argv, 1, NULL, err);
    if (r == RP_ARGV_DONE && check_whole(o, &texts, err) != RP_OK)
        r = RP_ARGV_FAILED;
    rp_argv_free_list(texts.list, texts.n);
    if (r != RP_ARGV_DONE) {
        if (r == RP_ARGV_HELP)
            rp_error_clear(err);
        rp_calc_options_free(o);
        return NULL;
    }
    return o;
}

RP_API void rp_calc_options_set_progress(rp_calc_options *o, rp_progress_fn fn, void *user) {
    o->progress = fn;
    o->progress_user = user;
}

RP_API rp_status rp_calc_options_set_log(rp_calc_options *o, rp_log_fn fn, void *user) {
    return rp_log_replace(&o->logger, &o->log, &o->info, fn, user);
}

RP_API void rp_calc_options_set_kernel(rp_calc_options *o, rp_kernel_fn fn, void *user) {
    o->kernel = fn;
    o->kernel_user = user;
}
