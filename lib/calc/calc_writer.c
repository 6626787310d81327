/*
 * calc_writer.c — the calc output: one writer thread, windows in order,
 * bounded memory, and an output that appears only when complete.
 *
 * The design is simple: workers compute windows in any order and hand each
 * finished buffer to a ring of `capacity` slots (window i goes to slot
 * i % capacity). One writer thread owns the output dataset and writes the
 * slots strictly in window order. A worker may start window i only when
 * i < written + capacity (rp_calc_writer_wait_turn), so at most `capacity`
 * finished windows wait in memory however fast the workers race ahead
 * (htslib's hts_tpool back-pressure). This cannot deadlock: windows are
 * claimed in increasing order, so the oldest unwritten window is always
 * claimed by a worker that is allowed to run.
 *
 * Same bytes at any thread count: the dataset sees the same writes in the
 * same order, and after each window its bands' dirty blocks are flushed, so
 * blocks reach the file in window order and never through another thread
 * evicting them from GDAL's cache.
 *
 * Atomic output: the dataset is staged in the destination's folder
 * (core/staged_output: ".NAME.rp-tmp-PID-XXXXXX/NAME", the mode a new file
 * gets under the umask, GDAL's sidecars with it); only a complete run commits
 * it (fsync, rename, folder fsync). For COG the GTiff is scratch, staged
 * under a second name, and GDAL's COG driver copies it to the output's stage.
 * Any failure or cancellation aborts both stages: nothing is left behind.
 * A device, FIFO or /dev/stdout (core/output_guard) is written in place
 * instead: renaming over it would replace it with a regular file.
 *
 * Locking: `lock` guards the slots, `written`, `failed` and `error`; one
 * condition variable `changed` wakes both the writer and waiting workers.
 * The dataset is touched only by the writer thread while it runs, and by the
 * caller before start and after join.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cpl_conv.h>
#include <cpl_string.h>

#include "calc_internal.h"
#include "gdal_errors.h"
#include "output_guard.h"
#include "staged_output.h"

typedef struct slot {
    bool ready;
    size_t index;
    int x, y, w, h;
    void *buffer;
} slot;

struct rp_calc_writer {
    char *path;           /* the destination */
    rp_stage *output;     /* the destination's stage: the dataset, or the COG copy */
    rp_stage *scratch;    /* COG: the GTiff the COG driver copies from */
    const char *tmp_path; /* the dataset being written (a stage's path) */
    bool cog;
    bool direct; /* written at path itself, not staged (core/output_guard) */
    GDALDatasetH ds;
    GDALDataType type;
    int bands;
    char **cog_options;

    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    slot *slots;
    int capacity;
    size_t nwindows;
    size_t written;
    bool failed;          /* stop everything */
    atomic_bool stopping; /* the same, for lock-free polling by kernels */
    rp_error error;       /* the writer's own failure, if any */
    char **config;
    int nconfig;
};

static char **with_default(char **opts, const char *key, const char *value) {
    if (!CSLFetchNameValue(opts, key))
        opts = CSLSetNameValue(opts, key, value);
    return opts;
}

/* Sweeps the folder of dead processes' leftovers, then stages the output
 * (and, for COG, the scratch GTiff under a name of its own). GDAL creates
 * the files. */
static rp_status stage_files(rp_calc_writer *w, rp_error *err) {
    char *dir = strdup(w->path);
    if (!dir)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    rp_stage_sweep(slash ? dir : ".");
    free(dir);
    rp_status st = rp_stage_open(w->path, 0, &w->output, err);
    if (st == RP_OK && w->cog)
        st = rp_stage_open(w->path, 0, &w->scratch, err);
    if (st == RP_OK)
        w->tmp_path = rp_stage_path(w->cog ? w->scratch : w->output);
    return st;
}

/* Whether the output path can take the output: an existing file other
 * than a regular one is not replaced, and a COG (copied from a finished
 * GeoTIFF) cannot go to a device or FIFO. */
static rp_status check_output_path(const rp_calc_output_spec *spec, bool direct, rp_error *err) {
    struct stat st;
    if (!direct && stat(spec->path, &st) == 0 && !S_ISREG(st.st_mode))
        return rp_error_set(err, RP_WRITE, "%s: exists and is not a regular file; not replacing it",
                            spec->path);
    if (direct && strcmp(spec->format, "COG") == 0)
        return rp_error_set(err, RP_USAGE,
                            "%s: a COG is copied from a finished GeoTIFF and cannot be written to "
                            "a device or FIFO; write it to a file",
                            spec->path);
    return RP_OK;
}

/* The GTiff creation options of the file the writer fills; for a COG also
 * the options of the final copy (w->cog_options). */
static char **creation_options(rp_calc_writer *w, const rp_calc_output_spec *spec) {
    char threads[16];
    snprintf(threads, sizeof threads, "%d", spec->threads > 0 ? spec->threads : 1);
    char **opts = NULL;
    if (w->cog) {
        /* The COG driver makes the final file from a tiled, uncompressed
         * GeoTIFF with the block size it will use. */
        const char *bs = CSLFetchNameValue(spec->creation_options, "BLOCKSIZE");
        opts = CSLSetNameValue(opts, "TILED", "YES");
        opts = CSLSetNameValue(opts, "BLOCKXSIZE", bs ? bs : "512");
        opts = CSLSetNameValue(opts, "BLOCKYSIZE", bs ? bs : "512");
        opts = CSLSetNameValue(opts, "BIGTIFF", "IF_SAFER");
        w->cog_options = with_default(CSLDuplicate(spec->creation_options), "NUM_THREADS", threads);
    } else {
        opts = CSLDuplicate(spec->creation_options);
        opts = with_default(opts, "TILED", "YES");
        opts = with_default(opts, "BIGTIFF", "IF_SAFER");
        if (CSLFetchNameValue(opts, "COMPRESS"))
            opts = with_default(opts, "NUM_THREADS", threads);
    }
    return opts;
}

/* Georeferencing, metadata and per-band nodata, descriptions and colour
 * tables of the new dataset; the block size comes back in spec. */
static void describe_output(GDALDatasetH ds, rp_calc_output_spec *spec) {
    if (spec->has_geotransform)
        GDALSetGeoTransform(ds, spec->geotransform);
    if (spec->projection_wkt && *spec->projection_wkt)
        GDALSetProjection(ds, spec->projection_wkt);
    if (spec->metadata)
        GDALSetMetadata(ds, spec->metadata, NULL);
    if (!spec->has_geotransform && spec->ngcps > 0)
        GDALSetGCPs(ds, spec->ngcps, spec->gcps, spec->gcp_wkt ? spec->gcp_wkt : "");
    if (spec->rpc)
        GDALSetMetadata(ds, spec->rpc, "RPC");
    for (int b = 0; b < spec->bands; b++) {
        GDALRasterBandH band = GDALGetRasterBand(ds, b + 1);
        if (spec->has_nodata)
            GDALSetRasterNoDataValue(band, spec->nodata);
        if (spec->band_descriptions && spec->band_descriptions[b])
            GDALSetDescription(band, spec->band_descriptions[b]);
        if (spec->colors && spec->colors[b])
            GDALSetRasterColorTable(band, spec->colors[b]);
    }
    GDALGetBlockSize(GDALGetRasterBand(ds, 1), &spec->block_w, &spec->block_h);
}

/* Ends a writer whose creation failed: err already says why. */
static rp_calc_writer *abandon(rp_calc_writer *w) {
    rp_calc_writer_finish(w, false, NULL);
    rp_calc_writer_free(w);
    return NULL;
}

rp_calc_writer *rp_calc_writer_new(rp_calc_output_spec *spec, rp_error *err) {
    bool direct = rp_output_is_direct(spec->path);
    if (check_output_path(spec, direct, err) != RP_OK)
        return NULL;
    rp_calc_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(spec->path))) {
        free(w);
        rp_error_set(err, RP_NOMEM, "out of memory");
        return NULL;
    }
    w->cog = strcmp(spec->format, "COG") == 0;
    w->type = spec->type;
    w->bands = spec->bands;
    atomic_init(&w->stopping, false);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->changed, NULL);
    w->direct = direct;
    if (direct)
        w->tmp_path = w->path; /* a device, FIFO or /dev/stdout: written in place */
    else if (stage_files(w, err) != RP_OK) {
        rp_calc_writer_free(w);
        return NULL;
    }
    char **opts = creation_options(w, spec);
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    rp_gdal_capture cap;
    rp_gdal_capture_push(&cap);
    w->ds =
        drv ? GDALCreate(drv, w->tmp_path, spec->width, spec->height, spec->bands, spec->type, opts)
            : NULL;
    CSLDestroy(opts);
    if (w->ds)
        describe_output(w->ds, spec);
    rp_gdal_capture_pop();
    if (!w->ds || cap.count) {
        rp_error_set(err, RP_WRITE, "%s: cannot create the output: %s", spec->path,
                     cap.count ? rp_gdal_capture_text(&cap) : "no GTiff driver");
        return abandon(w);
    }
    if (w->cog && !GDALGetDriverByName("COG")) {
        rp_error_set(err, RP_WRITE, "%s: this GDAL has no COG driver", spec->path);
        return abandon(w);
    }
    return w;
}

static void fail_locked(rp_calc_writer *w) {
    w->failed = true;
    atomic_store(&w->stopping, true);
    pthread_cond_broadcast(&w->changed);
}

static rp_status write_window(rp_calc_writer *w, const slot *s) {
    rp_gdal_capture cap;
    rp_gdal_capture_push(&cap);
    CPLErr e = GDALDatasetRasterIO(w->ds, GF_Write, s->x, s->y, s->w, s->h, s->buffer, s->w, s->h,
                                   w->type, w->bands, NULL, 0, 0, 0);
    for (int b = 0; e == CE_None && b < w->bands; b++)
        e = GDALFlushRasterCache(GDALGetRasterBand(w->ds, b + 1));
    rp_gdal_capture_pop();
    if (e != CE_None || cap.count)
        return rp_error_set(&w->error, RP_WRITE,
                            "%s: cannot write the window at column %d, row %d: %s", w->path, s->x,
                            s->y, cap.count ? rp_gdal_capture_text(&cap) : "write failed");
    return RP_OK;
}

static void *writer_main(void *p) {
    rp_calc_writer *w = p;
    rp_gdal_config_apply((const char *const *)w->config, w->nconfig, true);
    pthread_mutex_lock(&w->lock);
    while (!w->failed && w->written < w->nwindows) {
        slot *s = &w->slots[w->written % (size_t)w->capacity];
        if (!s->ready || s->index != w->written) {
            pthread_cond_wait(&w->changed, &w->lock);
            continue;
        }
        slot taken = *s;
        pthread_mutex_unlock(&w->lock);
        rp_status rc = write_window(w, &taken);
        pthread_mutex_lock(&w->lock);
        free(taken.buffer);
        s->ready = false;
        s->buffer = NULL;
        if (rc != RP_OK) {
            fail_locked(w);
            break;
        }
        w->written++;
        pthread_cond_broadcast(&w->changed);
    }
    bool complete = !w->failed && w->written == w->nwindows;
    pthread_mutex_unlock(&w->lock);
    if (complete) {
        /* Closing writes what is left (directory, pending compression): do
         * it here, in the thread that owns the dataset. GDAL 3.6's GDALClose
         * returns nothing, so failures are read from the captured errors. */
        rp_gdal_capture cap;
        rp_gdal_capture_push(&cap);
        GDALClose(w->ds);
        rp_gdal_capture_pop();
        w->ds = NULL;
        if (cap.count) {
            rp_error_set(&w->error, RP_WRITE, "%s: cannot finish writing: %s", w->path,
                         rp_gdal_capture_text(&cap));
            pthread_mutex_lock(&w->lock);
            fail_locked(w);
            pthread_mutex_unlock(&w->lock);
        }
    }
    rp_gdal_config_apply((const char *const *)w->config, w->nconfig, false);
    return NULL;
}

rp_status rp_calc_writer_start(rp_calc_writer *w, size_t nwindows, int capacity, char **config,
                               int nconfig, rp_error *err) {
    w->capacity = capacity > 0 ? capacity : 1;
    w->nwindows = nwindows;
    w->config = config;
    w->nconfig = nconfig;
    w->slots = calloc((size_t)w->capacity, sizeof *w->slots);
    if (!w->slots)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0)
        return rp_error_set(err, RP_INTERNAL, "cannot start the writer thread");
    w->started = true;
    return RP_OK;
}

bool rp_calc_writer_wait_turn(rp_calc_writer *w, size_t index) {
    pthread_mutex_lock(&w->lock);
    while (!w->failed && index >= w->written + (size_t)w->capacity)
        pthread_cond_wait(&w->changed, &w->lock);
    bool ok = !w->failed;
    pthread_mutex_unlock(&w->lock);
    return ok;
}

void rp_calc_writer_submit(rp_calc_writer *w, size_t index, int x, int y, int width, int height,
                           void *buffer) {
    pthread_mutex_lock(&w->lock);
    if (w->failed) {
        pthread_mutex_unlock(&w->lock);
        free(buffer);
        return;
    }
    slot *s = &w->slots[index % (size_t)w->capacity];
    *s = (slot){
        .ready = true, .index = index, .x = x, .y = y, .w = width, .h = height, .buffer = buffer};
    pthread_cond_broadcast(&w->changed);
    pthread_mutex_unlock(&w->lock);
}

void rp_calc_writer_abort(rp_calc_writer *w) {
    pthread_mutex_lock(&w->lock);
    fail_locked(w);
    pthread_mutex_unlock(&w->lock);
}

bool rp_calc_writer_stopping(rp_calc_writer *w) {
    return atomic_load(&w->stopping);
}

size_t rp_calc_writer_done(rp_calc_writer *w) {
    pthread_mutex_lock(&w->lock);
    size_t n = w->written;
    pthread_mutex_unlock(&w->lock);
    return n;
}

typedef struct cog_progress {
    rp_progress_fn fn;
    void *user;
    bool cancelled;
} cog_progress;

static int CPL_STDCALL on_cog_progress(double fraction, const char *msg, void *user) {
    (void)msg;
    cog_progress *p = user;
    if (p->fn && p->fn(fraction, "COG", p->user) != 0)
        p->cancelled = true;
    return !p->cancelled;
}

/* The complete scratch GTiff, copied by the COG driver to the output's
 * stage. */
static rp_status make_cog(rp_calc_writer *w, rp_progress_fn fn, void *user, rp_error *err) {
    rp_gdal_capture cap;
    rp_gdal_capture_push(&cap);
    GDALDatasetH src = GDALOpenEx(w->tmp_path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    GDALDatasetH dst = NULL;
    cog_progress prog = {fn, user, false};
    if (src) {
        dst = GDALCreateCopy(GDALGetDriverByName("COG"), rp_stage_path(w->output), src, FALSE,
                             w->cog_options, on_cog_progress, &prog);
        if (dst)
            GDALClose(dst);
        GDALClose(src);
    }
    rp_gdal_capture_pop();
    if (!dst || cap.count) {
        if (prog.cancelled)
            return rp_error_set(err, RP_INTERRUPTED, "interrupted");
        return rp_error_set(err, RP_WRITE, "%s: cannot write the COG: %s", w->path,
                            cap.count ? rp_gdal_capture_text(&cap) : "unknown GDAL error");
    }
    return RP_OK;
}

rp_status rp_calc_writer_finish_progress(rp_calc_writer *w, bool success, rp_progress_fn fn,
                                         void *user, rp_error *err) {
    if (!w)
        return RP_OK;
    if (!success && w->started)
        rp_calc_writer_abort(w);
    if (w->started) {
        pthread_join(w->thread, NULL);
        w->started = false;
    }
    rp_status rc = RP_OK;
    if (w->error.code != RP_OK) {
        rc = w->error.code;
        if (err && err->code == RP_OK)
            *err = w->error;
    } else if (success && (w->failed || w->written != w->nwindows)) {
        rc = rp_error_set(err, RP_INTERNAL, "%s: the writer stopped early", w->path);
    }
    success = success && rc == RP_OK;
    if (w->ds) { /* not closed by the writer: a failed or unstarted job */
        rp_gdal_capture cap;
        rp_gdal_capture_push(&cap);
        GDALClose(w->ds);
        rp_gdal_capture_pop();
        w->ds = NULL;
    }
    if (success && w->cog)
        rc = make_cog(w, fn, user, err);
    if (success && rc == RP_OK && !w->direct)
        rc = rp_stage_commit(w->output, err);
    /* what is not committed goes: the scratch GTiff, a failed output */
    rp_stage_abort(w->scratch);
    rp_stage_abort(w->output);
    return rc;
}

rp_status rp_calc_writer_finish(rp_calc_writer *w, bool success, rp_error *err) {
    return rp_calc_writer_finish_progress(w, success, NULL, NULL, err);
}

void rp_calc_writer_free(rp_calc_writer *w) {
    if (!w)
        return;
    if (w->started || w->ds)
        rp_calc_writer_finish(w, false, NULL);
    for (int i = 0; w->slots && i < w->capacity; i++)
        free(w->slots[i].buffer);
    free(w->slots);
    pthread_cond_destroy(&w->changed);
    pthread_mutex_destroy(&w->lock);
    CSLDestroy(w->cog_options);
    free(w->path);
    rp_stage_free(w->scratch);
    rp_stage_free(w->output);
    free(w);
}
