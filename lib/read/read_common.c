/*
 * read_common.c — the parts every block reader shares (extract's two,
 * zonal's): the worker state each pool thread builds for itself, the
 * failure log, the retried remote block read (read_common.h has the
 * failure policy), the run length and the open-files budget.
 *
 * Threads: a worker (handles, buffers, capture) belongs to its pool
 * thread; no dataset handle crosses threads. The failure log is shared by
 * all workers and takes its lock per line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "read_common.h"

#include "clock.h"
#include "gdal_config.h"
#include "remote.h"

void rp_failure_log_init(rp_failure_log *fl, FILE *log, const char *raster, const char *what) {
    fl->log = log;
    fl->raster = raster;
    fl->what = what;
    fl->logged = 0;
    pthread_mutex_init(&fl->lock, NULL);
}

void rp_failure_log_destroy(rp_failure_log *fl) {
    pthread_mutex_destroy(&fl->lock);
}

void rp_failure_log_add(rp_failure_log *fl, const char *fmt, ...) {
    if (!fl->log)
        return;
    char text[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&fl->lock);
    if (fl->logged < RP_READ_MAX_LOGGED_FAILURES)
        fprintf(fl->log, "rasterpool: %s: %s\n", fl->raster, text);
    else if (fl->logged == RP_READ_MAX_LOGGED_FAILURES)
        fprintf(fl->log, "rasterpool: %s: more %s cannot be read; only the first %d are shown\n",
                fl->raster, fl->what, RP_READ_MAX_LOGGED_FAILURES);
    fl->logged++;
    pthread_mutex_unlock(&fl->lock);
}

rp_status rp_read_worker_begin(char *const *config, int nconfig, bool remote, int max_open,
                               size_t block_bytes, size_t mask_bytes, void **state, rp_error *err) {
    rp_gdal_config_apply_remote((const char *const *)config, nconfig, remote, true);
    rp_read_worker *w = calloc(1, sizeof *w);
    if (!w)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    *state = w;
    w->handles = rp_handles_new(max_open);
    w->block = malloc(block_bytes ? block_bytes : 1);
    w->mask = mask_bytes ? malloc(mask_bytes) : NULL;
    if (!w->handles || !w->block || (mask_bytes && !w->mask))
        return rp_error_set(err, RP_NOMEM, "out of memory for block buffers");
    return RP_OK;
}

void rp_read_worker_end(void *state) {
    rp_read_worker *w = state;
    if (!w)
        return;
    rp_handles_free(w->handles);
    free(w->block);
    free(w->mask);
    free(w);
}

/* The band of path from the worker's handles; NULL with w->why. */
static GDALRasterBandH open_band(rp_read_worker *w, const char *path, int band) {
    rp_error open_err;
    rp_error_clear(&open_err);
    GDALDatasetH ds = rp_handles_get(w->handles, path, &open_err);
    GDALRasterBandH b = ds ? GDALGetRasterBand(ds, band) : NULL;
    if (!b) {
        w->open_failed = true;
        if (ds)
            snprintf(w->why, sizeof w->why, "has no band %d", band);
        else
            snprintf(w->why, sizeof w->why, "%s", open_err.message);
    }
    return b;
}

bool rp_read_retrying(rp_read_worker *w, const char *path, int band, rp_band_read_fn read,
                      void *ctx) {
    w->open_failed = false;
    w->why[0] = '\0';
    rp_gdal_capture_push(&w->capture);
    double t0 = rp_monotonic_seconds();
    GDALRasterBandH b = open_band(w, path, band);
    CPLErr e = b ? read(b, w, ctx) : CE_Failure;
    bool stalled = false; /* a stalled server is not asked again: see remote.h */
    for (int attempt = 1;
         b && (e != CE_None || rp_remote_suspect(path, &w->capture)) &&
         !(stalled =
               e != CE_None && rp_remote_stalled(path, &w->capture, rp_monotonic_seconds() - t0)) &&
         rp_remote_retry(path, &w->capture, attempt);
         attempt++) {
        rp_handles_drop(w->handles, path);
        rp_gdal_capture_reset(&w->capture);
        w->open_failed = false;
        t0 = rp_monotonic_seconds();
        GDALRasterBandH again = open_band(w, path, band);
        e = again ? read(again, w, ctx) : CE_Failure;
    }
    rp_gdal_capture_pop();
    if (e == CE_None && rp_remote_suspect(path, &w->capture))
        e = CE_Failure; /* out of tries after a network failure: not trusted */
    if (e == CE_None)
        return true;
    if (!w->open_failed) {
        char reason[200];
        rp_remote_reason(path, &w->capture, stalled, reason, sizeof reason);
        snprintf(w->why, sizeof w->why, "%s%s%s",
                 w->capture.count ? rp_gdal_capture_text(&w->capture) : w->capture.http,
                 reason[0] ? " - " : "", reason);
    }
    return false;
}

const char *rp_read_basename(const char *path) {
    const char *base = strrchr(path, '/');
    return base ? base + 1 : path;
}

size_t rp_read_block_run_length(size_t block_bytes) {
    size_t k = block_bytes ? RP_READ_RUN_BYTES / block_bytes : 1;
    return k < 1 ? 1 : k;
}

/* The stored offset and size of block (bx, by) from the GTiff driver's
 * "TIFF" metadata; false when it has none (another driver, a sparse
 * block). */
static bool block_extent(GDALRasterBandH band, int bx, int by, unsigned long long *offset,
                         unsigned long long *size) {
    char name[64];
    snprintf(name, sizeof name, "BLOCK_OFFSET_%d_%d", bx, by);
    const char *o = GDALGetMetadataItem(band, name, "TIFF");
    if (!o || sscanf(o, "%llu", offset) != 1 || *offset == 0)
        return false;
    snprintf(name, sizeof name, "BLOCK_SIZE_%d_%d", bx, by);
    const char *z = GDALGetMetadataItem(band, name, "TIFF");
    return z && sscanf(z, "%llu", size) == 1 && *size > 0;
}

bool rp_read_run_is_one_range(GDALRasterBandH band, int bx, int by, int count) {
    GDALDatasetH ds = GDALGetBandDataset(band);
    const char *layout = ds ? GDALGetMetadataItem(ds, "LAYOUT", "IMAGE_STRUCTURE") : NULL;
    /* a COG's blocks carry a 4-byte leader (their size) and a 4-byte
     * trailer (their last 4 bytes again), which GDAL reads with the block */
    unsigned long long gap_ok = layout && strcmp(layout, "COG") == 0 ? 8 : 0;
    unsigned long long offset, size, next_offset, next_size;
    if (!block_extent(band, bx, by, &offset, &size))
        return false;
    for (int i = 1; i < count; i++) {
        if (!block_extent(band, bx + i, by, &next_offset, &next_size))
            return false;
        if (next_offset < offset + size)
            return false;
        unsigned long long gap = next_offset - (offset + size);
        if (gap != 0 && gap != gap_ok)
            return false;
        offset = next_offset;
        size = next_size;
    }
    return true;
}

int rp_read_open_budget(int wanted, int threads) {
    int cap = wanted > 0 ? wanted : 64;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        long spare = (long)rl.rlim_cur - (long)rl.rlim_cur / 4 - 32;
        long per = spare / (threads > 0 ? threads : 1);
        if (per < cap)
            cap = per < 1 ? 1 : (int)per;
    }
    return cap;
}
