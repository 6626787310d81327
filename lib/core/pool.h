/*
 * pool.h — a small thread pool that runs one job at a time: a job is
 * a count of independent tasks plus callbacks. Each worker builds its own
 * state (its GDAL handles) inside its own thread before its first task and
 * releases it there after its last, so no handle crosses threads.
 */
#ifndef RP_POOL_H
#define RP_POOL_H
#include <stddef.h>

#include "rasterpool.h"

typedef struct rp_pool rp_pool;

typedef struct rp_pool_job {
    size_t ntasks;
    void *ctx; /* shared, read-only to workers unless the job synchronises */
    /* Optional. In the worker's thread, before its first task; *state is
     * then handed to run and end. A non-RP_OK return stops the job. */
    rp_status (*begin)(void *ctx, int worker, void **state, rp_error *err);
    /* Runs task `task` (each index exactly once unless the job stops). A
     * non-RP_OK return stops the job: no new task starts, running ones
     * finish. The first error is the job's. */
    rp_status (*run)(void *ctx, void *state, size_t task, rp_error *err);
    /* Optional. In the worker's thread, after its last task; also after a
     * failed begin, with whatever *state begin had set (maybe NULL). */
    void (*end)(void *ctx, void *state);
    /* Optional, on the caller's thread about 10 times a second. */
    rp_progress_fn progress;
    void *progress_user;
    const char *progress_message;
} rp_pool_job;

/* threads <= 1 makes a pool that runs every job inline on the caller: the
 * deterministic reference. Returns NULL when threads cannot be started. */
rp_pool *rp_pool_new(int threads);
void rp_pool_free(rp_pool *pool);
/* Starts more workers, up to `threads` in all, between jobs (the caller's
 * thread, never while rp_pool_run runs). An inline pool (made with one
 * thread) stays inline. Returns the workers now running: fewer than asked
 * when a thread cannot be started (the pool still works). */
int rp_pool_grow(rp_pool *pool, int threads);
int rp_pool_threads(const rp_pool *pool);

/* Runs the job to the end and returns its status: RP_OK, the first task's
 * error (copied into err), or RP_INTERRUPTED when progress asked to stop.
 * One job at a time per pool; not reentrant from inside a task. */
rp_status rp_pool_run(rp_pool *pool, const rp_pool_job *job, rp_error *err);

#endif
