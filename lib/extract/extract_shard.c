/*
 * extract_shard.c — `--shard I/N` for extract: part I of N contiguous, equal
 * runs of the input rows (core/shard.c: rows [floor(I*n/N), floor((I+1)*n/N))).
 * Every part reads all the points in pass 1 (cheap next to the pixels; the
 * row count fixes the partition), then leaves the other parts' rows out of
 * the pixel work (NaN coordinates: no block is planned for them) and out of
 * the output (pass 2 writes only the range). Each part file carries the
 * header, so the parts in order, each after the first without its header,
 * are the single run's output byte for byte (docs/cluster.md).
 *
 * Threads: the caller's. Ownership: edits the points in place.
 */
#include <math.h>

#include "extract_internal.h"
#include "points_read.h"

void rp_extract_shard_points(const rp_shard *shard, rp_points *pts, size_t *lo, size_t *hi) {
    rp_shard_range(shard, pts->n, lo, hi);
    size_t nbad = 0;
    for (size_t i = 0; i < pts->n; i++) {
        if (i >= *lo && i < *hi) {
            nbad += pts->bad[i] != 0;
            continue;
        }
        pts->x[i] = NAN;
        pts->y[i] = NAN;
        pts->bad[i] = 0;
    }
    pts->nbad = nbad;
    pts->write_range = true;
    pts->write_lo = *lo;
    pts->write_hi = *hi;
}

void rp_extract_shard_header(const rp_extract_options *opts, rp_points *pts) {
    pts->write_no_header = opts->part_without_header;
}
