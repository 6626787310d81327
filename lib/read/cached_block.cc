/*
 * cached_block.cc — the C face of GDALRasterBand::TryGetLockedBlockRef: a
 * decoded block of GDAL's block cache, locked, read in place, unlocked.
 *
 * Threads: the caller's thread owns the band's dataset (one handle per
 * worker); the lock only keeps GDAL's cache from evicting the block while
 * it is read. Ownership: the block stays GDAL's; a caller holds a lock.
 */
#include "cached_block.h"

#include <gdal_priv.h>

extern "C" bool rp_cached_block_get(GDALRasterBandH band, int bx, int by, rp_cached_block *out) {
    out->block = nullptr;
    out->data = nullptr;
    GDALRasterBlock *b = GDALRasterBand::FromHandle(band)->TryGetLockedBlockRef(bx, by);
    if (!b)
        return false;
    if (!b->GetDataRef()) {
        b->DropLock();
        return false;
    }
    out->block = b;
    out->data = static_cast<const unsigned char *>(b->GetDataRef());
    return true;
}

extern "C" void rp_cached_block_release(rp_cached_block *b) {
    if (b->block)
        static_cast<GDALRasterBlock *>(b->block)->DropLock();
    b->block = nullptr;
    b->data = nullptr;
}
