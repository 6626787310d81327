/*
 * gdal_config.h — applying --config KEY VALUE options to GDAL: the one place
 * every job does it (extract's readers, calc's workers and writer, batch's
 * worker process).
 */
#ifndef RP_GDAL_CONFIG_H
#define RP_GDAL_CONFIG_H
#include <stdbool.h>

/* Sets (set = true) n KEY, VALUE pairs (pairs[2i], pairs[2i+1]) as GDAL
 * configuration options of the calling thread (CPLSetThreadLocalConfigOption),
 * or removes them again (set = false). Thread-local, so that jobs running at
 * once in one process do not see each other's options; every thread that
 * calls GDAL for a job calls this first. pairs may be NULL when n is 0. */
void rp_gdal_config_apply(const char *const *pairs, int n, bool set);

/* The same, then, when remote is true, rasterpool's defaults for network
 * reads (retries, keep-alive, timeouts; rp_remote_apply_defaults) for every
 * key nobody set, so --config and the environment win. set = false removes
 * the pairs and whatever defaults this thread set (whatever remote says). */
void rp_gdal_config_apply_remote(const char *const *pairs, int n, bool remote, bool set);

/* Sets n pairs process-wide (CPLSetConfigOption), for a process that exists
 * for one job only (a batch worker): there, threads that GDAL starts itself
 * (gdalwarp -multi's I/O thread, ...) must see the options too, and they do
 * not inherit thread-local ones. Not for library code that shares a
 * process with its caller. */
void rp_gdal_config_apply_process(const char *const *pairs, int n);

#endif
