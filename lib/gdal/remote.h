/*
 * remote.h — rasters read over the network: recognising their
 * paths, and the GDAL settings that make many small range reads fast and
 * robust (set per thread, only where the user has not set them).
 */
#ifndef RP_REMOTE_H
#define RP_REMOTE_H
#include <stdbool.h>
#include <stddef.h>

#include <gdal.h>

#include "gdal_errors.h"

/* Extra tries rasterpool makes after a connection reset or timeout. */
#define RP_REMOTE_RETRIES 5

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

/* After a failed operation on path (GDAL's messages in cap), whether to
 * try again: only for a remote path, a failure that did not end with an
 * HTTP answer (GDAL has retried 429/5xx itself; 4xx are final): a reset or
 * timed-out connection, and attempt (1, 2, ...) <= RP_REMOTE_RETRIES. When
 * true, it has cleared GDAL's cached state of the file and waited (0.1 s,
 * doubling). */
bool rp_remote_retry(const char *path, const rp_gdal_capture *cap, int attempt);

/* Whether an operation on path that GDAL reported as successful met a
 * network failure on the way (a connection reset or timed out: a message
 * without an HTTP answer in cap). GDAL 3.6 can then return wrong data
 * without an error: under resets and load, whole COG blocks came back as
 * zeros with CE_None (cli_remote, ASan build; the mechanism inside GDAL is
 * not pinned down). Such a result is not trusted: reopen the file and try
 * again (rp_remote_retry), or fail. */
bool rp_remote_suspect(const char *path, const rp_gdal_capture *cap);

/* Whether GDAL's messages in cap say a request timed out or was too slow
 * (curl's "Operation timed out", "Operation too slow"): not retried. */
bool rp_remote_timed_out(const rp_gdal_capture *cap);

/* Whether a failed attempt on a remote path that lasted `seconds` met a
 * stalled server: a timeout message, or no HTTP answer in about
 * GDAL_HTTP_LOW_SPEED_TIME or GDAL_HTTP_TIMEOUT. Such a failure is not
 * retried (it would multiply the wait). */
bool rp_remote_stalled(const char *path, const rp_gdal_capture *cap, double seconds);

/* For a remote failure without an HTTP status: why, in words (timed out,
 * DNS, connection refused, connection reset); "" otherwise. */
void rp_remote_reason(const char *path, const rp_gdal_capture *cap, bool stalled, char *buf,
                      size_t n);

/* GDALOpenEx(path, flags) that, for a remote path, neither lists the
 * file's folder nor probes for sidecar files (unless the user set
 * GDAL_DISABLE_READDIR_ON_OPEN), and tries again after transient network
 * failures (rp_remote_retry). The failure's text goes to the thread's GDAL
 * error handler as usual. */
GDALDatasetH rp_remote_open(const char *path, unsigned int flags);

#endif
