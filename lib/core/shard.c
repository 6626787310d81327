/*
 * shard.c — `--shard I/N` parsing and the two partitions jobs use (see
 * shard.h): round-robin positions for batch tasks, contiguous ranges for
 * extract rows. Pure arithmetic; no state.
 *
 * Threads: any. Ownership: nothing allocated.
 */
#include "shard.h"

#include <errno.h>
#include <stdlib.h>

static bool parse_count(const char *s, char **end, long *value) {
    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    *value = strtol(s, end, 10);
    return errno == 0;
}

rp_status rp_shard_parse(const char *text, const char *option, rp_shard *shard, rp_error *err) {
    long i = -1, n = -1;
    char *end = NULL;
    bool ok = parse_count(text, &end, &i) && *end == '/';
    if (ok)
        ok = parse_count(end + 1, &end, &n) && *end == '\0';
    if (!ok || n < 1 || n > RP_SHARD_MAX || i < 0 || i >= n)
        return rp_error_set(err, RP_USAGE,
                            "%s '%s': expected I/N with 0 <= I < N (e.g. %s 3/100 for the 4th "
                            "of 100 parts; Slurm: %s $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT)",
                            option, text, option, option);
    shard->index = (int)i;
    shard->count = (int)n;
    return RP_OK;
}

/* floor(a * b / c) without overflow for a <= c (row counts up to 2^64). */
static size_t scaled(size_t n, int part, int parts) {
    unsigned __int128 v = (unsigned __int128)n * (unsigned)part;
    return (size_t)(v / (unsigned)parts);
}

void rp_shard_range(const rp_shard *shard, size_t n, size_t *lo, size_t *hi) {
    if (!shard || shard->count <= 0) {
        *lo = 0;
        *hi = n;
        return;
    }
    *lo = scaled(n, shard->index, shard->count);
    *hi = scaled(n, shard->index + 1, shard->count);
}

bool rp_shard_holds(const rp_shard *shard, size_t k) {
    if (!shard || shard->count <= 0)
        return true;
    return k % (size_t)shard->count == (size_t)shard->index;
}
