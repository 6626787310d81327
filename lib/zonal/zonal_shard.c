/*
 * zonal_shard.c — `--shard I/N` for zonal: part I of N contiguous, equal
 * runs of the polygons in input order (core/shard.c: features
 * [floor(I*n/N), floor((I+1)*n/N))). Every part reads all the features
 * (the count fixes the partition) but prepares (transforms, repairs,
 * rasterises the outlines of) and reads pixels for its own only. Each part
 * file carries the header, so the parts in order, each after the first
 * without its header, are the single run's output byte for byte — unless
 * frac or weighted_frac, whose columns are the values found in the part
 * (docs/cluster.md).
 *
 * Threads: the caller's. Ownership: frees the features it drops.
 */
#include <stdlib.h>
#include <string.h>

#include "zonal_internal.h"

void zonal_polys_shard(const rp_shard *shard, zonal_polys *p) {
    size_t lo, hi;
    rp_shard_range(shard, p->n, &lo, &hi);
    for (size_t i = 0; i < p->n; i++)
        if (i < lo || i >= hi)
            zonal_feature_free(&p->feats[i], p->ncols);
    if (lo > 0 && hi > lo)
        memmove(p->feats, p->feats + lo, (hi - lo) * sizeof *p->feats);
    p->n = hi - lo;
}
