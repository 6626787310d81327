/*
 * calc_setup.c — what a calc job checks before any pixel is read: the inputs
 * open, share one grid (size, geotransform, CRS: nothing is resampled, so a
 * difference is an error that names it), have the bands the expressions
 * read; and the --kernel library loads and has the symbol.
 *
 * Threads: the caller's only. Every dataset opened here is closed before
 * the workers start (they open their own). Ownership: rp_calc_setup owns
 * its arrays and the dlopen handle (closed by rp_calc_setup_free, after the
 * job).
 */
#include <dlfcn.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_string.h>
#include <ogr_srs_api.h>

#include "calc_internal.h"
#include "crs.h"
#include "error.h"
#include "raster_info.h"

static void free_input_info(rp_calc_input_info *in) {
    free(in->types);
    free(in->has_nodata);
    free(in->nodata);
    free(in->signed_byte);
    CSLDestroy(in->descriptions);
    memset(in, 0, sizeof *in);
}

void rp_calc_setup_free(rp_calc_setup *s) {
    if (!s)
        return;
    for (int i = 0; i < s->ninputs; i++)
        free_input_info(&s->inputs[i]);
    free(s->inputs);
    free(s->wkt);
    if (s->srs)
        OSRDestroySpatialReference(s->srs);
    CSLDestroy(s->metadata);
    rp_calc_georef_free(&s->georef);
    if (s->library)
        dlclose(s->library);
    memset(s, 0, sizeof *s);
}

/* Geotransforms equal up to a millionth of a pixel over the raster. */
static bool same_gt(const double *a, const double *b, int w, int h) {
    double px = fabs(a[1]) + fabs(a[2]), py = fabs(a[4]) + fabs(a[5]);
    double tol_xy = 1e-6 * (px > py ? px : py);
    int n = w > h ? w : h;
    for (int i = 0; i < 6; i++) {
        double tol = (i == 0 || i == 3) ? tol_xy : tol_xy / (n > 0 ? n : 1);
        if (fabs(a[i] - b[i]) > tol)
            return false;
    }
    return true;
}

/* rp_raster_info's and rp_band_info's messages start with the path; calc's
 * name the input as the user gave it: "-i NAME=PATH: ...". */
static rp_status name_the_input(const rp_calc_input *in, rp_error *err) {
    char message[sizeof err->message];
    memcpy(message, err->message, sizeof message);
    rp_status code = err->code;
    rp_error_clear(err); /* rp_error_set keeps a first message */
    return rp_error_set(err, code, "-i %s=%s", in->name, message);
}

static rp_status check_grid(const rp_calc_options *o, const rp_calc_setup *s, int k,
                            const rp_raster_info *ri, GDALDatasetH ds, rp_error *err) {
    const rp_calc_input *a = &o->inputs[0], *b = &o->inputs[k];
    int w = (int)ri->grid.width, h = (int)ri->grid.height;
    const double *gt = ri->grid.gt;
    if (w != s->width || h != s->height)
        return rp_error_set(err, RP_USAGE,
                            "inputs must share one grid: %s=%s is %dx%d pixels, %s=%s is %dx%d "
                            "(nothing is resampled; warp one onto the other first)",
                            b->name, b->path, w, h, a->name, a->path, s->width, s->height);
    if (ri->has_geotransform != s->has_gt)
        return rp_error_set(err, RP_USAGE,
                            "inputs must share one grid: %s=%s has %s geotransform, %s=%s %s",
                            b->name, b->path, ri->has_geotransform ? "a" : "no", a->name, a->path,
                            s->has_gt ? "has one" : "has none");
    if (!s->has_gt && rp_calc_georef_check(&s->georef, a, b, ds, err) != RP_OK)
        return err->code;
    if (s->has_gt && !same_gt(gt, s->gt, w, h))
        return rp_error_set(err, RP_USAGE,
                            "inputs must share one grid: the geotransform of %s=%s is "
                            "(%.10g, %.10g, %.10g, %.10g, %.10g, %.10g), of %s=%s "
                            "(%.10g, %.10g, %.10g, %.10g, %.10g, %.10g)",
                            b->name, b->path, gt[0], gt[1], gt[2], gt[3], gt[4], gt[5], a->name,
                            a->path, s->gt[0], s->gt[1], s->gt[2], s->gt[3], s->gt[4], s->gt[5]);
    if (!rp_crs_same_or_both_none(ri->srs, s->srs)) {
        char cb[300], ca[300];
        return rp_error_set(err, RP_USAGE, "inputs must share one CRS: %s=%s is in %s, %s=%s in %s",
                            b->name, b->path, rp_crs_describe(ri->srs, cb, sizeof cb), a->name,
                            a->path, rp_crs_describe(s->srs, ca, sizeof ca));
    }
    return RP_OK;
}

/* The first input's grid, CRS and metadata become the output's. */
static rp_status take_grid(rp_calc_setup *s, rp_raster_info *ri, GDALDatasetH ds, rp_error *err) {
    s->width = (int)ri->grid.width;
    s->height = (int)ri->grid.height;
    s->has_gt = ri->has_geotransform;
    memcpy(s->gt, ri->grid.gt, sizeof s->gt);
    s->wkt = ri->wkt;
    ri->wkt = NULL;
    s->srs = ri->srs;
    ri->srs = NULL;
    s->metadata = CSLDuplicate(GDALGetMetadata(ds, NULL));
    if (!s->wkt)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    return rp_calc_georef_read(ds, &s->georef, err);
}

/* Every band's type, nodata and description; complex bands are refused. */
static rp_status read_bands(const rp_calc_input *in, GDALDatasetH ds, int nb,
                            rp_calc_input_info *info, rp_error *err) {
    info->bands = nb;
    info->types = calloc((size_t)nb, sizeof *info->types);
    info->has_nodata = calloc((size_t)nb, sizeof *info->has_nodata);
    info->nodata = calloc((size_t)nb, sizeof *info->nodata);
    info->signed_byte = calloc((size_t)nb, sizeof *info->signed_byte);
    if (!info->types || !info->has_nodata || !info->nodata || !info->signed_byte)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    for (int b = 0; b < nb; b++) {
        /* GDAL < 3.7 has no Int8: a signed byte band is a Byte band that
         * says PIXELTYPE=SIGNEDBYTE, and its pixels read as 0..255 */
        const char *pt =
            GDALGetMetadataItem(GDALGetRasterBand(ds, b + 1), "PIXELTYPE", "IMAGE_STRUCTURE");
        info->signed_byte[b] = pt && strcmp(pt, "SIGNEDBYTE") == 0;
        rp_band_info band;
        if (rp_band_info_read(ds, in->path, b + 1, &band, err) != RP_OK)
            return name_the_input(in, err);
        info->types[b] = band.type;
        info->signed_byte[b] = info->signed_byte[b] && band.type == GDT_Byte;
        info->has_nodata[b] = band.has_nodata;
        info->nodata[b] = band.has_nodata ? rp_band_nodata_as_double(&band) : 0;
        info->descriptions =
            CSLAddString(info->descriptions, GDALGetDescription(GDALGetRasterBand(ds, b + 1)));
        if (GDALDataTypeIsComplex(band.type))
            return rp_error_set(err, RP_USAGE,
                                "-i %s=%s: band %d is complex (%s); calc reads real "
                                "values only",
                                in->name, in->path, b + 1, GDALGetDataTypeName(band.type));
    }
    return RP_OK;
}

/* Opens input k as the workers open it (rp_remote_open, through
 * rp_raster_info_read): the first sets the grid, the others must match it. */
static rp_status read_input(const rp_calc_options *o, rp_calc_setup *s, int k, rp_error *err) {
    const rp_calc_input *in = &o->inputs[k];
    rp_raster_info ri;
    GDALDatasetH ds = NULL;
    rp_status rc = rp_raster_info_read(in->path, &ri, &ds, err);
    if (rc != RP_OK) {
        rp_raster_info_free(&ri);
        return name_the_input(in, err);
    }
    rc = k == 0 ? take_grid(s, &ri, ds, err) : check_grid(o, s, k, &ri, ds, err);
    if (rc == RP_OK)
        rc = read_bands(in, ds, ri.band_count, &s->inputs[k], err);
    GDALClose(ds);
    rp_raster_info_free(&ri);
    return rc;
}

static rp_status load_kernel(const rp_calc_options *o, rp_calc_setup *s, rp_error *err) {
    if (o->kernel) {
        s->kernel = o->kernel;
        s->kernel_user = o->kernel_user;
        s->kernel_name = "kernel";
        return RP_OK;
    }
    if (!o->kernel_spec)
        return RP_OK;
    const char *colon = strrchr(o->kernel_spec, ':');
    char *file = strndup(o->kernel_spec, (size_t)(colon - o->kernel_spec));
    if (!file)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    /* A bare name would be searched in the system's library path: a kernel
     * is a file the user names, so look for it where they are. */
    char *path = file;
    if (!strchr(file, '/')) {
        size_t n = strlen(file) + 3;
        path = malloc(n);
        if (path)
            snprintf(path, n, "./%s", file);
    }
    dlerror();
    s->library = path ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
    rp_status rc = RP_OK;
    if (!s->library) {
        const char *why = dlerror();
        rc = rp_error_set(err, RP_OPEN, "--kernel: cannot load %s: %s", file,
                          why ? why : "out of memory");
    } else {
        dlerror();
        void *sym = dlsym(s->library, colon + 1);
        const char *why = dlerror();
        if (!sym || why)
            rc = rp_error_set(err, RP_USAGE, "--kernel: %s has no function '%s'", file, colon + 1);
        else {
            /* POSIX guarantees that a data pointer from dlsym converts to a
             * function pointer; copy the bits to say so without a warning. */
            memcpy(&s->kernel, &sym, sizeof s->kernel);
            s->kernel_user = o->kernel_arg;
            s->kernel_name = colon + 1;
        }
    }
    if (path != file)
        free(path);
    free(file);
    return rc;
}

rp_status rp_calc_setup_read(const rp_calc_options *o, rp_calc_setup *s, rp_error *err) {
    memset(s, 0, sizeof *s);
    s->inputs = calloc((size_t)o->ninputs, sizeof *s->inputs);
    if (!s->inputs)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    s->ninputs = o->ninputs;
    rp_status rc = RP_OK;
    for (int k = 0; rc == RP_OK && k < o->ninputs; k++)
        rc = read_input(o, s, k, err);
    /* every band an expression reads exists */
    for (int r = 0; rc == RP_OK && r < o->nrefs; r++) {
        const rp_calc_ref *ref = &o->refs[r];
        const rp_calc_input_info *in = &s->inputs[ref->input];
        if (ref->band > in->bands) {
            char what[512];
            snprintf(what, sizeof what, "%s[%d]: %s has %d band%s", o->inputs[ref->input].name,
                     ref->band, o->inputs[ref->input].path, in->bands, in->bands == 1 ? "" : "s");
            rc = rp_calc_expr_error(err, RP_USAGE, o->exprs[ref->expr].text, ref->expr, ref->pos,
                                    what);
        }
    }
    if (rc == RP_OK)
        rc = load_kernel(o, s, err);
    if (rc != RP_OK)
        rp_calc_setup_free(s);
    return rc;
}
