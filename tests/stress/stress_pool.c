/* stress_pool.c — create and destroy pools thousands of times and run
 * small jobs on them (htslib's thrash tests), growing some between jobs
 * (rp_pool_grow, as a remote read does). Run under TSan in CI: it shows
 * the pool's locking, not its speed. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "pool.h"

static rp_status add_task(void *ctx, void *state, size_t task, rp_error *err) {
    (void)state;
    (void)err;
    atomic_fetch_add((atomic_size_t *)ctx, task + 1);
    return RP_OK;
}

int main(void) {
    int failures = 0;
    for (int i = 0; i < 2000; i++) {
        int threads = 1 + i % 5;
        rp_pool *pool = rp_pool_new(threads);
        if (!pool) {
            fprintf(stderr, "cannot create a pool of %d threads\n", threads);
            return 1;
        }
        for (int j = 0; j < i % 4; j++) {
            if (i % 3 == 0 &&
                rp_pool_grow(pool, threads + j + 1) != (threads > 1 ? threads + j + 1 : 1))
                failures++;
            atomic_size_t sum;
            atomic_init(&sum, 0);
            size_t n = (size_t)(i % 97);
            rp_pool_job job = {.ntasks = n, .ctx = &sum, .run = add_task};
            rp_error err;
            rp_error_clear(&err);
            if (rp_pool_run(pool, &job, &err) != RP_OK || atomic_load(&sum) != n * (n + 1) / 2)
                failures++;
        }
        rp_pool_free(pool);
    }
    printf("2000 pools created and destroyed, %d failed jobs\n", failures);
    return failures ? 1 : 0;
}
