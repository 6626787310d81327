/*
 * mpi_zonal.c — zonal statistics over MPI ranks (docs/cluster.md, "zonal
 * over MPI"): a farm of the plan's blocks. Every rank runs the zonal job
 * up to its plan: it opens the rasters, reads and prepares the polygons
 * and builds each grid's plan. (Every rank reads the polygons rather than
 * rank 0 broadcasting them: the reading and preparing happen in parallel,
 * in the same wall time as on rank 0 alone, and there is no second format
 * of prepared geometries to keep in step; a task carries the plan's
 * fingerprint, so ranks that read different polygons cannot mix.) Then,
 * for each grid's pass:
 *   - rank 0's execute stage is the farm (mpi_zonal_farm.c): it hands out
 *     tasks of contiguous plan blocks, reads some itself, and puts the
 *     (polygon, block) accumulators that come back in place; its merge and
 *     writer make every output (CSV, vector formats, frac columns, several
 *     rasters and grids) byte for byte the single-process run's;
 *   - the other ranks read the tasks they are given with their own pool
 *     of threads and GDAL handles (zonal_exec_blocks on just those blocks)
 *     and send back the task's accumulators, packed (mpi_zonal_codec.c).
 *     They write nothing (no_output), print no polygon warnings (rank 0
 *     does), only their own blocks' read failures.
 * A rank whose own run fails (a raster it cannot open, out of memory)
 * answers every task with its error until rank 0 ends the job; rank 0
 * gives its tasks to the others. --plan runs on rank 0 alone.
 *
 * Messages (mpi_zonal.h): tasks and results, a "pass over" per grid, an
 * "end" after rank 0's run, then the job's status (rp_mpi_agree).
 *
 * Memory: a rank other than 0 holds the polygons and the plan (as rank 0
 * does) and one task's accumulators and value lists (two results in
 * flight).
 *
 * Threads: MPI on the main thread only (MPI_THREAD_FUNNELED); each rank's
 * pool reads its blocks. Ownership: each rank's buffers are its own.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "mpi_zonal.h"

/* A rank other than 0: its execute stage, serving rank 0's tasks. */
typedef struct server {
    zonal_exec_hook hook; /* first: the hook is the server */
    FILE *log;            /* its blocks' read failures */
    bool ended;           /* RP_TAG_ZEND received */
    rp_mpi_outbox out;
} server;

/* Task `id`'s error text to rank 0. */
static void answer_error(server *s, int64_t id, rp_status rc, const char *why) {
    size_t hb = RP_ZRES_N * sizeof(int64_t), len = strlen(why) + 1;
    unsigned char *buf = rp_mpi_outbox_take(&s->out, hb + len);
    int64_t head[RP_ZRES_N] = {id, rc == RP_OK ? RP_INTERNAL : rc, 0, 0};
    memcpy(buf, head, hb);
    memcpy(buf + hb, why, len);
    rp_mpi_outbox_send(&s->out, hb + len);
}

/* A task's results to rank 0: the header, a byte per block, the packed
 * accumulators. RP_OK, or its error when they do not fit a message. */
static rp_status answer(server *s, int64_t id, const uint8_t *failed, size_t count,
                        const zonal_acc *accs, size_t nacc, uint64_t list_bytes, rp_error *err) {
    size_t hb = RP_ZRES_N * sizeof(int64_t);
    size_t bytes = hb + count + rp_zacc_packed_bytes(accs, nacc);
    if (bytes > INT_MAX)
        return rp_error_set(err, RP_NOMEM,
                            "a task's results (%zu bytes) do not fit in one MPI message", bytes);
    unsigned char *buf = rp_mpi_outbox_take(&s->out, bytes);
    int64_t head[RP_ZRES_N] = {id, RP_OK, (int64_t)list_bytes, (int64_t)nacc};
    memcpy(buf, head, hb);
    memcpy(buf + hb, failed, count);
    rp_zacc_pack(accs, nacc, buf + hb + count);
    rp_mpi_outbox_send(&s->out, bytes);
    return RP_OK;
}

/* Is task m for this pass and its plan? */
static rp_status check_task(const int64_t *m, int grid, const zonal_plan *plan, uint64_t hash,
                            rp_error *err) {
    if (m[RP_ZTASK_GRID] != grid || m[RP_ZTASK_NPAIRS] != (int64_t)plan->npairs ||
        (uint64_t)m[RP_ZTASK_HASH] != hash || m[RP_ZTASK_FIRST] < 0 || m[RP_ZTASK_COUNT] < 1 ||
        (uint64_t)(m[RP_ZTASK_FIRST] + m[RP_ZTASK_COUNT]) > plan->nblocks)
        return rp_error_set(err, RP_INTERNAL,
                            "MPI rank %d's plan differs from rank 0's (grid %d, %zu pairs here, "
                            "%lld there): do the ranks read the same polygons and rasters?",
                            rp_mpi_rank(), grid, plan->npairs, (long long)m[RP_ZTASK_NPAIRS]);
    return RP_OK;
}

/* Reads task m's blocks and answers it. */
static rp_status run_task(server *s, const rp_zonal_options *o, const zonal_raster *r,
                          const zonal_polys *p, const zonal_plan *plan, zonal_budget *budget,
                          const int64_t *m, rp_error *err) {
    size_t first = (size_t)m[RP_ZTASK_FIRST], count = (size_t)m[RP_ZTASK_COUNT];
    size_t nacc = zonal_plan_pairs_of(plan, first, count) * (size_t)r->nbands * (size_t)o->nstats;
    zonal_results res = {0};
    res.accs = calloc(nacc ? nacc : 1, sizeof *res.accs);
    uint8_t *failed = calloc(count, 1);
    uint64_t lists0 = atomic_load(&budget->lists);
    rp_status rc = res.accs && failed
                       ? zonal_exec_blocks(o, r, p, plan, budget, &res, first, count, failed, err)
                       : rp_error_set(err, RP_NOMEM, "out of memory (a task of %zu pairs)", nacc);
    uint64_t lists = atomic_load(&budget->lists) - lists0;
    atomic_store(&budget->lists, lists0); /* this task's lists are freed below */
    if (rc == RP_OK)
        rc = answer(s, m[RP_ZTASK_ID], failed, count, res.accs, nacc, lists, err);
    if (rc != RP_OK)
        answer_error(s, m[RP_ZTASK_ID], rc, err->message);
    zonal_results_free(&res, nacc);
    free(failed);
    return rc;
}

/* Receives rank 0's probed message (a task, a grid's end with its int64,
 * the job's end) into m. */
static void receive_from_0(const MPI_Status *st, int64_t *m, int bytes) {
    if (bytes < 0 || (size_t)bytes > RP_ZTASK_N * sizeof *m)
        bytes = 0; /* not of this protocol: MPI reports the truncation */
    MPI_Recv(m, bytes, MPI_BYTE, 0, st->MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
}

/* The hook: tasks of this pass until rank 0 says it is over. res stays
 * empty (no_output). */
static rp_status serve_pass(zonal_exec_hook *hook, const rp_zonal_options *o, const zonal_raster *r,
                            const zonal_polys *p, const zonal_plan *plan, int grid,
                            zonal_budget *budget, zonal_results *res, rp_error *err) {
    server *s = (server *)hook;
    memset(res, 0, sizeof *res);
    rp_zonal_options mine = *o;
    mine.log = s->log;
    uint64_t hash = rp_zplan_hash(plan);
    for (;;) {
        MPI_Status st;
        rp_mpi_probe(0, MPI_ANY_TAG, &st);
        int64_t m[RP_ZTASK_N] = {-1};
        int bytes = 0;
        MPI_Get_count(&st, MPI_BYTE, &bytes);
        bool task = st.MPI_TAG == RP_TAG_ZTASK && bytes == (int)sizeof m;
        receive_from_0(&st, m, bytes);
        if (st.MPI_TAG == RP_TAG_ZGRIDDONE) {
            /* rank 0's value lists held (the grids' so far): the same room
             * for the next grid's plan as rank 0's */
            if (bytes == (int)sizeof(int64_t))
                atomic_store(&budget->lists, (uint64_t)m[0]);
            return RP_OK;
        }
        if (st.MPI_TAG == RP_TAG_ZEND) {
            s->ended = true;
            return rp_error_set(err, RP_INTERRUPTED, "rank 0 ended the job");
        }
        rp_status rc =
            task ? check_task(m, grid, plan, hash, err)
                 : rp_error_set(err, RP_INTERNAL, "an unknown message (tag %d)", st.MPI_TAG);
        if (rc != RP_OK)
            answer_error(s, m[RP_ZTASK_ID], rc, err->message);
        else
            rc = run_task(s, &mine, r, p, plan, budget, m, err);
        if (rc != RP_OK)
            return rc; /* the job ends here for this rank: the rest is answered by drain */
    }
}

/* After this rank's run: every task answered with why, until the end. */
static void drain(server *s, rp_status rc, const char *why) {
    while (!s->ended) {
        MPI_Status st;
        rp_mpi_probe(0, MPI_ANY_TAG, &st);
        int64_t m[RP_ZTASK_N] = {-1};
        int bytes = 0;
        MPI_Get_count(&st, MPI_BYTE, &bytes);
        receive_from_0(&st, m, bytes);
        if (st.MPI_TAG == RP_TAG_ZEND)
            s->ended = true;
        else if (st.MPI_TAG == RP_TAG_ZTASK)
            answer_error(s, m[RP_ZTASK_ID], rc, why);
    }
}

/* A rank other than 0: the job up to its plans, then rank 0's tasks. */
static void serve(const rp_zonal_options *o) {
    server s = {{serve_pass}, o->log, false, {{0}}};
    rp_mpi_outbox_init(&s.out, RP_TAG_ZRESULT);
    rp_zonal_options mine = *o;
    mine.log = NULL; /* rank 0 prints the polygons' warnings */
    mine.info = NULL;
    mine.progress = NULL;
    mine.plan_out = NULL;
    mine.no_output = true;
    mine.exec_hook = &s.hook;
    rp_error err;
    rp_error_clear(&err);
    rp_status rc = rp_zonal_run(&mine, NULL, &err);
    if (rc == RP_OK || rc == RP_PARTIAL)
        rc = rp_error_set(&err, RP_INTERNAL, "MPI rank %d has no more passes", rp_mpi_rank());
    drain(&s, rc, err.message[0] ? err.message : "failed");
    rp_mpi_outbox_free(&s.out);
}

/* Rank 0: the job, its execute stage the farm. */
static rp_status lead(const rp_zonal_options *o, rp_zonal_report *report, rp_error *err) {
    rp_zfarm f;
    rp_status st = rp_zfarm_init(&f, err);
    if (st == RP_OK) {
        rp_zonal_options mine = *o;
        mine.exec_hook = &f.hook;
        st = rp_zonal_run(&mine, report, err);
    }
    for (int r = 1; r < rp_mpi_size(); r++)
        MPI_Send(NULL, 0, MPI_BYTE, r, RP_TAG_ZEND, MPI_COMM_WORLD);
    if (st == RP_OK || st == RP_PARTIAL)
        rp_zfarm_print(&f, o->info);
    rp_zfarm_free(&f);
    return st;
}

RP_API rp_status rp_mpi_zonal_run(const rp_zonal_options *o, rp_zonal_report *report,
                                  rp_error *err) {
    if (rp_mpi_size() <= 1)
        return rp_zonal_run(o, report, err);
    rp_status st = RP_OK;
    if (rp_mpi_rank() == 0)
        st = o->plan_only ? rp_zonal_run(o, report, err) : lead(o, report, err);
    else if (report)
        memset(report, 0, sizeof *report);
    if (rp_mpi_rank() != 0 && !o->plan_only)
        serve(o);
    return rp_mpi_agree(st, "zonal job", err);
}
