/*
 * calc_plan.c — what a calc job will do, decided before any pixel is read:
 * the output's type, band count and nodata (from the options and the
 * inputs), the windows (whole output blocks, about a million pixels each, a
 * full row of blocks when that fits, numbered in row order), and where each
 * band an expression reads sits in a worker's values buffer.
 *
 * Pure arithmetic on metadata: no I/O, the same plan at any thread count
 * (so the writes, and the file, are the same at any -j).
 *
 * Threads: the caller's, before the pool starts; rp_calc_window_of is
 * read-only and runs on every worker. Ownership: the job owns ref_slot and
 * slot_ref (freed by rp_calc_run).
 */
#include <float.h>
#include <stdlib.h>

#include "calc_internal.h"
#include "error.h"

enum { RP_CALC_WINDOW_PIXELS = 1 << 20 };

/* A kernel's output: the first input's type, band count and nodata unless
 * the options say otherwise; every input's bands must share one type. */
static rp_status choose_kernel_output(rp_calc_job *job, rp_error *err) {
    const rp_calc_options *o = job->opts;
    const rp_calc_setup *s = job->setup;
    job->out_type = o->out_type != GDT_Unknown ? (GDALDataType)o->out_type : s->inputs[0].types[0];
    job->out_bands = o->out_bands ? o->out_bands : s->inputs[0].bands;
    job->has_nodata = o->has_nodata || s->inputs[0].has_nodata[0];
    job->nodata = o->has_nodata ? o->nodata : s->inputs[0].nodata[0];
    for (int k = 0; k < o->ninputs; k++)
        for (int b = 1; b < s->inputs[k].bands; b++)
            if (s->inputs[k].types[b] != s->inputs[k].types[0] ||
                s->inputs[k].signed_byte[b] != s->inputs[k].signed_byte[0])
                return rp_error_set(err, RP_USAGE,
                                    "-i %s=%s: bands of different types; kernels get every "
                                    "band in one type",
                                    o->inputs[k].name, o->inputs[k].path);
    /* GDAL 3.6 writes no Int8: a signed byte output would take a guess */
    if (o->out_type == GDT_Unknown && s->inputs[0].signed_byte[0])
        return rp_error_set(err, RP_USAGE,
                            "-i %s=%s holds signed bytes (Int8), which this GDAL cannot "
                            "write: give the kernel's output type with --ot (Int16 holds "
                            "every signed byte)",
                            o->inputs[0].name, o->inputs[0].path);
    return RP_OK;
}

/* Float64 when a band read holds values Float32 cannot (64-bit, 32-bit
 * integers), else Float32. */
static GDALDataType expression_type(const rp_calc_options *o, const rp_calc_setup *s) {
    GDALDataType t = GDT_Float32;
    for (int r = 0; r < o->nrefs; r++) {
        GDALDataType in = s->inputs[o->refs[r].input].types[o->refs[r].band - 1];
        if (in == GDT_Float64 || in == GDT_Int32 || in == GDT_UInt32 ||
            GDALGetDataTypeSizeBytes(in) == 8)
            t = GDT_Float64;
    }
    return t;
}

/* gdal_calc.py's default nodata per output type (its DefaultNDVLookup):
 * values at the end of the type's range, which results rarely reach.
 * Float32's is FLT_MAX (gdal_calc.py's 3.402823466e38 rounds to it). */
double rp_calc_default_nodata(GDALDataType type) {
    switch (type) {
    case GDT_Byte: return 255;
    case GDT_UInt16: return 65535;
    case GDT_Int16: return -32768;
    case GDT_UInt32: return 4294967293.0;
    case GDT_Int32: return -2147483647.0;
    case GDT_Float32: return FLT_MAX;
    default: return DBL_MAX;
    }
}

/* Expressions' output: one band each; nodata from --nodata, else, when a
 * band read has a nodata value or an expression uses `nodata`, the output
 * type's default (as gdal_calc.py): not the inputs' value, which a valid
 * result may well equal (a 0/1 mask over data whose nodata is 0). */
static rp_status choose_expression_output(rp_calc_job *job, rp_error *err) {
    (void)err;
    const rp_calc_options *o = job->opts;
    const rp_calc_setup *s = job->setup;
    job->out_type = o->out_type != GDT_Unknown ? (GDALDataType)o->out_type : expression_type(o, s);
    job->out_bands = o->nexprs;
    if (o->has_nodata) {
        job->has_nodata = true;
        job->nodata = o->nodata;
        return RP_OK;
    }
    bool needs_nodata = false;
    for (int e = 0; e < o->nexprs; e++)
        needs_nodata |= o->exprs[e].uses_nodata;
    for (int r = 0; r < o->nrefs; r++)
        needs_nodata |= s->inputs[o->refs[r].input].has_nodata[o->refs[r].band - 1] != 0;
    if (needs_nodata) {
        job->has_nodata = true;
        job->nodata = rp_calc_default_nodata(job->out_type);
    }
    return RP_OK;
}

rp_status rp_calc_choose_output(rp_calc_job *job, rp_error *err) {
    rp_status rc =
        job->setup->kernel ? choose_kernel_output(job, err) : choose_expression_output(job, err);
    if (rc != RP_OK)
        return rc;
    job->out_type_size = GDALGetDataTypeSizeBytes(job->out_type);
    if (job->has_nodata && !rp_calc_value_fits(job->nodata, job->out_type))
        return rp_error_set(err, RP_USAGE, "--nodata %.17g cannot be stored as %s", job->nodata,
                            GDALGetDataTypeName(job->out_type));
    return RP_OK;
}

void rp_calc_plan_windows(rp_calc_job *job, int block_w, int block_h) {
    int W = job->setup->width, H = job->setup->height;
    if (block_w < 1)
        block_w = 256;
    if (block_h < 1)
        block_h = 256;
    /* about 256 rows (one row of 256x256 tiles), fewer when blocks are so
     * wide (strips of a very wide raster) that it would pass the budget */
    int h = block_h;
    while (h < 256 && h + block_h <= H && (long)(h + block_h) * block_w <= RP_CALC_WINDOW_PIXELS)
        h += block_h;
    /* at least about 64 windows when the raster allows, so that threads
     * share the work evenly; never depending on the thread count, so the
     * writes, and the file, are the same at any -j */
    long target = (long)W * (long)H / 64;
    if (target > RP_CALC_WINDOW_PIXELS)
        target = RP_CALC_WINDOW_PIXELS;
    long per_row = target / ((long)h * block_w);
    if (per_row < 1)
        per_row = 1;
    long blocks_x = (W + block_w - 1) / block_w;
    job->win_w = (int)((per_row < blocks_x ? per_row : blocks_x) * block_w);
    job->win_h = h;
    job->nwin_x = (W + job->win_w - 1) / job->win_w;
    job->nwin_y = (H + job->win_h - 1) / job->win_h;
    job->nwindows = (size_t)job->nwin_x * (size_t)job->nwin_y;
}

void rp_calc_window_of(const rp_calc_job *job, size_t index, int *x, int *y, int *w, int *h) {
    int wx = (int)(index % (size_t)job->nwin_x), wy = (int)(index / (size_t)job->nwin_x);
    *x = wx * job->win_w;
    *y = wy * job->win_h;
    *w = job->setup->width - *x < job->win_w ? job->setup->width - *x : job->win_w;
    *h = job->setup->height - *y < job->win_h ? job->setup->height - *y : job->win_h;
}

rp_status rp_calc_layout_refs(rp_calc_job *job, rp_error *err) {
    const rp_calc_options *o = job->opts;
    job->ref_slot = calloc((size_t)o->nrefs + 1, sizeof *job->ref_slot);
    job->slot_ref = calloc((size_t)o->nrefs + 1, sizeof *job->slot_ref);
    if (!job->ref_slot || !job->slot_ref)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    int slot = 0;
    for (int k = 0; k < o->ninputs; k++)
        for (int r = 0; r < o->nrefs; r++)
            if (o->refs[r].input == k) {
                job->ref_slot[r] = slot;
                job->slot_ref[slot++] = r;
            }
    return RP_OK;
}
