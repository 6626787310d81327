/*
 * batch_shard.c — `--shard I/N` for batch: the plan's tasks sorted by input
 * path (ties, which dedupe leaves none of, by position: a stable order), and
 * every N-th of them kept, starting at the I-th. The N shards together are
 * the whole plan, each task in exactly one, whatever order the inputs were
 * listed or globbed in. The kept tasks stay in the plan's order.
 *
 * Threads: none. Ownership: the strings of dropped tasks are freed.
 */
#include <stdlib.h>
#include <string.h>

#include "batch_internal.h"
#include "error.h"

rp_status rp_batch_plan_shard(rp_batch_plan *plan, const rp_shard *shard, rp_error *err) {
    if (!shard || shard->count <= 0 || plan->n == 0)
        return RP_OK;
    rp_batch_named *order = rp_batch_sort_names(plan->inputs, plan->n);
    char *drop = calloc(plan->n, 1);
    if (!order || !drop) {
        free(order);
        free(drop);
        return rp_error_set(err, RP_NOMEM, "out of memory");
    }
    for (size_t k = 0; k < plan->n; k++)
        drop[order[k].index] = !rp_shard_holds(shard, k);
    rp_batch_plan_drop(plan, drop);
    free(order);
    free(drop);
    return RP_OK;
}
