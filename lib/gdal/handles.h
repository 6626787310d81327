/*
 * handles.h — one worker's open GDAL datasets, a bounded LRU.
 * GDAL dataset handles are not thread-safe: a cache belongs to one thread.
 */
#ifndef RP_HANDLES_H
#define RP_HANDLES_H
#include <gdal.h>

#include "rasterpool.h"

typedef struct rp_handles rp_handles;

/* At most `capacity` datasets stay open (>= 1); the least recently used is
 * closed to make room. */
rp_handles *rp_handles_new(int capacity);
/* Closes every dataset. NULL is a no-op. Call on the owning thread. */
void rp_handles_free(rp_handles *handles);
/* The open dataset for path (opened read-only as a raster on first use).
 * NULL with err set (RP_OPEN, GDAL's reason) when it cannot be opened. */
GDALDatasetH rp_handles_get(rp_handles *handles, const char *path, rp_error *err);
/* How many datasets are open now. */
int rp_handles_open_count(const rp_handles *handles);
/* Closes path's dataset if it is open (the next get reopens it): for a
 * remote file whose state GDAL may have cached wrongly after a network
 * failure. */
void rp_handles_drop(rp_handles *handles, const char *path);

#endif
