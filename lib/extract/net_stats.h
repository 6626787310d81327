/*
 * net_stats.h — the HTTP requests a job made (net_stats.c), for -v.
 */
#ifndef RP_NET_STATS_H
#define RP_NET_STATS_H
#include <stdbool.h>
#include <stdint.h>

typedef struct rp_net_stats {
    uint64_t get, head; /* requests sent */
    uint64_t bytes;     /* bytes the GETs downloaded */
    /* runs of remote blocks read with one RasterIO (read_blocks.c), and of
     * those, the ones whose values were taken from GDAL's block cache in
     * place (not copied into a buffer first) */
    uint64_t runs, runs_in_place;
} rp_net_stats;

/* Turns GDAL's network statistics on (unless the caller set
 * CPL_VSIL_NETWORK_STATS_ENABLED) and zeroes them. */
void rp_net_stats_begin(void);
/* Counts one run read (any thread). */
void rp_net_stats_count_run(bool in_place);
/* The counts since rp_net_stats_begin; false when GDAL has none. */
bool rp_net_stats_read(rp_net_stats *st);

#endif
