/*
 * shard.h — `--shard I/N`: one of N parts of a job, for job arrays and
 * schedulers without MPI (docs/cluster.md). batch keeps every N-th task
 * after a stable sort of the inputs; extract keeps a contiguous range of
 * the points, so that the N part files, concatenated in order, are the
 * whole output.
 */
#ifndef RP_SHARD_H
#define RP_SHARD_H
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef struct rp_shard {
    int index; /* I, 0 <= I < N */
    int count; /* N; 0: no sharding */
} rp_shard;

enum { RP_SHARD_MAX = 1000000 };

/* Parses "I/N" (whole decimal numbers, 0 <= I < N <= RP_SHARD_MAX) for the
 * option named `option`. RP_USAGE with a message that names the option and
 * the text otherwise. */
rp_status rp_shard_parse(const char *text, const char *option, rp_shard *shard, rp_error *err);

/* The rows [*lo, *hi) of n that the shard holds: a stable, contiguous
 * partition, shard I holding [floor(I*n/N), floor((I+1)*n/N)). All of
 * [0, n) when the shard's count is 0. */
void rp_shard_range(const rp_shard *shard, size_t n, size_t *lo, size_t *hi);

/* Whether position k (after the caller's stable sort) is in the shard:
 * k % N == I. Always true when the shard's count is 0. */
bool rp_shard_holds(const rp_shard *shard, size_t k);

#endif
