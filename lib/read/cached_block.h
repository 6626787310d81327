/*
 * cached_block.h — a decoded block of GDAL's block cache, read in place
 * (cached_block.cc; GDAL's C API has no call for it).
 *
 * A remote run of blocks is decoded by one RasterIO into GDAL's block
 * cache; reading the points' values from there, instead of copying the
 * whole run into a buffer of the worker's first, saves a copy of every
 * decoded pixel and the page faults of that buffer (read_blocks.c).
 */
#ifndef RP_CACHED_BLOCK_H
#define RP_CACHED_BLOCK_H
#include <stdbool.h>

#include <gdal.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One locked block: GDAL does not evict it until it is released. */
typedef struct rp_cached_block {
    void *block;               /* GDAL's GDALRasterBlock (opaque) */
    const unsigned char *data; /* block_w x block_h pixels of the band's own type */
} rp_cached_block;

/* Locks block (bx, by) of `band` when GDAL's block cache holds it (no read:
 * false when it does not, nothing held). The calling thread must own the
 * band's dataset. */
bool rp_cached_block_get(GDALRasterBandH band, int bx, int by, rp_cached_block *out);
/* Unlocks it; a released or never got block is a no-op. */
void rp_cached_block_release(rp_cached_block *b);

#ifdef __cplusplus
}
#endif
#endif
