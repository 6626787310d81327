/*
 * batch_kinds.c — what one batch task does, per kind: warp (GDALWarp) and
 * translate (GDALTranslate), with the utility's options parsed by GDAL's own
 * GDALWarpAppOptionsNew / GDALTranslateOptionsNew.
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
#include <string.h>
#include <strings.h>

#include <gdal.h>
#include <gdal_utils.h>

#include "batch_internal.h"
#include "error_internal.h"

static void copy_text(char *dst, size_t cap, const char *src) {
    snprintf(dst, cap, "%s", src);
}

/* ---- validation in the parent ------------------------------------------ */

static rp_status usage_from_gdal(const char *tool, const rp_gdal_capture *cap, rp_error *err) {
    return rp_error_set(err, RP_USAGE, "%s options after --: %s", tool,
                        cap->count ? rp_gdal_capture_text(cap) : "not accepted by GDAL");
}

static rp_status validate_warp(char **args, rp_error *err) {
    rp_gdal_capture cap;
    rp_gdal_capture_push(&cap);
    GDALWarpAppOptions *o = GDALWarpAppOptionsNew(args, NULL);
    rp_gdal_capture_pop();
    if (!o)
        return usage_from_gdal("gdalwarp", &cap, err);
    GDALWarpAppOptionsFree(o);
    return RP_OK;
}

static rp_status validate_translate(char **args, rp_error *err) {
    rp_gdal_capture cap;
    rp_gdal_capture_push(&cap);
    GDALTranslateOptions *o = GDALTranslateOptionsNew(args, NULL);
    rp_gdal_capture_pop();
    if (!o)
        return usage_from_gdal("gdal_translate", &cap, err);
    GDALTranslateOptionsFree(o);
    return RP_OK;
}

/* ---- running in a worker ---------------------------------------------- */

/* Opens the input; on failure fills error with GDAL's reason. */
static GDALDatasetH open_input(const char *input, const rp_gdal_capture *cap, char *error,
                               size_t cap_bytes) {
    GDALDatasetH src = GDALOpenEx(input, GDAL_OF_RASTER | GDAL_OF_VERBOSE_ERROR, NULL, NULL,
                                  NULL);
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

static bool run_warp(char **args, const char *input, const char *output, char *error,
                     size_t cap_bytes) {
    rp_gdal_capture cap;
    rp_gdal_capture_push(&cap);
    GDALDatasetH src = open_input(input, &cap, error, cap_bytes);
    bool ok = false;
    if (src) {
        GDALWarpAppOptions *o = GDALWarpAppOptionsNew(args, NULL);
        int usage_error = 0;
        GDALDatasetH dst = o ? GDALWarp(output, NULL, 1, &src, o, &usage_error) : NULL;
        GDALWarpAppOptionsFree(o);
        ok = finish(dst, src, &cap, error, cap_bytes);
    }
    rp_gdal_capture_pop();
    return ok;
}

static bool run_translate(char **args, const char *input, const char *output, char *error,
                          size_t cap_bytes) {
    rp_gdal_capture cap;
    rp_gdal_capture_push(&cap);
    GDALDatasetH src = open_input(input, &cap, error, cap_bytes);
    bool ok = false;
    if (src) {
        GDALTranslateOptions *o = GDALTranslateOptionsNew(args, NULL);
        int usage_error = 0;
        GDALDatasetH dst = o ? GDALTranslate(output, src, o, &usage_error) : NULL;
        GDALTranslateOptionsFree(o);
        ok = finish(dst, src, &cap, error, cap_bytes);
    }
    rp_gdal_capture_pop();
    return ok;
}

static const rp_batch_kind kinds[] = {
    {"warp", "gdalwarp", validate_warp, run_warp},
    {"translate", "gdal_translate", validate_translate, run_translate},
};

const rp_batch_kind *rp_batch_kind_find(const char *name) {
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].name, name) == 0)
            return &kinds[i];
    return NULL;
}

const char *rp_batch_kind_extension(char **args) {
    const char *format = NULL;
    for (int i = 0; args && args[i]; i++)
        if (strcasecmp(args[i], "-of") == 0 && args[i + 1])
            format = args[++i];
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
