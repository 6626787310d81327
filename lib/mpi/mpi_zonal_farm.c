/*
 * mpi_zonal_farm.c — rank 0's side of the zonal farm: the execute stage
 * (zonal_exec_hook) of each grid's pass when the job runs over several
 * ranks. Every rank has read the polygons and built the same plan (a task
 * carries the plan's fingerprint; a rank whose plan differs refuses it).
 * The plan's blocks, in plan (row-major) order, are cut into tasks of
 * contiguous blocks, about 8 a rank, by the cells they decode and visit;
 * every other rank gets two tasks at once (one to read, one waiting) and
 * another each time a result comes back; rank 0 reads a task itself
 * whenever every other rank has its two. A result is the task's (polygon,
 * block) accumulators, packed bit for bit (mpi_zonal_codec.c): rank 0 puts
 * them where its own workers would have, and the job's merge (block order)
 * and writer run as in a single run, so every output is byte for byte the
 * single-process run's.
 *
 * A rank that answers a task with an error (a raster it cannot open, out
 * of memory, a different plan) gets no more tasks for the rest of the job;
 * its tasks are read again elsewhere (rank 0 at last, which then fails with
 * the real error if there is one).
 *
 * Memory: rank 0 holds what a single run holds (the pass's accumulators
 * and value lists, counted against --max-memory as they arrive), plus the
 * tasks (16 bytes a block) and one result at a time.
 *
 * Threads: the main thread calls MPI (MPI_THREAD_FUNNELED); rank 0's own
 * tasks run on a pool of the job's threads (zonal_exec_blocks).
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "mpi_zonal.h"

#define MAX_RESULT_BYTES ((uint64_t)256 << 20) /* a task's estimated result */

/* One grid's pass. */
typedef struct pass {
    rp_zfarm *f;
    const rp_zonal_options *o;
    rp_zonal_options local; /* rank 0's own tasks: no progress of their own */
    const zonal_raster *r;
    const zonal_polys *p;
    const zonal_plan *plan;
    int grid;
    uint64_t hash;
    zonal_budget *budget;
    zonal_results *res;
    size_t nj;     /* accumulators a pair */
    size_t *first; /* task t: blocks [first[t], first[t + 1]) */
    size_t ntasks;
    size_t next;  /* the next task never handed out */
    size_t *redo; /* tasks to hand out again */
    size_t nredo;
    size_t done_tasks, done_blocks;
    rp_mpi_slot *slots; /* tasks in flight (mpi_slots.c) */
    uint8_t *block_failed;
    rp_mpi_inbox inbox;
} pass;

void rp_zfarm_free(rp_zfarm *f) {
    free(f->dead);
    free(f->by_rank);
}

void rp_zfarm_print(const rp_zfarm *f, FILE *info) {
    if (!info)
        return;
    fprintf(info, "zonal: MPI: %zu tasks (%llu blocks) over %d ranks; blocks decoded by rank:",
            f->tasks_total, (unsigned long long)f->blocks_all, f->nranks);
    for (int r = 0; r < f->nranks; r++)
        fprintf(info, " %d:%llu", r, (unsigned long long)f->by_rank[r]);
    fprintf(info, "\n");
}

/* Plan block k's cost: its cells (decoded) plus its pairs' cells (visited,
 * the value lists' items); the result's estimated bytes go to *bytes. */
static uint64_t block_cost(const pass *ps, size_t k, uint64_t *bytes) {
    const rp_grid *g = &ps->r->info.grid;
    const zonal_block *b = &ps->plan->blocks[k];
    int64_t x0 = b->bx * g->block_w, y0 = b->by * g->block_h;
    int64_t x1 = x0 + g->block_w < g->width ? x0 + g->block_w : g->width;
    int64_t y1 = y0 + g->block_h < g->height ? y0 + g->block_h : g->height;
    uint64_t cost = (uint64_t)((x1 - x0) * (y1 - y0)), visited = 0;
    for (size_t i = b->start; i < b->start + b->count; i++) {
        const zonal_feature *ft = &ps->p->feats[ps->plan->pairs[i].feat];
        int64_t cx0 = ft->c0 > x0 ? ft->c0 : x0, cy0 = ft->r0 > y0 ? ft->r0 : y0;
        int64_t cx1 = ft->c1 < x1 ? ft->c1 : x1, cy1 = ft->r1 < y1 ? ft->r1 : y1;
        if (cx1 > cx0 && cy1 > cy0)
            visited += (uint64_t)((cx1 - cx0) * (cy1 - cy0));
    }
    *bytes = 1 + b->count * ps->nj * 80 + visited * 16 * (uint64_t)zonal_list_stats(ps->o, ps->r);
    return cost + visited;
}

/* Tasks: contiguous plan blocks of about total / (8 x ranks) cost each,
 * at most MAX_RESULT_BYTES of estimated result (a block alone may be
 * more). */
static rp_status make_tasks(pass *ps, rp_error *err) {
    size_t nb = ps->plan->nblocks;
    uint64_t *cost = malloc((nb ? nb : 1) * sizeof *cost);
    uint64_t *bytes = malloc((nb ? nb : 1) * sizeof *bytes);
    ps->first = malloc((nb + 1) * sizeof *ps->first);
    ps->redo = malloc((nb ? nb : 1) * sizeof *ps->redo);
    if (!cost || !bytes || !ps->first || !ps->redo) {
        free(cost);
        free(bytes);
        return rp_error_set(err, RP_NOMEM, "out of memory (tasks of %zu blocks)", nb);
    }
    uint64_t total = 0;
    for (size_t k = 0; k < nb; k++)
        total += cost[k] = block_cost(ps, k, &bytes[k]);
    uint64_t target = total / ((uint64_t)ps->f->nranks * 8);
    uint64_t in_cost = 0, in_bytes = 0;
    ps->ntasks = 0;
    for (size_t k = 0; k < nb; k++) {
        /* the task under way holds a block already: a new one starts here */
        if (ps->ntasks == 0 || in_cost + cost[k] > target ||
            in_bytes + bytes[k] > MAX_RESULT_BYTES) {
            ps->first[ps->ntasks++] = k;
            in_cost = in_bytes = 0;
        }
        in_cost += cost[k];
        in_bytes += bytes[k];
    }
    ps->first[ps->ntasks] = nb;
    free(cost);
    free(bytes);
    return RP_OK;
}

/* The next task to hand out, or -1. */
static int64_t take(void *self) {
    pass *ps = self;
    if (ps->nredo)
        return (int64_t)ps->redo[--ps->nredo];
    return ps->next < ps->ntasks ? (int64_t)ps->next++ : -1;
}

static size_t task_blocks(const pass *ps, size_t t) {
    return ps->first[t + 1] - ps->first[t];
}

/* Fills every free slot of the live ranks. */
static rp_status refill(void *self, rp_error *err) {
    pass *ps = self;
    for (int r = 1; r < ps->f->nranks; r++) {
        for (int k = 0; k < RP_MPI_SLOTS && !ps->f->dead[r]; k++) {
            rp_mpi_slot *sl = &ps->slots[r * RP_MPI_SLOTS + k];
            if (sl->task >= 0)
                continue;
            int64_t t = take(ps);
            if (t < 0)
                return RP_OK;
            int64_t *m = (int64_t *)rp_mpi_slot_msg(sl, RP_ZTASK_N * sizeof *m);
            if (!m)
                return rp_error_set(err, RP_NOMEM, "out of memory for a task");
            m[RP_ZTASK_ID] = t;
            m[RP_ZTASK_GRID] = ps->grid;
            m[RP_ZTASK_FIRST] = (int64_t)ps->first[t];
            m[RP_ZTASK_COUNT] = (int64_t)task_blocks(ps, (size_t)t);
            m[RP_ZTASK_NPAIRS] = (int64_t)ps->plan->npairs;
            m[RP_ZTASK_HASH] = (int64_t)ps->hash;
            rp_mpi_slot_send(sl, t, RP_ZTASK_N * sizeof *m, r, RP_TAG_ZTASK);
        }
    }
    return RP_OK;
}

/* A rank's failed task: said once, the task handed out again. */
static void failed(pass *ps, int r, size_t t, const char *why) {
    rp_mpi_rank_failed(ps->o->log, ps->f->dead, r, why);
    ps->redo[ps->nredo++] = t;
}

static void task_done(pass *ps, int r, size_t t) {
    size_t first = ps->first[t], count = task_blocks(ps, t);
    for (size_t k = first; k < first + count; k++)
        ps->f->by_rank[r] += !ps->block_failed[k];
    ps->done_tasks++;
    ps->done_blocks += count;
}

/* A result's payload (task t, bytes after the header) put in place. */
static rp_status take_in(pass *ps, int r, size_t t, const int64_t *head, const unsigned char *body,
                         size_t len, rp_error *err) {
    size_t first = ps->first[t], count = task_blocks(ps, t);
    size_t nacc = zonal_plan_pairs_of(ps->plan, first, count) * ps->nj;
    if (len < count || head[RP_ZRES_NACC] != (int64_t)nacc)
        return rp_error_set(err, RP_INTERNAL,
                            "MPI rank %d sent %lld accumulators in %zu bytes for task %zu "
                            "(%zu expected)",
                            r, (long long)head[RP_ZRES_NACC], len, t, nacc);
    memcpy(ps->block_failed + first, body, count);
    zonal_acc *accs = ps->res->accs + ps->plan->blocks[first].start * ps->nj;
    rp_status rc = rp_zacc_unpack(accs, nacc, body + count, len - count, err);
    if (rc == RP_OK)
        rc = zonal_budget_take(ps->budget, (uint64_t)head[RP_ZRES_LIST_BYTES], err);
    if (rc == RP_OK)
        task_done(ps, r, t);
    return rc;
}

/* One result from any rank, received and put in place. */
static rp_status receive(void *self, const MPI_Status *probe, rp_error *err) {
    pass *ps = self;
    int bytes = rp_mpi_inbox_recv(&ps->inbox, probe, RP_TAG_ZRESULT, err);
    if (bytes < 0)
        return RP_NOMEM;
    int r = probe->MPI_SOURCE;
    int64_t head[RP_ZRES_N] = {-1, RP_INTERNAL, 0, 0};
    size_t hb = sizeof head;
    if ((size_t)bytes >= hb)
        memcpy(head, ps->inbox.buf, hb);
    int64_t task = rp_mpi_slot_finish(ps->slots, r, head[RP_ZRES_TASK]);
    if (task < 0)
        return rp_error_set(err, RP_INTERNAL, "MPI rank %d sent a result for no task of its own",
                            r);
    size_t t = (size_t)task;
    if (head[RP_ZRES_STATUS] != RP_OK) {
        failed(ps, r, t, (const char *)ps->inbox.buf + hb);
        return RP_OK;
    }
    return take_in(ps, r, t, head, ps->inbox.buf + hb, (size_t)bytes - hb, err);
}

/* Rank 0 reads task t itself, into the pass's results. */
static rp_status run_local(void *self, size_t t, rp_error *err) {
    pass *ps = self;
    size_t first = ps->first[t], count = task_blocks(ps, t);
    zonal_results view = *ps->res;
    view.accs = ps->res->accs + ps->plan->blocks[first].start * ps->nj;
    rp_status rc = zonal_exec_blocks(&ps->local, ps->r, ps->p, ps->plan, ps->budget, &view, first,
                                     count, ps->block_failed + first, err);
    if (rc == RP_OK)
        task_done(ps, 0, t);
    return rc;
}

static bool any_in_flight(const void *self) {
    const pass *ps = self;
    return rp_mpi_slots_busy(ps->slots, ps->f->nranks);
}

static rp_status report_progress(const void *self, rp_error *err) {
    const pass *ps = self;
    const rp_zonal_options *o = ps->o;
    size_t nb = ps->plan->nblocks;
    double frac = nb ? (double)ps->done_blocks / (double)nb : 1;
    if (o->progress && o->progress(frac, "MPI ranks", o->progress_user) != 0)
        return rp_error_set(err, RP_INTERRUPTED, "interrupted");
    return RP_OK;
}

static bool all_done(const void *ps_) {
    const pass *ps = ps_;
    return ps->done_tasks >= ps->ntasks;
}

/* The pass's farm (mpi_farm_loop.c). */
static rp_status run_pass(pass *ps, rp_error *err) {
    rp_mpi_farm_ops ops = {ps,   RP_TAG_ZRESULT, all_done,        receive,       refill,
                           take, run_local,      report_progress, any_in_flight, &ps->inbox};
    return rp_mpi_farm_loop(&ops, err);
}

static rp_status start_pass(pass *ps, rp_error *err) {
    const zonal_plan *plan = ps->plan;
    size_t nacc = plan->npairs * ps->nj;
    zonal_results *res = ps->res;
    memset(res, 0, sizeof *res);
    res->accs = calloc(nacc ? nacc : 1, sizeof *res->accs);
    res->pair_failed = calloc(plan->npairs ? plan->npairs : 1, 1);
    ps->block_failed = calloc(plan->nblocks ? plan->nblocks : 1, 1);
    ps->slots = rp_mpi_slots_new(ps->f->nranks);
    if (!res->accs || !res->pair_failed || !ps->block_failed || !ps->slots)
        return rp_error_set(err, RP_NOMEM, "out of memory (statistics of %zu pairs)", plan->npairs);
    ps->hash = rp_zplan_hash(plan);
    return make_tasks(ps, err);
}

static rp_status farm_exec(zonal_exec_hook *hook, const rp_zonal_options *o, const zonal_raster *r,
                           const zonal_polys *p, const zonal_plan *plan, int grid,
                           zonal_budget *budget, zonal_results *res, rp_error *err) {
    pass ps;
    memset(&ps, 0, sizeof ps);
    ps.f = (rp_zfarm *)hook;
    ps.o = o;
    ps.local = *o;
    ps.local.progress = NULL;
    ps.r = r;
    ps.p = p;
    ps.plan = plan;
    ps.grid = grid;
    ps.budget = budget;
    ps.res = res;
    ps.nj = (size_t)r->nbands * (size_t)o->nstats;
    rp_status rc = start_pass(&ps, err);
    if (rc == RP_OK)
        rc = run_pass(&ps, err);
    /* the value lists now held, so that every rank plans the next grid
     * against the same room under --max-memory (zonal_budget_plan) */
    int64_t held = (int64_t)atomic_load(&budget->lists);
    for (int k = 1; k < ps.f->nranks; k++)
        MPI_Send(&held, 1, MPI_INT64_T, k, RP_TAG_ZGRIDDONE, MPI_COMM_WORLD);
    if (rc == RP_OK) {
        zonal_results_fail_blocks(plan, res, ps.block_failed);
        ps.f->tasks_total += ps.ntasks;
        ps.f->blocks_all += plan->nblocks;
    }
    free(ps.first);
    free(ps.redo);
    rp_mpi_slots_free(ps.slots, ps.f->nranks);
    free(ps.block_failed);
    rp_mpi_inbox_free(&ps.inbox);
    return rc;
}

rp_status rp_zfarm_init(rp_zfarm *f, rp_error *err) {
    memset(f, 0, sizeof *f);
    f->hook.exec = farm_exec;
    f->nranks = rp_mpi_size();
    f->dead = calloc((size_t)f->nranks, sizeof *f->dead);
    f->by_rank = calloc((size_t)f->nranks, sizeof *f->by_rank);
    if (!f->dead || !f->by_rank)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    return RP_OK;
}
