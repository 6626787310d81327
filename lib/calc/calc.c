/*
 * calc.c — the calc job: a raster computed window by window. rp_calc_run
 * ties the stages, each in its own file:
 *   calc_options.c  argv -> options (expressions translated, calc_expr.c)
 *   calc_setup.c    the inputs open and share one grid; --kernel loads
 *   calc_plan.c     output type/bands/nodata, windows, the values layout
 *   calc_exec.c     the pool of workers: read, compute, hand to the writer
 *   calc_writer.c   one writer thread, windows in order, atomic output
 *
 * Errors: the first failure (a read, the kernel, the writer, Ctrl-C) stops
 * every thread, and the output's temporary file is removed. The cause
 * reported is that failure, not the "stopped" of the threads it woke.
 *
 * Threads: rp_calc_run runs on the caller's thread; --config is set there
 * for the whole run (the setup and the COG copy read through it) and unset
 * at the end. Ownership: the job owns the writer and the layout arrays.
 */
#include <stdlib.h>
#include <string.h>

#include <cpl_string.h>

#include "calc_internal.h"
#include "clock.h"
#include "error.h"
#include "output_guard.h"

/* Output band k's colour table: that of the first input's band it comes
 * from (for an expression, the first band it reads when that is the first
 * input's; for a kernel, the same band number), when the output type can
 * hold one (Byte, UInt16). Not owned: the setup's. */
static GDALColorTableH *output_colors(const rp_calc_job *job) {
    const rp_calc_options *o = job->opts;
    const rp_calc_georef *g = &job->setup->georef;
    if (job->out_type != GDT_Byte && job->out_type != GDT_UInt16)
        return NULL;
    GDALColorTableH *colors = calloc((size_t)job->out_bands, sizeof *colors);
    for (int k = 0; colors && k < job->out_bands; k++) {
        int band = -1;
        if (job->setup->kernel)
            band = k;
        else if (o->exprs[k].nvars > 0 && o->refs[o->exprs[k].vars[0]].input == 0)
            band = o->refs[o->exprs[k].vars[0]].band - 1;
        if (band >= 0 && band < g->ncolors)
            colors[k] = g->colors[band];
    }
    return colors;
}

/* Creates the output under its temporary name; spec->block_w/h come back
 * with the output's block size, which the windows follow. */
static rp_status open_output(rp_calc_job *job, int threads, rp_calc_output_spec *spec,
                             rp_error *err) {
    const rp_calc_options *o = job->opts;
    const rp_calc_setup *s = job->setup;
    char **descriptions = NULL;
    if (!s->kernel) {
        for (int e = 0; e < o->nexprs; e++)
            descriptions = CSLAddString(descriptions, o->exprs[e].text);
    } else if (job->out_bands == s->inputs[0].bands) {
        descriptions = CSLDuplicate(s->inputs[0].descriptions);
    }
    *spec = (rp_calc_output_spec){.path = o->output_path,
                                  .format = o->format,
                                  .type = job->out_type,
                                  .bands = job->out_bands,
                                  .width = s->width,
                                  .height = s->height,
                                  .has_geotransform = s->has_gt,
                                  .projection_wkt = s->wkt,
                                  .metadata = s->metadata,
                                  .band_descriptions = descriptions,
                                  .has_nodata = job->has_nodata,
                                  .nodata = job->nodata,
                                  .creation_options = o->creation_options,
                                  .threads = threads,
                                  .gcps = s->georef.gcps,
                                  .ngcps = s->georef.ngcps,
                                  .gcp_wkt = s->georef.gcp_wkt,
                                  .rpc = s->georef.rpc};
    memcpy(spec->geotransform, s->gt, sizeof s->gt);
    GDALColorTableH *colors = output_colors(job);
    spec->colors = colors;
    job->writer = rp_calc_writer_new(spec, err);
    free(colors);
    spec->colors = NULL;
    CSLDestroy(descriptions);
    spec->band_descriptions = NULL;
    return job->writer ? RP_OK : err->code;
}

/* The cause of a failed run, in order: a worker's failure, the writer's,
 * Ctrl-C, the stage's own (a failed begin: out of memory, a parser; or a
 * failure before the pool started). */
static rp_status failure_cause(rp_calc_job *job, rp_status rc, const rp_error *stage_err,
                               rp_status wrc, const rp_error *werr, rp_error *err) {
    if (job->first_error.code != RP_OK)
        return rp_error_set(err, job->first_error.code, "%s", job->first_error.message);
    if (wrc != RP_OK && wrc != RP_INTERRUPTED && werr->code != RP_OK)
        return rp_error_set(err, wrc, "%s", werr->message);
    if (atomic_load(&job->cancelled) || rc == RP_INTERRUPTED || wrc == RP_INTERRUPTED)
        return rp_error_set(err, RP_INTERRUPTED, "interrupted");
    if (rc != RP_OK)
        return rp_error_set(err, rc, "%s", stage_err->message);
    return rp_error_set(err, wrc, "%s", werr->message);
}

/* Output, plan, execute, write: everything after the setup. */
static rp_status run_job(rp_calc_job *job, int threads, rp_error *err) {
    const rp_calc_options *o = job->opts;
    rp_calc_output_spec spec;
    rp_status rc = open_output(job, threads, &spec, err);
    if (rc != RP_OK)
        return rc;
    rp_calc_plan_windows(job, spec.block_w, spec.block_h);
    rp_error stage_err;
    rp_error_clear(&stage_err);
    rc = rp_calc_layout_refs(job, &stage_err);
    if (rc == RP_OK)
        rc = rp_calc_execute(job, threads, &stage_err);
    rp_error werr;
    rp_error_clear(&werr);
    rp_status wrc = rp_calc_writer_finish_progress(job->writer, rc == RP_OK, o->progress,
                                                   o->progress_user, &werr);
    if (rc == RP_OK && wrc == RP_OK)
        return RP_OK;
    return failure_cause(job, rc, &stage_err, wrc, &werr, err);
}

static void fill_report(const rp_calc_job *job, int threads, rp_calc_report *report) {
    report->windows = job->nwindows;
    report->pixels = (uint64_t)job->setup->width * (uint64_t)job->setup->height;
    report->threads = threads;
    report->out_bands = job->out_bands;
    report->out_type = (int)job->out_type;
}

static void log_summary(const rp_calc_job *job, int threads, double seconds, FILE *log) {
    fprintf(log,
            "calc: %dx%d pixels, %d band%s of %s, %zu window%s of %dx%d, %d compute "
            "thread%s + 1 writer, %.3f s\n",
            job->setup->width, job->setup->height, job->out_bands, job->out_bands == 1 ? "" : "s",
            GDALGetDataTypeName(job->out_type), job->nwindows, job->nwindows == 1 ? "" : "s",
            job->win_w, job->win_h, threads, threads == 1 ? "" : "s", seconds);
}

/* Valid results stored as the nodata value read back as nodata: say so,
 * per band, with what to do about it. */
static void warn_collisions(const rp_calc_job *job, FILE *log) {
    const rp_calc_options *o = job->opts;
    for (int e = 0; !job->setup->kernel && e < o->nexprs; e++) {
        unsigned long long n = atomic_load(&job->collisions[e]);
        if (n)
            fprintf(log,
                    "calc: warning: band %d (%s): %llu valid pixel%s %s the output's nodata "
                    "value %.17g (%s) and will read as nodata; give another --nodata\n",
                    e + 1, o->exprs[e].text, n, n == 1 ? "" : "s", n == 1 ? "equals" : "equal",
                    job->nodata, o->has_nodata ? "--nodata" : "the default for the output type");
    }
}

/* The output is none of the inputs (it would be written over while read). */
static rp_status check_not_input(const rp_calc_options *o, rp_error *err) {
    const char **inputs = malloc(((size_t)o->ninputs + 1) * sizeof *inputs);
    if (!inputs)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    for (int i = 0; i < o->ninputs; i++)
        inputs[i] = o->inputs[i].path;
    rp_status rc = rp_check_output_not_input(o->output_path, inputs, (size_t)o->ninputs, err);
    free(inputs);
    return rc;
}

RP_API rp_status rp_calc_run(const rp_calc_options *o, rp_calc_report *report, rp_error *err) {
    if (report)
        memset(report, 0, sizeof *report);
    if (o->nexprs == 0 && !o->kernel_spec && !o->kernel)
        return rp_error_set(err, RP_USAGE,
                            "nothing to compute: give -e EXPR or --kernel LIB.so:SYMBOL");
    rp_status guard = check_not_input(o, err);
    if (guard != RP_OK)
        return guard;
    double start = rp_monotonic_seconds();
    rp_gdal_config_apply((const char *const *)o->config, o->nconfig, true);
    rp_calc_setup setup;
    rp_status rc = rp_calc_setup_read(o, &setup, err);
    if (rc != RP_OK) {
        rp_gdal_config_apply((const char *const *)o->config, o->nconfig, false);
        return rc;
    }
    if (!setup.has_gt && o->ninputs > 1 && rp_calc_georef_none(&setup.georef) && o->log)
        fprintf(o->log, "calc: note: the inputs have no georeferencing (no geotransform, GCPs "
                        "or RPCs): their pixels are combined by position\n");
    rp_calc_job job = {.opts = o, .setup = &setup};
    pthread_mutex_init(&job.lock, NULL);
    atomic_init(&job.cancelled, false);
    rp_error_clear(&job.first_error);
    int threads = o->threads > 0 ? o->threads : rp_usable_cpus();
    job.collisions = calloc((size_t)o->nexprs + 1, sizeof *job.collisions);
    rc = job.collisions ? rp_calc_choose_output(&job, err)
                        : rp_error_set(err, RP_NOMEM, "out of memory");
    if (rc == RP_OK)
        rc = run_job(&job, threads, err);
    if (rc == RP_OK && report)
        fill_report(&job, threads, report);
    if (rc == RP_OK && o->log)
        warn_collisions(&job, o->log);
    if (rc == RP_OK && o->info)
        log_summary(&job, threads, rp_monotonic_seconds() - start, o->info);
    rp_calc_writer_free(job.writer);
    free(job.ref_slot);
    free(job.slot_ref);
    free(job.collisions);
    pthread_mutex_destroy(&job.lock);
    rp_calc_setup_free(&setup);
    rp_gdal_config_apply((const char *const *)o->config, o->nconfig, false);
    return rc;
}
