/*
 * gdal_config.c — --config KEY VALUE applied to GDAL, thread by thread.
 *
 * GDAL's process-wide CPLSetConfigOption would leak one job's options into
 * another job of the same process (and into the caller's own GDAL calls), so
 * the options are set thread-locally on each thread that works for the job
 * and removed when it is done. A batch worker, a process of its own, sets
 * them process-wide instead (rp_gdal_config_apply_process).
 *
 * Threads: touches only the calling thread's configuration. Ownership: GDAL
 * copies keys and values; pairs stay the caller's.
 */
#include <cpl_conv.h>

#include "gdal_config.h"
#include "remote.h"

void rp_gdal_config_apply(const char *const *pairs, int n, bool set) {
    for (int i = 0; i < n; i++)
        CPLSetThreadLocalConfigOption(pairs[2 * i], set ? pairs[2 * i + 1] : NULL);
}

void rp_gdal_config_apply_process(const char *const *pairs, int n) {
    for (int i = 0; i < n; i++)
        CPLSetConfigOption(pairs[2 * i], pairs[2 * i + 1]);
}

void rp_gdal_config_apply_remote(const char *const *pairs, int n, bool remote, bool set) {
    rp_gdal_config_apply(pairs, n, set);
    /* after the pairs, so that the user's values win; unset always */
    if (remote || !set)
        rp_remote_apply_defaults(set);
}
