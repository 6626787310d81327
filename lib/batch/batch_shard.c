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

typedef struct ranked {
    const char *input;
    size_t index;
} ranked;

static int by_input(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    int c = strcmp(x->input, y->input);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

rp_status rp_batch_plan_shard(rp_batch_plan *plan, const rp_shard *shard, rp_error *err) {
    if (!shard || shard->count <= 0 || plan->n == 0)
        return RP_OK;
    ranked *order = malloc(plan->n * sizeof *order);
    char *keep = calloc(plan->n, 1);
    if (!order || !keep) {
        free(order);
        free(keep);
        return rp_error_set(err, RP_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < plan->n; i++)
        order[i] = (ranked){plan->inputs[i], i};
    qsort(order, plan->n, sizeof *order, by_input);
    for (size_t k = 0; k < plan->n; k++)
        keep[order[k].index] = rp_shard_holds(shard, k);
    size_t w = 0;
    for (size_t i = 0; i < plan->n; i++) {
        if (!keep[i]) {
            free(plan->inputs[i]);
            free(plan->outputs[i]);
            continue;
        }
        plan->inputs[w] = plan->inputs[i];
        plan->outputs[w] = plan->outputs[i];
        w++;
    }
    plan->n = w;
    free(order);
    free(keep);
    return RP_OK;
}
