/*
 * mpi_extract_farm.c — rank 0's side of the extract farm: the job's
 * execute stage (rp_extract_execute_fn) when the job runs over several
 * ranks. The job has read its points and checked its rasters as a single
 * run does; here the points become tasks (mpi_extract_tasks.c), every
 * other rank gets two tasks at once (one to read, one waiting, so it never
 * waits for rank 0) and another each time a result comes back, and rank 0
 * reads a task itself whenever every other rank has its two. Results are
 * put in place by point index, so the job's writer writes them in input
 * order, byte for byte the single-process output.
 *
 * A rank that answers a task with an error (out of memory, a raster it
 * cannot open) gets no more tasks; its tasks are read again elsewhere.
 *
 * Memory: besides the job's own arrays, the tasks (4 bytes a point) and
 * two task messages in flight per rank, each at most RP_XMSG_MAX_BYTES.
 *
 * Threads: the main thread only calls MPI (MPI_THREAD_FUNNELED); rank 0's
 * own tasks run on the job's pool. Ownership: the farm's buffers are its
 * own; the columns are the job's.
 */
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>

#include "error.h"
#include "mpi_extract.h"

typedef struct farm {
    rp_extract_setup *s;
    const double *x, *y;
    rp_xtasks tasks;
    size_t next;  /* the next task never handed out */
    size_t *redo; /* tasks to hand out again */
    size_t nredo;
    size_t done_tasks, done_points;
    rp_mpi_slot *slots; /* tasks in flight (mpi_slots.c) */
    bool *dead;         /* a rank that failed a task */
    int nranks;
    rp_extract_part local; /* rank 0's own tasks */
    uint64_t *inside;      /* per raster, summed */
    uint64_t blocks_read, blocks_failed;
    rp_mpi_inbox inbox; /* a result received */
    size_t point_bytes; /* of a result, a point */
    size_t *by_rank;    /* tasks read by each rank (for -v) */
    const rp_extract_options *opts;
} farm;

/* The next task to hand out, or -1. */
static int64_t take(void *self) {
    farm *f = self;
    if (f->nredo)
        return (int64_t)f->redo[--f->nredo];
    return f->next < f->tasks.ntasks ? (int64_t)f->next++ : -1;
}

static size_t task_points(const farm *f, size_t t) {
    return f->tasks.first[t + 1] - f->tasks.first[t];
}

/* Hands task t to rank r in slot sl: its id, then its points' x and y. */
static rp_status send_task(farm *f, int r, rp_mpi_slot *sl, size_t t, rp_error *err) {
    size_t k = task_points(f, t);
    const uint32_t *idx = f->tasks.idx + f->tasks.first[t];
    size_t bytes = (1 + 2 * k) * sizeof(double);
    double *buf = (double *)rp_mpi_slot_msg(sl, bytes);
    if (!buf)
        return rp_error_set(err, RP_NOMEM, "out of memory for a task of %zu points", k);
    int64_t id = (int64_t)t;
    memcpy(buf, &id, sizeof id);
    for (size_t j = 0; j < k; j++) {
        buf[1 + j] = f->x[idx[j]];
        buf[1 + k + j] = f->y[idx[j]];
    }
    rp_mpi_slot_send(sl, id, bytes, r, RP_TAG_XTASK);
    return RP_OK;
}

/* Fills every free slot of the live ranks. */
static rp_status refill(void *self, rp_error *err) {
    farm *f = self;
    rp_status rc = RP_OK;
    for (int r = 1; r < f->nranks && rc == RP_OK; r++) {
        for (int k = 0; k < RP_MPI_SLOTS && !f->dead[r] && rc == RP_OK; k++) {
            rp_mpi_slot *sl = &f->slots[r * RP_MPI_SLOTS + k];
            if (sl->task >= 0)
                continue;
            int64_t t = take(f);
            if (t < 0)
                return RP_OK;
            rc = send_task(f, r, sl, (size_t)t, err);
        }
    }
    return rc;
}

/* A task's values (cols: its columns' values, then their statuses) into
 * the job's columns at the task's points. */
static void scatter(farm *f, size_t t, rp_value_column *part_cols, const unsigned char *packed) {
    size_t k = task_points(f, t);
    const uint32_t *idx = f->tasks.idx + f->tasks.first[t];
    const unsigned char *p = packed;
    for (int c = 0; c < f->s->ncolumns; c++) {
        rp_value_column *col = &f->s->columns[c];
        size_t ts = (size_t)col->band.type_size;
        const unsigned char *v = part_cols ? part_cols[c].values : p;
        for (size_t j = 0; j < k; j++)
            memcpy(col->values + (size_t)idx[j] * ts, v + j * ts, ts);
        p += part_cols ? 0 : k * ts;
    }
    for (int c = 0; c < f->s->ncolumns; c++) {
        const uint8_t *st = part_cols ? part_cols[c].status : p;
        for (size_t j = 0; j < k; j++)
            f->s->columns[c].status[idx[j]] = st[j];
        p += part_cols ? 0 : k;
    }
    f->done_tasks++;
    f->done_points += k;
}

/* -v: where the tasks were read. */
static void print_ranks(const farm *f) {
    FILE *out = f->opts->info;
    if (!out)
        return;
    fprintf(out,
            "rasterpool: MPI: %zu tasks (%zu points) over %d ranks; read by rank:", f->tasks.ntasks,
            f->tasks.npoints, f->nranks);
    for (int r = 0; r < f->nranks; r++)
        fprintf(out, " %d:%zu", r, f->by_rank[r]);
    fprintf(out, "\n");
}

/* A result's counts (the header's fields from RP_XRESULT_READ on). */
static void add_counts(farm *f, const unsigned char *head) {
    int64_t v;
    memcpy(&v, head + RP_XRESULT_READ * sizeof v, sizeof v);
    f->blocks_read += (uint64_t)v;
    memcpy(&v, head + RP_XRESULT_FAILED * sizeof v, sizeof v);
    f->blocks_failed += (uint64_t)v;
    for (int r = 0; r < f->s->nrasters; r++) {
        memcpy(&v, head + (size_t)(RP_XRESULT_INSIDE + r) * sizeof v, sizeof v);
        f->inside[r] += (uint64_t)v;
    }
}

/* A rank's failed task: said once, the task handed out again. */
static void failed(farm *f, int r, size_t t, const char *why) {
    rp_mpi_rank_failed(f->opts->log, f->dead, r, why);
    f->redo[f->nredo++] = t;
}

/* One result from any rank, received and put in place. */
static rp_status receive(void *self, const MPI_Status *probe, rp_error *err) {
    farm *f = self;
    int bytes = rp_mpi_inbox_recv(&f->inbox, probe, RP_TAG_XRESULT, err);
    if (bytes < 0)
        return RP_NOMEM;
    int r = probe->MPI_SOURCE;
    size_t head_bytes = (size_t)(RP_XRESULT_INSIDE + f->s->nrasters) * sizeof(int64_t);
    int64_t head[RP_XRESULT_INSIDE] = {-1, 0, 0, 0};
    if ((size_t)bytes >= sizeof head)
        memcpy(head, f->inbox.buf, sizeof head);
    int64_t task = rp_mpi_slot_finish(f->slots, r, head[RP_XRESULT_TASK]);
    if (task < 0)
        return rp_error_set(err, RP_INTERNAL, "MPI rank %d sent a result for no task of its own",
                            r);
    size_t t = (size_t)task;
    if (head[RP_XRESULT_STATUS] != RP_OK) {
        failed(f, r, t, (const char *)f->inbox.buf + sizeof head);
        return RP_OK;
    }
    if ((size_t)bytes != head_bytes + task_points(f, t) * f->point_bytes)
        return rp_error_set(err, RP_INTERNAL, "MPI rank %d sent %d bytes for task %zu", r, bytes,
                            t);
    add_counts(f, f->inbox.buf);
    scatter(f, t, NULL, f->inbox.buf + head_bytes);
    f->by_rank[r]++;
    return RP_OK;
}

/* Rank 0 reads task t itself. */
static rp_status run_local(void *self, size_t t, rp_error *err) {
    farm *f = self;
    size_t k = task_points(f, t);
    const uint32_t *idx = f->tasks.idx + f->tasks.first[t];
    double *xy = malloc((k ? 2 * k : 1) * sizeof *xy);
    if (!xy)
        return rp_error_set(err, RP_NOMEM, "out of memory for a task of %zu points", k);
    for (size_t j = 0; j < k; j++) {
        xy[j] = f->x[idx[j]];
        xy[k + j] = f->y[idx[j]];
    }
    rp_status rc = rp_extract_part_run(&f->local, xy, xy + k, k, err);
    free(xy);
    if (rc != RP_OK)
        return rc;
    scatter(f, t, f->local.view.columns, NULL);
    f->by_rank[0]++;
    f->blocks_read += f->local.stats.blocks_read;
    f->blocks_failed += f->local.stats.blocks_failed;
    f->local.stats.blocks_read = f->local.stats.blocks_failed = 0;
    for (int r = 0; r < f->s->nrasters; r++) {
        f->inside[r] += f->local.inside[r];
        f->local.inside[r] = 0;
    }
    return RP_OK;
}

static bool any_in_flight(const void *self) {
    const farm *f = self;
    return rp_mpi_slots_busy(f->slots, f->nranks);
}

static rp_status report_progress(const void *self, rp_error *err) {
    const farm *f = self;
    const rp_extract_options *o = f->opts;
    double frac = f->tasks.npoints ? (double)f->done_points / (double)f->tasks.npoints : 1;
    if (o->progress && o->progress(frac, "MPI ranks", o->progress_user) != 0)
        return rp_error_set(err, RP_INTERRUPTED, "interrupted");
    return RP_OK;
}

static bool all_done(const void *farm_) {
    const farm *f = farm_;
    return f->done_tasks >= f->tasks.ntasks;
}

/* The farm (mpi_farm_loop.c), then every rank is told to stop. */
static rp_status run_farm(farm *f, rp_error *err) {
    rp_mpi_farm_ops ops = {f,    RP_TAG_XRESULT, all_done,        receive,       refill,
                           take, run_local,      report_progress, any_in_flight, &f->inbox};
    rp_status rc = rp_mpi_farm_loop(&ops, err);
    for (int r = 1; r < f->nranks; r++)
        MPI_Send(NULL, 0, MPI_BYTE, r, RP_TAG_XSTOP, MPI_COMM_WORLD);
    return rc;
}

/* After the farm, as rp_extract_execute ends: bad rows fail, the counts
 * and warnings of the whole job, --unscale. */
static rp_status finish(farm *f, const uint8_t *bad, size_t n, size_t nusable,
                        rp_extract_read_stats *stats, rp_error *err) {
    for (size_t i = 0; bad && i < n; i++)
        if (bad[i])
            for (int c = 0; c < f->s->ncolumns; c++)
                f->s->columns[c].status[i] = RP_POINT_ERROR;
    stats->blocks_read += f->blocks_read;
    stats->blocks_failed += f->blocks_failed;
    for (int r = 0; r < f->s->nrasters; r++) {
        if (f->s->rasters[r].crs_error[0])
            stats->rasters_failed++;
        else if (f->inside[r] == 0)
            rp_extract_warn_no_points(f->s->rasters[r].info.path, nusable, f->opts->log);
    }
    return rp_extract_unscale(f->s, n, f->opts, err);
}

/* Task sizes: about 8 tasks a rank, at least 4096 points (fewer messages),
 * at most what fits in RP_XMSG_MAX_BYTES. */
static rp_status plan_farm(farm *f, const uint8_t *bad, size_t n, OGRSpatialReferenceH srs,
                           rp_error *err) {
    size_t per = f->point_bytes > 2 * sizeof(double) ? f->point_bytes : 2 * sizeof(double);
    size_t max_points = (RP_XMSG_MAX_BYTES - 4096) / per;
    size_t target = n / ((size_t)f->nranks * 8);
    target = target < 4096 ? 4096 : target;
    target = target > max_points ? max_points : target;
    rp_status rc =
        rp_xtasks_build(&f->tasks, f->s, f->x, f->y, bad, n, srs, target, max_points, err);
    if (rc != RP_OK)
        return rc;
    f->slots = rp_mpi_slots_new(f->nranks);
    f->dead = calloc((size_t)f->nranks, sizeof *f->dead);
    f->by_rank = calloc((size_t)f->nranks, sizeof *f->by_rank);
    f->redo = malloc((f->tasks.ntasks ? f->tasks.ntasks : 1) * sizeof *f->redo);
    f->inside = calloc((size_t)(f->s->nrasters ? f->s->nrasters : 1), sizeof *f->inside);
    if (!f->slots || !f->dead || !f->redo || !f->inside || !f->by_rank)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    return RP_OK;
}

static void free_farm(farm *f) {
    rp_mpi_slots_free(f->slots, f->nranks);
    free(f->dead);
    free(f->by_rank);
    free(f->redo);
    free(f->inside);
    rp_mpi_inbox_free(&f->inbox);
    rp_xtasks_free(&f->tasks);
    rp_extract_part_free(&f->local);
}

/* The points' CRS as WKT for the other ranks ("" for none). */
static char *points_wkt(OGRSpatialReferenceH srs) {
    char *wkt = NULL;
    const char *wkt2[] = {"FORMAT=WKT2_2019", NULL};
    if (srs && OSRExportToWktEx(srs, &wkt, wkt2) == OGRERR_NONE && wkt) {
        char *copy = strdup(wkt);
        CPLFree(wkt);
        return copy;
    }
    CPLFree(wkt);
    return strdup("");
}

rp_status rp_mpi_extract_farm(void *user, rp_extract_setup *s, struct rp_pool *pool,
                              const double *x, const double *y, const uint8_t *bad, size_t n,
                              OGRSpatialReferenceH points_srs, const rp_extract_options *opts,
                              rp_extract_read_stats *stats, rp_error *err) {
    rp_xfarm_start *start = user;
    char *wkt = points_wkt(points_srs);
    start->started = true;
    free(rp_mpi_extract_start(wkt ? wkt : ""));
    free(wkt);
    farm f;
    memset(&f, 0, sizeof f);
    f.s = s;
    f.x = x;
    f.y = y;
    f.opts = opts;
    f.nranks = rp_mpi_size();
    size_t nusable = rp_extract_warn_usable(bad, n, opts->log);
    rp_status rc = rp_extract_part_borrow(&f.local, s, pool, points_srs, opts, err);
    f.point_bytes = rp_extract_part_point_bytes(&f.local);
    if (rc == RP_OK)
        rc = plan_farm(&f, bad, n, points_srs, err);
    if (rc == RP_OK) {
        rc = run_farm(&f, err);
    } else { /* the other ranks wait for tasks: none */
        for (int r = 1; r < f.nranks; r++)
            MPI_Send(NULL, 0, MPI_BYTE, r, RP_TAG_XSTOP, MPI_COMM_WORLD);
    }
    if (rc == RP_OK)
        print_ranks(&f);
    if (rc == RP_OK)
        rc = finish(&f, bad, n, nusable, stats, err);
    free_farm(&f);
    return rc;
}
