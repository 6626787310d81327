/* test_pool.c — the pool runs every task exactly once, per-worker state is
 * built and released in the worker, the first error stops the job, progress
 * can cancel, one thread runs inline, and a pool grown between jobs runs
 * every later job on all its workers (an inline pool stays inline). */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "check.h"
#include "error.h"
#include "pool.h"

typedef struct counting_ctx {
    atomic_int *hits;
    atomic_int begun, ended;
    size_t fail_at; /* (size_t)-1: never */
    atomic_int ran;
    atomic_int failed; /* task fail_at has returned its error */
} counting_ctx;

typedef struct worker_state {
    pthread_t thread;
    int tasks;
} worker_state;

static rp_status begin(void *ctx, int worker, void **state, rp_error *err) {
    (void)err;
    (void)worker;
    counting_ctx *c = ctx;
    worker_state *w = calloc(1, sizeof *w);
    w->thread = pthread_self();
    *state = w;
    atomic_fetch_add(&c->begun, 1);
    return RP_OK;
}

static rp_status run(void *ctx, void *state, size_t task, rp_error *err) {
    counting_ctx *c = ctx;
    worker_state *w = state;
    if (!pthread_equal(w->thread, pthread_self()))
        return rp_error_set(err, RP_INTERNAL, "state crossed threads");
    w->tasks++;
    atomic_fetch_add(&c->hits[task], 1);
    atomic_fetch_add(&c->ran, 1);
    if (task == c->fail_at) {
        atomic_store(&c->failed, 1);
        return rp_error_set(err, RP_READ, "task %zu failed", task);
    }
    return RP_OK;
}

/* For first_error_stops: tasks after the failing one take 1 ms, and the
 * ones that start before it has failed wait for it (at most 10 s), so that
 * "the job stopped early" does not depend on how the threads happen to be
 * scheduled on a loaded machine: thousands of tasks remain when the error
 * is recorded. */
static rp_status run_after_failure(void *ctx, void *state, size_t task, rp_error *err) {
    counting_ctx *c = ctx;
    if (task > c->fail_at) {
        for (int waited = 0; !atomic_load(&c->failed) && waited < 10000; waited++)
            usleep(1000);
        usleep(1000);
    }
    return run(ctx, state, task, err);
}

static void end(void *ctx, void *state) {
    counting_ctx *c = ctx;
    worker_state *w = state;
    if (!w)
        return; /* after a failed begin */
    if (pthread_equal(w->thread, pthread_self()))
        atomic_fetch_add(&c->ended, 1);
    free(w);
}

static int cancel_after_first(double fraction, const char *message, void *user) {
    (void)fraction;
    (void)message;
    (void)user;
    return 1;
}

static rp_status slow_run(void *ctx, void *state, size_t task, rp_error *err) {
    usleep(2000);
    return run(ctx, state, task, err);
}

static void every_task_once(int threads, size_t ntasks) {
    rp_pool *pool = rp_pool_new(threads);
    CHECK(pool != NULL);
    for (int rep = 0; rep < 3; rep++) { /* a pool runs many jobs */
        counting_ctx c = {.fail_at = (size_t)-1};
        c.hits = calloc(ntasks + 1, sizeof *c.hits);
        rp_pool_job job = {.ntasks = ntasks, .ctx = &c, .begin = begin, .run = run, .end = end};
        rp_error err;
        rp_error_clear(&err);
        CHECK_EQ_INT(rp_pool_run(pool, &job, &err), RP_OK);
        int wrong = 0;
        for (size_t t = 0; t < ntasks; t++)
            wrong += atomic_load(&c.hits[t]) != 1;
        CHECK_EQ_INT(wrong, 0);
        CHECK_EQ_INT(atomic_load(&c.begun), threads > 1 ? threads : 1);
        CHECK_EQ_INT(atomic_load(&c.ended), atomic_load(&c.begun));
        free(c.hits);
    }
    rp_pool_free(pool);
}

static void first_error_stops(int threads) {
    rp_pool *pool = rp_pool_new(threads);
    size_t ntasks = 10000;
    counting_ctx c = {.fail_at = 10};
    c.hits = calloc(ntasks, sizeof *c.hits);
    rp_pool_job job = {
        .ntasks = ntasks, .ctx = &c, .begin = begin, .run = run_after_failure, .end = end};
    rp_error err;
    rp_error_clear(&err);
    CHECK_EQ_INT(rp_pool_run(pool, &job, &err), RP_READ);
    CHECK_EQ_STR(err.message, "task 10 failed");
    CHECK(atomic_load(&c.ran) < (int)ntasks);
    CHECK_EQ_INT(atomic_load(&c.ended), atomic_load(&c.begun));
    free(c.hits);
    rp_pool_free(pool);
}

static void progress_cancels(int threads) {
    rp_pool *pool = rp_pool_new(threads);
    size_t ntasks = 2000; /* 2 ms each: several seconds unless cancelled */
    counting_ctx c = {.fail_at = (size_t)-1};
    c.hits = calloc(ntasks, sizeof *c.hits);
    rp_pool_job job = {.ntasks = ntasks,
                       .ctx = &c,
                       .begin = begin,
                       .run = slow_run,
                       .end = end,
                       .progress = cancel_after_first};
    rp_error err;
    rp_error_clear(&err);
    CHECK_EQ_INT(rp_pool_run(pool, &job, &err), RP_INTERRUPTED);
    CHECK(atomic_load(&c.ran) < (int)ntasks);
    free(c.hits);
    rp_pool_free(pool);
}

static rp_status failing_begin(void *ctx, int worker, void **state, rp_error *err) {
    (void)ctx;
    (void)state;
    return rp_error_set(err, RP_OPEN, "worker %d cannot open", worker);
}

static void begin_failure(int threads) {
    rp_pool *pool = rp_pool_new(threads);
    counting_ctx c = {.fail_at = (size_t)-1};
    c.hits = calloc(100, sizeof *c.hits);
    rp_pool_job job = {.ntasks = 100, .ctx = &c, .begin = failing_begin, .run = run, .end = end};
    rp_error err;
    rp_error_clear(&err);
    CHECK_EQ_INT(rp_pool_run(pool, &job, &err), RP_OPEN);
    CHECK(strstr(err.message, "cannot open") != NULL);
    CHECK_EQ_INT(atomic_load(&c.ran), 0);
    free(c.hits);
    rp_pool_free(pool);
}

/* Grows a pool between jobs: each job runs every task once, and every
 * worker (the old and the new) builds its state for it. */
static void grows(int threads, int grown) {
    rp_pool *pool = rp_pool_new(threads);
    CHECK(pool != NULL);
    int sizes[] = {threads, grown, grown, grown / 2}; /* asking for fewer keeps them */
    for (int rep = 0; rep < 4; rep++) {
        int want = threads > 1 ? (grown > threads ? grown : threads) : 1;
        int now = rp_pool_grow(pool, sizes[rep]);
        if (rep == 0)
            want = threads > 1 ? threads : 1;
        CHECK_EQ_INT(now, want);
        CHECK_EQ_INT(rp_pool_threads(pool), want);
        size_t ntasks = 3000;
        counting_ctx c = {.fail_at = (size_t)-1};
        c.hits = calloc(ntasks, sizeof *c.hits);
        rp_pool_job job = {.ntasks = ntasks, .ctx = &c, .begin = begin, .run = run, .end = end};
        rp_error err;
        rp_error_clear(&err);
        CHECK_EQ_INT(rp_pool_run(pool, &job, &err), RP_OK);
        int wrong = 0;
        for (size_t t = 0; t < ntasks; t++)
            wrong += atomic_load(&c.hits[t]) != 1;
        CHECK_EQ_INT(wrong, 0);
        CHECK_EQ_INT(atomic_load(&c.begun), want);
        CHECK_EQ_INT(atomic_load(&c.ended), want);
        free(c.hits);
    }
    rp_pool_free(pool);
}

int main(void) {
    grows(1, 8); /* inline stays inline */
    grows(2, 2);
    grows(2, 9);
    grows(4, 40);
    int counts[] = {1, 2, 3, 8};
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        every_task_once(counts[k], 0);
        every_task_once(counts[k], 1);
        every_task_once(counts[k], 5000);
        first_error_stops(counts[k]);
        progress_cancels(counts[k]);
        begin_failure(counts[k]);
    }
    rp_pool_free(NULL);
    return CHECK_DONE();
}
