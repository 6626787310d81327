/*
 * pool.c — a thread pool that runs one job of independent tasks at a time.
 *
 * The design is simple: persistent worker threads sleep on a condition
 * variable until the caller posts a job (a new generation). Each worker then
 * builds its own state (libvips' "start" inside the worker), takes task
 * numbers from one atomic counter until they run out or the job is stopped,
 * releases its state and reports itself idle. The caller sleeps on a second
 * condition variable (timed on CLOCK_MONOTONIC, so wall-clock steps do not
 * delay it), waking about ten times a second to report progress, which can
 * cancel the job. The first error stops the job (no new task
 * starts; running tasks finish) and is the one returned.
 *
 * With one thread there are no threads: the caller runs the job inline, the
 * deterministic reference (zstd's nbWorkers=0).
 *
 * A pool with threads can grow between jobs (rp_pool_grow: a job that waits
 * on the network wants more workers than one a CPU); a new worker starts at
 * the current generation, so it waits for the next job like the others.
 * Each worker's argument is its own allocation, so growing the arrays moves
 * nothing a running worker points to.
 *
 * Locking: `lock` guards generation, job, active and the first error; task
 * and done counters and the stop flag are atomics read without it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "error.h"
#include "pool.h"

typedef struct worker_arg {
    rp_pool *pool;
    int index;
    unsigned long seen; /* the generation it started at: it waits for the next */
} worker_arg;

struct rp_pool {
    int nthreads;
    bool threaded; /* false: one thread, the caller's (no sync objects) */
    pthread_t *threads;
    worker_arg **args; /* one allocation each: growing moves no running worker's */
    pthread_mutex_t lock;
    pthread_cond_t work_posted;
    pthread_cond_t work_done;
    unsigned long generation;
    bool shutdown;
    const rp_pool_job *job;
    int active;
    atomic_size_t next_task;
    atomic_size_t tasks_done;
    atomic_bool stop;
    rp_error error; /* first failure of the current job */
};

static void record_failure(rp_pool *pool, rp_status code, const rp_error *err) {
    pthread_mutex_lock(&pool->lock);
    if (pool->error.code == RP_OK) {
        pool->error.code = code;
        memcpy(pool->error.message, err->message, sizeof pool->error.message);
    }
    pthread_mutex_unlock(&pool->lock);
    atomic_store(&pool->stop, true);
}

/* Runs one worker's share of the current job. */
static void work_on_job(rp_pool *pool, const rp_pool_job *job, int index) {
    rp_error err;
    rp_error_clear(&err);
    void *state = NULL;
    if (job->begin) {
        rp_status rc = job->begin(job->ctx, index, &state, &err);
        if (rc != RP_OK) {
            record_failure(pool, rc, &err);
            if (job->end)
                job->end(job->ctx, state); /* releases what begin built */
            return;
        }
    }
    while (!atomic_load(&pool->stop)) {
        size_t task = atomic_fetch_add(&pool->next_task, 1);
        if (task >= job->ntasks)
            break;
        rp_status rc = job->run(job->ctx, state, task, &err);
        atomic_fetch_add(&pool->tasks_done, 1);
        if (rc != RP_OK) {
            record_failure(pool, rc, &err);
            break;
        }
    }
    if (job->end)
        job->end(job->ctx, state);
}

static void *worker_main(void *p) {
    worker_arg *arg = p;
    rp_pool *pool = arg->pool;
    unsigned long seen = arg->seen;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (pool->generation == seen && !pool->shutdown)
            pthread_cond_wait(&pool->work_posted, &pool->lock);
        if (pool->shutdown)
            break;
        seen = pool->generation;
        const rp_pool_job *job = pool->job;
        pthread_mutex_unlock(&pool->lock);
        work_on_job(pool, job, arg->index);
        pthread_mutex_lock(&pool->lock);
        if (--pool->active == 0)
            pthread_cond_signal(&pool->work_done);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

/* The synchronisation a pool with threads needs. */
static void init_sync(rp_pool *pool) {
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->work_posted, NULL);
    /* the caller's timed wait runs on the monotonic clock: a wall-clock step
     * backwards must not stall progress reports and Ctrl-C */
    pthread_condattr_t monotonic;
    pthread_condattr_init(&monotonic);
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
    pthread_cond_init(&pool->work_done, &monotonic);
    pthread_condattr_destroy(&monotonic);
}

/* Starts workers until pool->nthreads is want (the caller's thread, between
 * jobs: no worker reads generation's writer concurrently). Returns false
 * when one cannot be started; those started keep running. */
static bool start_threads(rp_pool *pool, int want) {
    pthread_t *threads = realloc(pool->threads, (size_t)want * sizeof *threads);
    if (threads)
        pool->threads = threads;
    worker_arg **args = threads ? realloc(pool->args, (size_t)want * sizeof *args) : NULL;
    if (args)
        pool->args = args;
    if (!threads || !args)
        return false;
    while (pool->nthreads < want) {
        int i = pool->nthreads;
        worker_arg *arg = malloc(sizeof *arg);
        if (!arg)
            return false;
        *arg = (worker_arg){.pool = pool, .index = i, .seen = pool->generation};
        if (pthread_create(&pool->threads[i], NULL, worker_main, arg) != 0) {
            free(arg);
            return false;
        }
        pool->args[i] = arg;
        pool->nthreads++;
    }
    return true;
}

rp_pool *rp_pool_new(int threads) {
    rp_pool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    pool->nthreads = 1;
    atomic_init(&pool->next_task, 0);
    atomic_init(&pool->tasks_done, 0);
    atomic_init(&pool->stop, false);
    if (threads <= 1)
        return pool;
    init_sync(pool);
    pool->nthreads = 0;
    pool->threaded = true;
    if (!start_threads(pool, threads)) {
        rp_pool_free(pool);
        return NULL;
    }
    return pool;
}

int rp_pool_grow(rp_pool *pool, int threads) {
    /* an inline pool stays inline: it is the deterministic reference */
    if (pool->threaded && threads > pool->nthreads)
        start_threads(pool, threads); /* a failure leaves those started */
    return pool->nthreads;
}

void rp_pool_free(rp_pool *pool) {
    if (!pool)
        return;
    if (pool->threaded) {
        pthread_mutex_lock(&pool->lock);
        pool->shutdown = true;
        pthread_cond_broadcast(&pool->work_posted);
        pthread_mutex_unlock(&pool->lock);
        for (int i = 0; i < pool->nthreads; i++) {
            pthread_join(pool->threads[i], NULL);
            free(pool->args[i]);
        }
        pthread_cond_destroy(&pool->work_done);
        pthread_cond_destroy(&pool->work_posted);
        pthread_mutex_destroy(&pool->lock);
    }
    free(pool->threads);
    free(pool->args);
    free(pool);
}

int rp_pool_threads(const rp_pool *pool) {
    return pool->nthreads;
}

static bool report_progress(rp_pool *pool, const rp_pool_job *job) {
    if (!job->progress)
        return true;
    double done = job->ntasks ? (double)atomic_load(&pool->tasks_done) / (double)job->ntasks : 1;
    return job->progress(done, job->progress_message, job->progress_user) == 0;
}

/* One thread: the caller is the worker. */
static rp_status run_inline(rp_pool *pool, const rp_pool_job *job, rp_error *err) {
    rp_error local;
    rp_error_clear(&local);
    void *state = NULL;
    rp_status rc = job->begin ? job->begin(job->ctx, 0, &state, &local) : RP_OK;
    double last = rp_monotonic_seconds();
    for (size_t task = 0; rc == RP_OK && task < job->ntasks; task++) {
        rc = job->run(job->ctx, state, task, &local);
        atomic_store(&pool->tasks_done, task + 1);
        if (rc == RP_OK && job->progress && rp_monotonic_seconds() - last >= 0.1) {
            last = rp_monotonic_seconds();
            if (!report_progress(pool, job))
                rc = rp_error_set(&local, RP_INTERRUPTED, "interrupted");
        }
    }
    if (job->end)
        job->end(job->ctx, state);
    if (rc != RP_OK && err && err->code == RP_OK)
        *err = local;
    /* the last report counts too: a job of short runs (the CSV writer's
     * waves) may never reach the 0.1 s above, and Ctrl-C must still stop it */
    if (rc == RP_OK && !report_progress(pool, job))
        rc = rp_error_set(err, RP_INTERRUPTED, "interrupted");
    return rc;
}

rp_status rp_pool_run(rp_pool *pool, const rp_pool_job *job, rp_error *err) {
    atomic_store(&pool->next_task, 0);
    atomic_store(&pool->tasks_done, 0);
    atomic_store(&pool->stop, false);
    if (!pool->threaded)
        return run_inline(pool, job, err);

    pthread_mutex_lock(&pool->lock);
    rp_error_clear(&pool->error);
    pool->job = job;
    pool->active = pool->nthreads;
    pool->generation++;
    pthread_cond_broadcast(&pool->work_posted);
    bool interrupted = false;
    while (pool->active > 0) {
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline); /* work_done's clock */
        deadline.tv_nsec += 100 * 1000 * 1000;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
        int w = pthread_cond_timedwait(&pool->work_done, &pool->lock, &deadline);
        if (w == ETIMEDOUT && pool->active > 0 && !interrupted && job->progress) {
            pthread_mutex_unlock(&pool->lock);
            if (!report_progress(pool, job)) {
                interrupted = true;
                atomic_store(&pool->stop, true);
            }
            pthread_mutex_lock(&pool->lock);
        }
    }
    pool->job = NULL;
    rp_status rc = pool->error.code;
    if (rc != RP_OK && err && err->code == RP_OK)
        *err = pool->error;
    pthread_mutex_unlock(&pool->lock);
    if (rc == RP_OK && (interrupted || !report_progress(pool, job)))
        rc = rp_error_set(err, RP_INTERRUPTED, "interrupted");
    return rc;
}
