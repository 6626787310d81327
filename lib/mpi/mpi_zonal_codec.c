/*
 * mpi_zonal_codec.c — a zonal job's (polygon, block) accumulators packed
 * into bytes for the farm's results (mpi_zonal.h), and unpacked on rank 0
 * into its results exactly as its own workers would have left them: every
 * field of zonal_acc, doubles copied as bytes (bit for bit, NaN payloads
 * and signed zeros included), the value lists (value, weight) in their
 * order. The ranks are assumed to share one byte order and double format
 * (one cluster, one architecture).
 *
 * Threads: any (pure). Ownership: unpacked value lists belong to the
 * accumulators (freed with zonal_results_free).
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "mpi_zonal.h"

enum { FIXED = 8 * sizeof(double) + 2 * sizeof(uint64_t) };

uint64_t rp_zplan_hash(const zonal_plan *plan) {
    uint64_t h = 1469598103934665603ULL;
    const uint64_t prime = 1099511628211ULL;
    for (size_t i = 0; i < plan->nblocks; i++) {
        const zonal_block *b = &plan->blocks[i];
        uint64_t v[4] = {(uint64_t)b->bx, (uint64_t)b->by, b->start, b->count};
        for (int k = 0; k < 4; k++)
            h = (h ^ v[k]) * prime;
    }
    for (size_t i = 0; i < plan->npairs; i++)
        h = (h ^ ((uint64_t)plan->pairs[i].feat << 32 | plan->pairs[i].block)) * prime;
    return h;
}

size_t rp_zacc_packed_bytes(const zonal_acc *a, size_t n) {
    size_t bytes = n * FIXED;
    for (size_t i = 0; i < n; i++)
        bytes += a[i].nvals * 2 * sizeof(double);
    return bytes;
}

static unsigned char *put(unsigned char *p, const void *v, size_t len) {
    memcpy(p, v, len);
    return p + len;
}

void rp_zacc_pack(const zonal_acc *a, size_t n, unsigned char *out) {
    unsigned char *p = out;
    for (size_t i = 0; i < n; i++) {
        const zonal_acc *x = &a[i];
        double d[8] = {x->w, x->sum, x->mean, x->m2, x->wsum, x->wcov, x->min, x->max};
        uint64_t u[2] = {x->cells, (uint64_t)x->nvals};
        p = put(p, d, sizeof d);
        p = put(p, u, sizeof u);
        if (x->nvals)
            p = put(p, x->vals, x->nvals * 2 * sizeof(double));
    }
}

rp_status rp_zacc_unpack(zonal_acc *a, size_t n, const unsigned char *in, size_t len,
                         rp_error *err) {
    const unsigned char *p = in, *end = in + len;
    for (size_t i = 0; i < n; i++) {
        if ((size_t)(end - p) < FIXED)
            return rp_error_set(err, RP_INTERNAL, "a zonal result ends in accumulator %zu of %zu",
                                i, n);
        double d[8];
        uint64_t u[2];
        memcpy(d, p, sizeof d);
        memcpy(u, p + sizeof d, sizeof u);
        p += FIXED;
        zonal_acc *x = &a[i];
        x->w = d[0], x->sum = d[1], x->mean = d[2], x->m2 = d[3];
        x->wsum = d[4], x->wcov = d[5], x->min = d[6], x->max = d[7];
        x->cells = u[0];
        if (u[1] > (uint64_t)(end - p) / (2 * sizeof(double)))
            return rp_error_set(err, RP_INTERNAL,
                                "a zonal result's accumulator %zu claims %llu values, more than "
                                "its bytes hold",
                                i, (unsigned long long)u[1]);
        if (u[1] == 0)
            continue;
        x->vals = malloc((size_t)u[1] * 2 * sizeof(double));
        if (!x->vals)
            return rp_error_set(err, RP_NOMEM, "out of memory for %llu values",
                                (unsigned long long)u[1]);
        memcpy(x->vals, p, (size_t)u[1] * 2 * sizeof(double));
        x->nvals = x->capvals = (size_t)u[1];
        p += (size_t)u[1] * 2 * sizeof(double);
    }
    if (p != end)
        return rp_error_set(err, RP_INTERNAL, "a zonal result has %zu bytes too many",
                            (size_t)(end - p));
    return RP_OK;
}
