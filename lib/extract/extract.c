/*
 * extract.c — the extract job, rp_extract_run: points in, values out.
 *
 * Plan, then execute, in stages named after their files: open every
 * raster's metadata and check every band (extract_setup.c), so a typo
 * fails in a second, not after an hour; read the points (pass 1:
 * coordinates only, io/points_in.c); with --plan, write what would be read
 * and stop (extract_plan.c); else, one raster at a time, plan and read
 * (extract_exec.c and its readers); finally read the rows again and write
 * them with their values in input order (extract_write.c). This file only
 * ties the stages together over one `job` and turns counts into a status.
 *
 * The library writes no progress bar and nothing to stdout: progress goes
 * to the caller's function, the --plan text to the caller's stream, and
 * warnings to opts->log and the --verbose summary to opts->info.
 *
 * Memory: 16 bytes a point for coordinates (plus 16 more while points are
 * transformed), 12 for the plan of the raster being read, and per value
 * column the band's type size plus 1 status byte; block buffers are per
 * worker.
 *
 * Threads: runs on the caller's thread, which also reports progress; the
 * pool's workers read blocks (and format output slices).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "crs.h"
#include "error.h"
#include "extract_internal.h"
#include "net_stats.h"
#include "output_guard.h"
#include "points_read.h"
#include "pool.h"
#include "table_write.h"

/* One run's state, stage by stage. */
typedef struct extract_job {
    const rp_extract_options *opts; /* the caller's */
    rp_extract_options run_opts;    /* a copy the job may mark remote */
    rp_extract_setup setup;
    rp_points pts;
    OGRSpatialReferenceH user_srs;   /* --points-crs, owned */
    OGRSpatialReferenceH points_srs; /* user_srs or the points' own (borrowed) */
    rp_pool *pool;
    int pool_threads; /* the pool's size before a remote read grew it */
    rp_extract_read_stats stats;
    double t[4];               /* start, points read, rasters read, written */
    size_t shard_lo, shard_hi; /* --shard: the rows this part writes */
} extract_job;

/* The output is none of the rasters, nor the points file. */
static rp_status check_not_input(const rp_extract_options *opts, rp_error *err) {
    const char **inputs = malloc(((size_t)opts->nrasters + 1) * sizeof *inputs);
    if (!inputs)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    for (int r = 0; r < opts->nrasters; r++)
        inputs[r] = opts->rasters[r];
    inputs[opts->nrasters] = opts->points_path;
    rp_status rc =
        rp_check_output_not_input(opts->output_path, inputs, (size_t)opts->nrasters + 1, err);
    free(inputs);
    return rc;
}

/* Rasters, output check, points CRS, pool. */
static rp_status setup_stage(extract_job *job, rp_extract_report *rep, rp_error *err) {
    const rp_extract_options *opts = job->opts;
    rp_status rc = rp_extract_setup_init(&job->setup, opts->rasters, opts->nrasters, opts->bands,
                                         opts->nbands, err);
    if (rc == RP_OK)
        rc = rp_extract_setup_options(&job->setup, opts, err);
    if (rc == RP_OK)
        rc = rp_sample_setup(&job->setup, opts, err);
    if (rc == RP_OK && !job->run_opts.remote && rp_extract_setup_remote(&job->setup)) {
        job->run_opts.remote = true; /* sources of a VRT are remote */
        rp_gdal_config_apply_remote((const char *const *)(&job->run_opts)->config,
                                    (&job->run_opts)->nconfig, (&job->run_opts)->remote, true);
    }
    if (rc == RP_OK && !opts->plan_only)
        rc = rp_table_check_output(opts->output_path, err);
    if (rc == RP_OK && !opts->plan_only)
        rc = check_not_input(opts, err);
    if (rc == RP_OK && opts->points_crs) {
        job->user_srs = rp_crs_from_user(opts->points_crs, err);
        if (!job->user_srs)
            rc = RP_USAGE;
    }
    if (rc == RP_OK) {
        rep->threads = job->pool_threads = rp_extract_job_threads(&job->run_opts);
        job->pool = rp_pool_new(rep->threads);
        if (!job->pool)
            rc = rp_error_set(err, RP_INTERNAL, "cannot start %d threads", rep->threads);
    }
    return rc;
}

/* Whether the output can hold the fields, with the columns as they will
 * be written (--unscale makes some Float64). */
static rp_status check_fields(extract_job *job, rp_error *err) {
    const rp_extract_setup *s = &job->setup;
    rp_value_column *cols = malloc((size_t)(s->ncolumns ? s->ncolumns : 1) * sizeof *cols);
    if (!cols)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    for (int c = 0; c < s->ncolumns; c++) {
        cols[c] = s->columns[c];
        cols[c].band = rp_extract_written_band(job->opts, &s->columns[c]);
    }
    rp_status rc = rp_table_check_fields(job->opts->output_path, &job->pts, cols, s->ncolumns,
                                         job->opts->status_column, err);
    free(cols);
    return rc;
}

/* Pass 1 over the points, then the checks that need them. */
static rp_status points_stage(extract_job *job, rp_error *err) {
    const rp_extract_options *opts = job->opts;
    rp_points_options po = {.path = opts->points_path,
                            .x_col = opts->x_col,
                            .y_col = opts->y_col,
                            .layer = opts->layer,
                            .log = opts->log,
                            .progress = opts->progress,
                            .progress_user = opts->progress_user,
                            .pool = job->pool};
    rp_status rc = rp_points_read(&po, &job->pts, err);
    if (rc == RP_OK && opts->shard.count > 0)
        rp_extract_shard_points(&opts->shard, &job->pts, &job->shard_lo, &job->shard_hi);
    if (rc == RP_OK)
        rp_extract_shard_header(opts, &job->pts);
    job->points_srs = job->user_srs ? job->user_srs : job->pts.srs;
    if (rc == RP_OK)
        rc = rp_extract_check_transforms(&job->setup, job->points_srs, opts->log, err);
    if (rc == RP_OK && !opts->plan_only)
        rc = rp_table_unique_names(&job->pts, job->setup.columns, job->setup.ncolumns,
                                   opts->status_column, opts->log, err);
    if (rc == RP_OK && !opts->plan_only) /* before any pixel work */
        rc = check_fields(job, err);
    /* a vector output's layer takes the first raster's CRS when the points
     * have none (extract_write.c); the setup left it unread */
    if (rc == RP_OK && !opts->plan_only && !job->points_srs && !rp_table_is_text(opts->output_path))
        rc = rp_raster_info_read_srs(&job->setup.rasters[0].info, err);
    return rc;
}

static rp_status plan_stage(extract_job *job, rp_error *err) {
    if (!job->opts->plan_out) /* planned and checked, but not written */
        return RP_OK;
    return rp_extract_write_plan(job->opts->plan_out, &job->setup, job->pts.x, job->pts.y,
                                 job->pts.n, job->pts.nbad, job->points_srs, job->opts->io_threads,
                                 err);
}

static rp_status execute_stage(extract_job *job, rp_error *err) {
    rp_status rc = rp_extract_setup_alloc(&job->setup, job->pts.n, err);
    if (rc == RP_OK && job->opts->execute) /* lib/mpi: the farm over the ranks */
        rc = job->opts->execute(job->opts->execute_user, &job->setup, job->pool, job->pts.x,
                                job->pts.y, job->pts.bad, job->pts.n, job->points_srs,
                                &job->run_opts, &job->stats, err);
    else if (rc == RP_OK)
        rc = rp_extract_execute(&job->setup, job->pool, job->pts.x, job->pts.y, job->pts.bad,
                                job->pts.n, job->points_srs, &job->run_opts, &job->stats, err);
    return rc;
}

/* Bad rows and unreadable blocks make a complete run RP_PARTIAL. */
static rp_status partial_status(const extract_job *job, rp_status rc, rp_error *err) {
    size_t nbad = job->pts.nbad;
    unsigned long long failed = (unsigned long long)job->stats.blocks_failed;
    unsigned long long rasters = (unsigned long long)job->stats.rasters_failed;
    /* --plan reads nothing: its report counts the bad rows, and it is done */
    if (rc != RP_OK || job->opts->plan_only || (!nbad && !failed && !rasters))
        return rc;
    if (rasters) {
        char more[128] = "";
        if (nbad || failed)
            snprintf(more, sizeof more, ", %zu bad row(s) and %llu unreadable block(s)", nbad,
                     failed);
        return rp_error_set(err, RP_PARTIAL, "%llu raster(s) whose CRS cannot be reached%s",
                            rasters, more);
    }
    if (nbad && failed)
        return rp_error_set(err, RP_PARTIAL, "%zu bad row(s) and %llu unreadable block(s)", nbad,
                            failed);
    if (nbad)
        return rp_error_set(err, RP_PARTIAL, "%zu bad row(s)", nbad);
    return rp_error_set(err, RP_PARTIAL, "%llu unreadable block(s)", failed);
}

/* -v on a remote job: the HTTP requests GDAL sent (net_stats.c). */
static void print_requests(FILE *log, const extract_job *job) {
    rp_net_stats st;
    if (!job->run_opts.remote || !rp_net_stats_read(&st))
        return;
    fprintf(log, "rasterpool: http: %llu GET requests (%.1f MB), %llu HEAD requests\n",
            (unsigned long long)st.get, (double)st.bytes / 1e6, (unsigned long long)st.head);
    if (st.runs)
        fprintf(
            log,
            "rasterpool: runs: %llu runs of blocks read, %llu from GDAL's block cache in place\n",
            (unsigned long long)st.runs, (unsigned long long)st.runs_in_place);
}

static void print_summary(FILE *log, const rp_extract_report *rep, const double t[4]) {
    fprintf(log,
            "rasterpool: %llu points (%llu bad rows), %llu blocks read (%llu failed), "
            "%d threads; values: %llu ok, %llu nodata, %llu outside, %llu error\n"
            "rasterpool: time: read points %.3f s, read rasters %.3f s, write %.3f s\n",
            (unsigned long long)rep->points, (unsigned long long)rep->bad_rows,
            (unsigned long long)rep->blocks_read, (unsigned long long)rep->blocks_failed,
            rep->threads, (unsigned long long)rep->values_ok,
            (unsigned long long)rep->values_nodata, (unsigned long long)rep->values_outside,
            (unsigned long long)rep->values_error, t[1] - t[0], t[2] - t[1], t[3] - t[2]);
}

/* A remote read grew the pool to one worker a run (read_blocks.c); the
 * writer sizes its waves of formatted text by the pool (two pieces a
 * worker, pieces cut for the pool pass 1 had), so it gets a pool of the
 * job's own size again: its memory bound holds. */
static rp_status shrink_pool(extract_job *job, rp_error *err) {
    if (rp_pool_threads(job->pool) <= job->pool_threads)
        return RP_OK;
    rp_pool_free(job->pool);
    job->pool = rp_pool_new(job->pool_threads);
    if (!job->pool)
        return rp_error_set(err, RP_INTERNAL, "cannot start %d threads", job->pool_threads);
    return RP_OK;
}

/* The stages after setup; fills the timings as it goes. */
static rp_status run_stages(extract_job *job, rp_extract_report *rep, rp_error *err) {
    rp_status rc = points_stage(job, err);
    job->t[1] = job->t[2] = job->t[3] = rp_monotonic_seconds();
    rep->points = job->opts->shard.count > 0 ? job->shard_hi - job->shard_lo : job->pts.n;
    rep->bad_rows = job->pts.nbad;
    if (rc != RP_OK || job->opts->plan_only)
        return rc == RP_OK ? plan_stage(job, err) : rc;
    rc = execute_stage(job, err);
    rep->threads = rp_pool_threads(job->pool); /* a remote read may have grown it */
    if (rc == RP_OK)
        rc = shrink_pool(job, err);
    job->t[2] = job->t[3] = rp_monotonic_seconds();
    if (rc == RP_OK)
        rc = rp_extract_write_values(job->opts, &job->setup, &job->pts, job->points_srs, job->pool,
                                     err);
    job->t[3] = rp_monotonic_seconds();
    if (rc == RP_OK)
        rp_extract_count_statuses(&job->setup, job->pts.n, rep);
    if (rc == RP_OK && job->opts->shard.count > 0) /* the rows of other parts: NaN, outside */
        rep->values_outside -= (uint64_t)(job->pts.n - (job->shard_hi - job->shard_lo)) *
                               (uint64_t)job->setup.ncolumns;
    return rc;
}

RP_API rp_status rp_extract_run(const rp_extract_options *opts, rp_extract_report *report,
                                rp_error *err) {
    rp_extract_report local_report;
    rp_extract_report *rep = report ? report : &local_report;
    memset(rep, 0, sizeof *rep);
    extract_job job;
    memset(&job, 0, sizeof job);
    job.opts = opts;
    job.run_opts = *opts;
    job.t[0] = job.t[1] = job.t[2] = job.t[3] = rp_monotonic_seconds();
    rp_gdal_config_apply_remote((const char *const *)(opts)->config, (opts)->nconfig,
                                (opts)->remote, true);
    if (opts->info && !opts->plan_only)
        rp_net_stats_begin();

    rp_status rc = setup_stage(&job, rep, err);
    if (rc == RP_OK)
        rc = run_stages(&job, rep, err);
    rep->blocks_read = job.stats.blocks_read;
    rep->blocks_failed = job.stats.blocks_failed;
    rc = partial_status(&job, rc, err);
    if (opts->info && !opts->plan_only) {
        print_summary(opts->info, rep, job.t);
        print_requests(opts->info, &job);
    }

    rp_pool_free(job.pool);
    if (job.user_srs)
        OSRDestroySpatialReference(job.user_srs);
    rp_points_free(&job.pts);
    rp_extract_setup_free(&job.setup);
    rp_gdal_config_apply_remote((const char *const *)(&job.run_opts)->config,
                                (&job.run_opts)->nconfig, (&job.run_opts)->remote, false);
    return rc;
}
