/*
 * calc_exec.c — the calc job's pool of workers over the planned windows.
 *
 * The thread pool (pool.c) hands window numbers to workers in increasing
 * order. Each worker owns its input datasets (handles.c), its compiled
 * expressions (one muparser instance per expression) and its buffers, all
 * built in the worker's own thread (calc_worker_begin) and released there
 * (calc_worker_end). A worker waits for its turn (calc_writer.c: at most
 * `capacity` finished windows in memory), reads the bands it needs as
 * doubles (or, for a kernel, every band in its own type), computes, converts
 * to the output type and hands the buffer to the writer thread, which writes
 * windows in order. With -j 1 the pool runs on the caller; the writer is
 * still its own thread.
 *
 * Nodata rule (README): for an expression that does not call isnodata(), a
 * pixel where any band it reads is nodata is the output's nodata; an
 * expression that calls isnodata() decides for itself. A band's nodata is
 * its nodata value, or NaN when that value is NaN.
 *
 * Errors: the first failure (a read, the kernel, the writer, Ctrl-C) stops
 * every thread. `first_error` (under job->lock) keeps the failure that
 * caused the stop, not the "stopped" of the threads it woke. The job is
 * otherwise read-only here.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calc_internal.h"
#include "calc_kernel_guard.h"
#include "gdal_errors.h"
#include "handles.h"
#include "pool.h"

typedef struct calc_worker {
    rp_handles *handles;
    int index;
    double *values;   /* nrefs x window pixels, by slot */
    double *isnodata; /* nrefs x window pixels, by ref */
    double *result;   /* window pixels */
    rp_calc_parser **parsers;
    /* kernels */
    void **in_data;
    rp_kernel_input *kin;
} calc_worker;

/* Records the failure that stops the job (the first one wins) and wakes
 * everyone. Returns code. */
static rp_status job_fail(rp_calc_job *job, rp_status code, const rp_error *err) {
    pthread_mutex_lock(&job->lock);
    if (job->first_error.code == RP_OK) {
        job->first_error.code = code;
        memcpy(job->first_error.message, err->message, sizeof err->message);
    }
    pthread_mutex_unlock(&job->lock);
    rp_calc_writer_abort(job->writer);
    return code;
}

/* A kernel's buffers: every band of every input, in its own type. */
static rp_status alloc_kernel_buffers(const rp_calc_job *job, calc_worker *wk, size_t px,
                                      rp_error *err) {
    const rp_calc_options *o = job->opts;
    wk->in_data = calloc((size_t)o->ninputs, sizeof *wk->in_data);
    wk->kin = calloc((size_t)o->ninputs, sizeof *wk->kin);
    if (!wk->in_data || !wk->kin)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    for (int k = 0; k < o->ninputs; k++) {
        const rp_calc_input_info *in = &job->setup->inputs[k];
        int size = GDALGetDataTypeSizeBytes(in->types[0]);
        wk->in_data[k] = malloc(px * (size_t)in->bands * (size_t)size);
        if (!wk->in_data[k])
            return rp_error_set(err, RP_NOMEM, "out of memory for a window of %s",
                                o->inputs[k].path);
    }
    return RP_OK;
}

/* Expressions' buffers (values by slot, isnodata by ref, one result) and
 * one parser per expression, bound once to those buffers. */
static rp_status alloc_expression_buffers(const rp_calc_job *job, calc_worker *wk, size_t px,
                                          rp_error *err) {
    const rp_calc_options *o = job->opts;
    size_t n = (size_t)(o->nrefs > 0 ? o->nrefs : 1) * px;
    wk->values = malloc(n * sizeof *wk->values);
    wk->isnodata = malloc(n * sizeof *wk->isnodata);
    wk->result = malloc(px * sizeof *wk->result);
    wk->parsers = calloc((size_t)o->nexprs, sizeof *wk->parsers);
    double **vptr = calloc((size_t)o->nrefs + 1, sizeof *vptr);
    double **nptr = calloc((size_t)o->nrefs + 1, sizeof *nptr);
    rp_status rc = RP_OK;
    if (!wk->values || !wk->isnodata || !wk->result || !wk->parsers || !vptr || !nptr)
        rc = rp_error_set(err, RP_NOMEM, "out of memory for the window buffers");
    for (int r = 0; rc == RP_OK && r < o->nrefs; r++) {
        vptr[r] = wk->values + (size_t)job->ref_slot[r] * px;
        nptr[r] = wk->isnodata + (size_t)r * px;
    }
    for (int e = 0; rc == RP_OK && e < o->nexprs; e++) {
        wk->parsers[e] = rp_calc_parser_new(&o->exprs[e], e, vptr, nptr, job->nodata, err);
        if (!wk->parsers[e])
            rc = err->code;
    }
    free(vptr);
    free(nptr);
    return rc;
}

/* The pool's begin, on the worker's own thread: its state is built there. */
static rp_status calc_worker_begin(void *ctx, int index, void **state, rp_error *err) {
    rp_calc_job *job = ctx;
    const rp_calc_options *o = job->opts;
    calc_worker *wk = calloc(1, sizeof *wk);
    if (!wk)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    *state = wk;
    wk->index = index;
    rp_gdal_config_apply((const char *const *)o->config, o->nconfig, true);
    rp_calc_eval_single_thread();
    wk->handles = rp_handles_new(o->ninputs);
    if (!wk->handles)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    size_t px = (size_t)job->win_w * (size_t)job->win_h;
    return job->setup->kernel ? alloc_kernel_buffers(job, wk, px, err)
                              : alloc_expression_buffers(job, wk, px, err);
}

static void calc_worker_end(void *ctx, void *state) {
    rp_calc_job *job = ctx;
    calc_worker *wk = state;
    if (wk) {
        rp_handles_free(wk->handles);
        for (int e = 0; wk->parsers && e < job->opts->nexprs; e++)
            rp_calc_parser_free(wk->parsers[e]);
        free(wk->parsers);
        free(wk->values);
        free(wk->isnodata);
        free(wk->result);
        for (int k = 0; wk->in_data && k < job->opts->ninputs; k++)
            free(wk->in_data[k]);
        free(wk->in_data);
        free(wk->kin);
        free(wk);
    }
    /* The thread-local --config stays set: a pool thread only ever works
     * for this job, and when the pool runs inline (-j 1) the caller's
     * thread still needs it afterwards (the COG copy); rp_calc_run unsets
     * it there at the end. */
}

static rp_status read_error(const rp_calc_job *job, int input, int x, int y, int w, int h,
                            const rp_gdal_capture *cap, rp_error *err) {
    const rp_calc_input *in = &job->opts->inputs[input];
    return rp_error_set(err, RP_READ,
                        "-i %s=%s: cannot read the window at column %d, row %d "
                        "(%dx%d): %s",
                        in->name, in->path, x, y, w, h,
                        cap->count ? rp_gdal_capture_text(cap) : "read failed");
}

/* Windows cover whole blocks of the output and, usually, of the inputs, and
 * each worker has its own datasets, so a decoded input block is rarely read
 * again: keeping it in GDAL's block cache would only grow the process (to
 * GDAL_CACHEMAX) and push out blocks that are. Drop them after each read. */
static void drop_cached_blocks(GDALDatasetH ds) {
    GDALFlushCache(ds);
}

/* Signed byte bands (Byte, PIXELTYPE=SIGNEDBYTE) read as 0..255 through
 * GDAL 3.6's RasterIO: 128..255 are -128..-1. */
static void fix_signed_bytes(const rp_calc_job *job, int first, int end, size_t px, double *values,
                             size_t stride) {
    for (int slot = first; slot < end; slot++) {
        const rp_calc_ref *ref = &job->opts->refs[job->slot_ref[slot]];
        if (!job->setup->inputs[ref->input].signed_byte[ref->band - 1])
            continue;
        double *v = values + (size_t)slot * stride;
        for (size_t i = 0; i < px; i++)
            if (v[i] >= 128)
                v[i] -= 256;
    }
}

/* Reads the bands the expressions use, one RasterIO per input. Each band's
 * values start at its slot times `stride` (a full window's pixels: the
 * parsers' arrays are bound once, for the largest window). */
static rp_status read_values(rp_calc_job *job, calc_worker *wk, int x, int y, int w, int h,
                             size_t stride, rp_error *err) {
    const rp_calc_options *o = job->opts;
    int slot = 0;
    int bandmap[256];
    while (slot < o->nrefs) {
        int input = o->refs[job->slot_ref[slot]].input;
        int first = slot, nb = 0;
        while (slot < o->nrefs && o->refs[job->slot_ref[slot]].input == input && nb < 256)
            bandmap[nb++] = o->refs[job->slot_ref[slot++]].band;
        GDALDatasetH ds = rp_handles_get(wk->handles, o->inputs[input].path, err);
        if (!ds)
            return err->code;
        rp_gdal_capture cap;
        rp_gdal_capture_push(&cap);
        CPLErr e = GDALDatasetRasterIO(ds, GF_Read, x, y, w, h, wk->values + (size_t)first * stride,
                                       w, h, GDT_Float64, nb, bandmap, 0, 0,
                                       (GSpacing)(stride * sizeof(double)));
        drop_cached_blocks(ds);
        rp_gdal_capture_pop();
        if (e != CE_None)
            return read_error(job, input, x, y, w, h, &cap, err);
        fix_signed_bytes(job, first, slot, (size_t)w * (size_t)h, wk->values, stride);
    }
    return RP_OK;
}

/* isnodata() arrays: 1.0 where ref r is nodata, else 0.0. Returns whether
 * any pixel is. */
static bool mark_nodata(const rp_calc_job *job, calc_worker *wk, int r, size_t px, size_t stride) {
    const rp_calc_ref *ref = &job->opts->refs[r];
    const rp_calc_input_info *in = &job->setup->inputs[ref->input];
    const double *v = wk->values + (size_t)job->ref_slot[r] * stride;
    double *nd = wk->isnodata + (size_t)r * stride;
    double ndv = in->nodata[ref->band - 1];
    bool any = false;
    if (!in->has_nodata[ref->band - 1]) {
        memset(nd, 0, px * sizeof *nd);
    } else if (isnan(ndv)) {
        for (size_t i = 0; i < px; i++) {
            nd[i] = isnan(v[i]) ? 1.0 : 0.0;
            any |= isnan(v[i]);
        }
    } else {
        for (size_t i = 0; i < px; i++) {
            nd[i] = v[i] == ndv ? 1.0 : 0.0;
            any |= v[i] == ndv;
        }
    }
    return any;
}

/* Valid results of expression e that would be stored as the nodata value
 * (and so read back as nodata) are counted for a warning. Pixels the
 * nodata rule masks are not valid results; an expression that uses the
 * `nodata` keyword writes it on purpose, so it is not checked. */
static void count_collisions(rp_calc_job *job, calc_worker *wk, int e, const bool *any, size_t px,
                             size_t stride) {
    const rp_calc_expr *ex = &job->opts->exprs[e];
    const double **skip = malloc(((size_t)ex->nvars + 1) * sizeof *skip);
    if (!skip)
        return; /* only a warning is lost */
    int nskip = 0;
    for (int k = 0; ex->n_nd_vars == 0 && k < ex->nvars; k++)
        if (any[ex->vars[k]])
            skip[nskip++] = wk->isnodata + (size_t)ex->vars[k] * stride;
    size_t n = rp_calc_count_stored_as(wk->result, px, job->out_type, job->nodata,
                                       (const double *const *)skip, nskip);
    free(skip);
    if (n)
        atomic_fetch_add(&job->collisions[e], (unsigned long long)n);
}

static rp_status compute_expressions(rp_calc_job *job, calc_worker *wk, int x, int y, int w, int h,
                                     void *out, rp_error *err) {
    const rp_calc_options *o = job->opts;
    size_t px = (size_t)w * (size_t)h;
    size_t stride = (size_t)job->win_w * (size_t)job->win_h;
    rp_status rc = read_values(job, wk, x, y, w, h, stride, err);
    if (rc != RP_OK)
        return rc;
    bool *any = calloc((size_t)o->nrefs + 1, sizeof *any);
    if (!any)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    for (int r = 0; r < o->nrefs; r++)
        any[r] = mark_nodata(job, wk, r, px, stride);
    double nan_value = job->has_nodata ? job->nodata : 0;
    for (int e = 0; rc == RP_OK && e < o->nexprs; e++) {
        const rp_calc_expr *ex = &o->exprs[e];
        rc = rp_calc_parser_eval(wk->parsers[e], wk->result, (int)px, err);
        if (rc != RP_OK)
            break;
        if (job->has_nodata && !ex->uses_nodata)
            count_collisions(job, wk, e, any, px, stride);
        /* nodata in, nodata out, unless the expression asks isnodata() */
        if (ex->n_nd_vars == 0 && job->has_nodata) {
            for (int k = 0; k < ex->nvars; k++) {
                int r = ex->vars[k];
                if (!any[r])
                    continue;
                const double *nd = wk->isnodata + (size_t)r * stride;
                for (size_t i = 0; i < px; i++)
                    if (nd[i] != 0)
                        wk->result[i] = job->nodata;
            }
        }
        rp_calc_convert(wk->result, px, job->out_type,
                        (char *)out + (size_t)e * px * (size_t)job->out_type_size, nan_value);
    }
    free(any);
    return rc;
}

static int kernel_stopping(const rp_kernel_block *block) {
    const rp_calc_job *job = block->job;
    return rp_calc_writer_stopping(job->writer);
}

/* A kernel's inputs: every band of each input in its own type, one
 * RasterIO per input. */
static rp_status read_kernel_inputs(rp_calc_job *job, calc_worker *wk, int x, int y, int w, int h,
                                    rp_error *err) {
    const rp_calc_options *o = job->opts;
    for (int k = 0; k < o->ninputs; k++) {
        const rp_calc_input_info *in = &job->setup->inputs[k];
        GDALDatasetH ds = rp_handles_get(wk->handles, o->inputs[k].path, err);
        if (!ds)
            return err->code;
        int size = GDALGetDataTypeSizeBytes(in->types[0]);
        rp_gdal_capture cap;
        rp_gdal_capture_push(&cap);
        CPLErr e = GDALDatasetRasterIO(ds, GF_Read, x, y, w, h, wk->in_data[k], w, h, in->types[0],
                                       in->bands, NULL, 0, 0, 0);
        drop_cached_blocks(ds);
        rp_gdal_capture_pop();
        if (e != CE_None)
            return read_error(job, k, x, y, w, h, &cap, err);
        wk->kin[k] =
            (rp_kernel_input){.name = o->inputs[k].name,
                              .bands = in->bands,
                              .type = in->signed_byte[0] ? RP_CALC_TYPE_INT8 : (int)in->types[0],
                              .type_size = size,
                              .data = wk->in_data[k],
                              .has_nodata = in->has_nodata,
                              .nodata = in->nodata};
    }
    return RP_OK;
}

static rp_status compute_kernel(rp_calc_job *job, calc_worker *wk, int x, int y, int w, int h,
                                void *out, rp_error *err) {
    const rp_calc_options *o = job->opts;
    const rp_calc_setup *s = job->setup;
    rp_status rc = read_kernel_inputs(job, wk, x, y, w, h, err);
    if (rc != RP_OK)
        return rc;
    char message[512] = "";
    rp_kernel_block blk = {.x_off = x,
                           .y_off = y,
                           .width = w,
                           .height = h,
                           .raster_width = s->width,
                           .raster_height = s->height,
                           .ninputs = o->ninputs,
                           .inputs = wk->kin,
                           .out_bands = job->out_bands,
                           .out_type = (int)job->out_type,
                           .out_type_size = job->out_type_size,
                           .out = out,
                           .out_has_nodata = job->has_nodata,
                           .out_nodata = job->nodata,
                           .worker = wk->index,
                           .error = message,
                           .error_size = sizeof message,
                           .stopping = kernel_stopping,
                           .job = job};
    memcpy(blk.geotransform, s->gt, sizeof s->gt);
    /* zero-filled: pixels a kernel leaves unset are 0 at any -j, not stale memory */
    memset(out, 0, (size_t)w * (size_t)h * (size_t)job->out_bands * (size_t)job->out_type_size);
    int r = rp_calc_kernel_guarded_call(s->kernel, &blk, s->kernel_user, s->kernel_name);
    if (rp_calc_writer_stopping(job->writer))
        return rp_error_set(err, RP_INTERRUPTED, "stopped"); /* whatever it returned */
    if (r != 0) {
        message[sizeof message - 1] = '\0';
        return rp_error_set(err, RP_PARTIAL,
                            "kernel %s failed on the window at column %d, row %d (%dx%d): %s; no "
                            "output written",
                            s->kernel_name, x, y, w, h,
                            message[0] ? message : "it returned an error without a message");
    }
    return RP_OK;
}

static rp_status calc_worker_run(void *ctx, void *state, size_t task, rp_error *err) {
    rp_calc_job *job = ctx;
    calc_worker *wk = state;
    if (!rp_calc_writer_wait_turn(job->writer, task))
        return rp_error_set(err, RP_INTERRUPTED, "stopped");
    int x, y, w, h;
    rp_calc_window_of(job, task, &x, &y, &w, &h);
    size_t bytes = (size_t)w * (size_t)h * (size_t)job->out_bands * (size_t)job->out_type_size;
    void *out = malloc(bytes);
    if (!out)
        return job_fail(job, rp_error_set(err, RP_NOMEM, "out of memory"), err);
    rp_status rc = job->setup->kernel ? compute_kernel(job, wk, x, y, w, h, out, err)
                                      : compute_expressions(job, wk, x, y, w, h, out, err);
    if (rc != RP_OK) {
        free(out);
        /* "stopped" is the echo of a failure recorded already, or Ctrl-C */
        return rc == RP_INTERRUPTED ? rc : job_fail(job, rc, err);
    }
    rp_calc_writer_submit(job->writer, task, x, y, w, h, out);
    return RP_OK;
}

static int calc_exec_progress(double fraction, const char *message, void *user) {
    (void)fraction;
    (void)message;
    rp_calc_job *job = user;
    const rp_calc_options *o = job->opts;
    double done =
        job->nwindows ? (double)rp_calc_writer_done(job->writer) / (double)job->nwindows : 1;
    if (o->progress && o->progress(done, "calc", o->progress_user) != 0) {
        atomic_store(&job->cancelled, true);
        rp_calc_writer_abort(job->writer);
        return 1;
    }
    return 0;
}

rp_status rp_calc_execute(rp_calc_job *job, int threads, rp_error *err) {
    const rp_calc_options *o = job->opts;
    rp_pool *pool = rp_pool_new(threads);
    if (!pool)
        return rp_error_set(err, RP_INTERNAL, "cannot start %d threads", threads);
    /* two finished windows per worker may wait for the writer */
    rp_status rc =
        rp_calc_writer_start(job->writer, job->nwindows, 2 * threads, o->config, o->nconfig, err);
    if (rc == RP_OK) {
        rp_pool_job pj = {.ntasks = job->nwindows,
                          .ctx = job,
                          .begin = calc_worker_begin,
                          .run = calc_worker_run,
                          .end = calc_worker_end,
                          .progress = calc_exec_progress,
                          .progress_user = job,
                          .progress_message = "calc"};
        rc = rp_pool_run(pool, &pj, err);
        /* the pool's last progress call, after the last task, may cancel */
        if (rc == RP_OK && atomic_load(&job->cancelled))
            rc = RP_INTERRUPTED;
        if (rc != RP_OK)
            rp_calc_writer_abort(job->writer);
    }
    rp_pool_free(pool);
    return rc;
}
