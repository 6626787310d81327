/*
 * remote_internal.h — rasters read over the network: recognising their
 * paths, and the GDAL settings that make many small range reads fast and
 * robust (set per thread, only where the user has not set them).
 */
#ifndef RP_REMOTE_INTERNAL_H
#define RP_REMOTE_INTERNAL_H
#include <stdbool.h>

#include <gdal.h>

/* Default worker count for jobs that read remote files: reads wait on the
 * network, not on a core, so many more are kept in flight than there are
 * CPUs. Bounded by RP_REMOTE_MAX_IO_THREADS. */
#define RP_REMOTE_DEFAULT_IO_THREADS 32
#define RP_REMOTE_MAX_IO_THREADS 256

/* true for /vsicurl/, /vsis3/, /vsigs/, /vsiaz/, /vsiadls/, /vsioss/,
 * /vsiswift/, /vsiwebhdfs/ paths (also behind /vsizip/ etc. chains) and for
 * bare http://, https:// and ftp:// URLs. */
bool rp_path_is_remote(const char *path);

/* The path GDAL should open: a bare http(s)/ftp URL gets /vsicurl/ in
 * front (so the GeoTIFF driver reads it by ranges); anything else is
 * returned as a copy. NULL when out of memory. The caller frees. */
char *rp_remote_gdal_path(const char *path);

/* The GDAL configuration options rasterpool sets for remote reads, as
 * KEY, VALUE pairs ending with NULL. */
extern const char *const rp_remote_defaults[];

/* Sets (set = true) each default on the calling thread (thread-local) when
 * no value is set for it already (process-wide, thread-local or in the
 * environment; --config is applied first, so it wins); or removes again
 * those this thread set (set = false). Both are idempotent. */
void rp_remote_apply_defaults(bool set);

/* GDALOpenEx(path, flags) that, for a remote path, neither lists the
 * file's folder nor probes for sidecar files (unless the user set
 * GDAL_DISABLE_READDIR_ON_OPEN). Errors go to GDAL's handler as usual. */
GDALDatasetH rp_remote_open(const char *path, unsigned int flags);

#endif
