/*
 * batch_kinds.c — what one batch task does, per kind: warp (GDALWarp) and
 * translate (GDALTranslate), with the utility's options parsed by GDAL's own
 * GDALWarpAppOptionsNew / GDALTranslateOptionsNew; and calc (rasterpool's
 * own calc library: rp_calc_options_new + rp_calc_run, the input given as
 * -i A=INPUT, the output as -o, everything else as calc takes it).
 *
 * validate runs in the parent before any worker starts; run runs in a worker
 * process, one task at a time, with a GDAL error capture pushed around the
 * whole task: any CE_Failure raised while reading, warping, writing or
 * closing fails the task, even when GDAL returned a dataset (a block that
 * could not be read must not become a silently blank output). GDALClose
 * returns nothing in GDAL 3.6, so write errors at close are seen through
 * that capture.
 *
 * Threads: none of its own (GDAL may use GDAL_NUM_THREADS inside a task).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cpl_conv.h>
#include <gdal.h>
#include <gdal_utils.h>

#include "batch_internal.h"
#include "gdal_errors.h"
#include "remote.h"

static void copy_text(char *dst, size_t cap, const char *src) {
    snprintf(dst, cap, "%s", src);
}

/* ---- validation in the parent ------------------------------------------ */

static rp_status usage_from_gdal(const char *tool, const rp_gdal_capture *cap, rp_error *err) {
    return rp_error_set(err, RP_USAGE, "%s options after --: %s", tool,
                        cap->count ? rp_gdal_capture_text(cap) : "not accepted by GDAL");
}

/* A GDAL utility as the table below needs it: its options parser (GDAL's
 * own), their free, and the call on one input. Warp and translate differ
 * only here. */
typedef struct gdal_tool {
    const char *name;
    void *(*options_new)(char **args);
    void (*options_free)(void *options);
    GDALDatasetH (*apply)(const char *output, GDALDatasetH src, void *options, int *usage_error);
} gdal_tool;

static void *warp_options_new(char **args) {
    return GDALWarpAppOptionsNew(args, NULL);
}
static void warp_options_free(void *o) {
    GDALWarpAppOptionsFree(o);
}
static GDALDatasetH warp_apply(const char *output, GDALDatasetH src, void *o, int *usage_error) {
    return GDALWarp(output, NULL, 1, &src, o, usage_error);
}
static void *translate_options_new(char **args) {
    return GDALTranslateOptionsNew(args, NULL);
}
static void translate_options_free(void *o) {
    GDALTranslateOptionsFree(o);
}
static GDALDatasetH translate_apply(const char *output, GDALDatasetH src, void *o,
                                    int *usage_error) {
    return GDALTranslate(output, src, o, usage_error);
}

static const gdal_tool warp_tool = {"gdalwarp", warp_options_new, warp_options_free, warp_apply};
static const gdal_tool translate_tool = {"gdal_translate", translate_options_new,
                                         translate_options_free, translate_apply};

/* The -of of a tool's options (the last one wins, as in GDAL), or NULL. */
static const char *output_format(char **args) {
    const char *format = NULL;
    for (int i = 0; args && args[i]; i++)
        if (strcasecmp(args[i], "-of") == 0 && args[i + 1])
            format = args[++i];
    return format;
}

/* -of must name a raster driver that writes files: GDAL's parser takes any
 * name, and a typo would otherwise fail every task alone. */
static rp_status validate_format(const char *tool, const char *format, rp_error *err) {
    GDALDriverH d = GDALGetDriverByName(format);
    if (!d)
        return rp_error_set(err, RP_USAGE,
                            "%s options after --: -of %s: no such GDAL driver (gdalinfo "
                            "--formats lists them)",
                            tool, format);
    bool raster = GDALGetMetadataItem(d, GDAL_DCAP_RASTER, NULL) != NULL;
    bool creates = GDALGetMetadataItem(d, GDAL_DCAP_CREATE, NULL) != NULL ||
                   GDALGetMetadataItem(d, GDAL_DCAP_CREATECOPY, NULL) != NULL;
    if (!raster || !creates)
        return rp_error_set(err, RP_USAGE, "%s options after --: -of %s: GDAL's %s driver %s", tool,
                            format, GDALGetDriverShortName(d),
                            !raster ? "does not write rasters" : "cannot create files");
    if (strcasecmp(format, "MEM") == 0)
        return rp_error_set(err, RP_USAGE,
                            "%s options after --: -of MEM writes no file: batch needs a format "
                            "that writes one",
                            tool);
    return RP_OK;
}

static rp_status validate_gdal(const gdal_tool *tool, char **args, rp_error *err) {
    const char *format = output_format(args);
    if (format) {
        rp_status rc = validate_format(tool->name, format, err);
        if (rc != RP_OK)
            return rc;
    }
    rp_gdal_capture cap;
    rp_gdal_capture_push(&cap);
    void *o = tool->options_new(args);
    rp_gdal_capture_pop();
    if (!o)
        return usage_from_gdal(tool->name, &cap, err);
    tool->options_free(o);
    return RP_OK;
}

static rp_status validate_warp(char **args, rp_error *err) {
    return validate_gdal(&warp_tool, args, err);
}

static rp_status validate_translate(char **args, rp_error *err) {
    return validate_gdal(&translate_tool, args, err);
}

/* ---- running in a worker ---------------------------------------------- */

static bool user_set_readdir;

void rp_batch_kinds_user_set_readdir(bool set) {
    user_set_readdir = set;
}

/* Opens the input; on failure fills error with GDAL's reason. A remote
 * input is opened without probing for sidecars (each probe would be a
 * request), unless the user set GDAL_DISABLE_READDIR_ON_OPEN. */
static GDALDatasetH open_input(const char *input, const rp_gdal_capture *cap, char *error,
                               size_t cap_bytes) {
    bool quiet = !user_set_readdir && rp_path_is_remote(input);
    if (quiet)
        CPLSetThreadLocalConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR");
    GDALDatasetH src = GDALOpenEx(input, GDAL_OF_RASTER | GDAL_OF_VERBOSE_ERROR, NULL, NULL, NULL);
    if (quiet)
        CPLSetThreadLocalConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", NULL);
    if (!src)
        snprintf(error, cap_bytes, "cannot open as a raster: %s",
                 cap->count ? rp_gdal_capture_text(cap) : "unknown reason");
    return src;
}

/* Closes the output and the input; the task succeeded when GDAL returned an
 * output and no failure was raised from open to close. */
static bool finish(GDALDatasetH dst, GDALDatasetH src, const rp_gdal_capture *cap, char *error,
                   size_t cap_bytes) {
    if (dst)
        GDALClose(dst);
    GDALClose(src);
    if (dst && cap->count == 0)
        return true;
    copy_text(error, cap_bytes, cap->count ? rp_gdal_capture_text(cap) : "GDAL failed");
    return false;
}

static bool run_gdal(const gdal_tool *tool, char **args, const char *input, const char *output,
                     char *error, size_t cap_bytes) {
    rp_gdal_capture cap;
    rp_gdal_capture_push(&cap);
    GDALDatasetH src = open_input(input, &cap, error, cap_bytes);
    bool ok = false;
    if (src) {
        void *o = tool->options_new(args);
        int usage_error = 0;
        GDALDatasetH dst = o ? tool->apply(output, src, o, &usage_error) : NULL;
        if (o)
            tool->options_free(o);
        ok = finish(dst, src, &cap, error, cap_bytes);
    }
    rp_gdal_capture_pop();
    return ok;
}

static bool run_warp(char **args, const char *input, const char *output, char *error,
                     size_t cap_bytes) {
    return run_gdal(&warp_tool, args, input, output, error, cap_bytes);
}

static bool run_translate(char **args, const char *input, const char *output, char *error,
                          size_t cap_bytes) {
    return run_gdal(&translate_tool, args, input, output, error, cap_bytes);
}

/* ---- calc ---------------------------------------------------------------- */

/* calc's argv for one task: calc -j THREADS -i A=INPUT -o OUTPUT -q ARGS...
 * (THREADS is the worker's GDAL_NUM_THREADS share; a -j among ARGS, later,
 * wins). Returns a malloc'ed, NULL-terminated array of borrowed strings. */
static const char **calc_argv(char **args, const char *input_arg, const char *output,
                              const char *threads, int *argc) {
    int n = 0;
    while (args && args[n])
        n++;
    const char **argv = calloc((size_t)n + 10, sizeof *argv);
    if (!argv)
        return NULL;
    int k = 0;
    argv[k++] = "calc";
    argv[k++] = "-j";
    argv[k++] = threads;
    argv[k++] = "-i";
    argv[k++] = input_arg;
    argv[k++] = "-o";
    argv[k++] = output;
    argv[k++] = "-q";
    for (int i = 0; i < n; i++)
        argv[k++] = args[i];
    argv[k] = NULL;
    *argc = k;
    return argv;
}

static rp_status validate_calc(char **args, rp_error *err) {
    for (int i = 0; args && args[i]; i++) {
        if (strncmp(args[i], "-o", 2) == 0 || strncmp(args[i], "--output", 8) == 0)
            return rp_error_set(err, RP_USAGE,
                                "batch calc names each output itself: leave "
                                "out %s after --",
                                args[i]);
    }
    int argc = 0;
    const char **argv = calc_argv(args, "A=input.tif", "output.tif", "1", &argc);
    if (!argv)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    rp_error calc_err;
    rp_error_clear(&calc_err);
    rp_calc_options *o = rp_calc_options_new(argc, argv, NULL, &calc_err);
    free(argv);
    if (!o)
        return rp_error_set(err, RP_USAGE, "calc options after --: %s",
                            calc_err.code == RP_OK ? "--help is not a task" : calc_err.message);
    rp_calc_options_free(o);
    return RP_OK;
}

static bool run_calc(char **args, const char *input, const char *output, char *error,
                     size_t cap_bytes) {
    size_t len = strlen(input) + 3;
    char *input_arg = malloc(len);
    const char *threads = CPLGetConfigOption("GDAL_NUM_THREADS", "1");
    int argc = 0;
    const char **argv = input_arg ? calc_argv(args, input_arg, output, threads, &argc) : NULL;
    if (!argv) {
        free(input_arg);
        copy_text(error, cap_bytes, "out of memory");
        return false;
    }
    snprintf(input_arg, len, "A=%s", input);
    rp_error err;
    rp_error_clear(&err);
    rp_calc_options *o = rp_calc_options_new(argc, argv, NULL, &err);
    rp_status st = err.code != RP_OK ? err.code : RP_USAGE;
    if (o) {
        (void)rp_calc_options_set_log(o, NULL, NULL); /* silent: cannot fail */
        st = rp_calc_run(o, NULL, &err);
    }
    rp_calc_options_free(o);
    free(argv);
    free(input_arg);
    if (st != RP_OK)
        copy_text(error, cap_bytes, err.message[0] ? err.message : rp_status_text(st));
    return st == RP_OK;
}

static const rp_batch_kind kinds[] = {
    {"warp", "gdalwarp", validate_warp, run_warp},
    {"translate", "gdal_translate", validate_translate, run_translate},
    {"calc", "calc", validate_calc, run_calc},
};

const rp_batch_kind *rp_batch_kind_find(const char *name) {
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].name, name) == 0)
            return &kinds[i];
    return NULL;
}

const char *rp_batch_kind_extension(char **args) {
    const char *format = output_format(args);
    if (!format)
        return NULL;
    GDALDriverH d = GDALGetDriverByName(format);
    const char *ext = d ? GDALGetMetadataItem(d, GDAL_DMD_EXTENSION, NULL) : NULL;
    if (!ext || !*ext) {
        const char *exts = d ? GDALGetMetadataItem(d, GDAL_DMD_EXTENSIONS, NULL) : NULL;
        ext = exts && *exts ? exts : NULL; /* first of a space-separated list; see caller */
    }
    return ext;
}
