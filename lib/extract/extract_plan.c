/*
 * extract_plan.c — planning an extract job, and the --plan report.
 *
 * Planning is arithmetic on metadata: the points, moved to a raster's CRS
 * when theirs differs, are grouped by block (core/plan.c); for a VRT the
 * report also says per column whether it is read from the source files
 * and how many sources, files and source blocks that touches
 * (vrt_survey.c). The report is text on a caller-given stream: the
 * library never writes to the process's stdout itself (the CLI passes
 * stdout). No pixel is read.
 *
 * Threads: the caller's thread. The report opens each raster once more
 * (as the workers would) to estimate the bytes of the touched blocks.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crs.h"
#include "error.h"
#include "extract_internal.h"
#include "georef.h"
#include "remote.h"
#include "vrt_survey.h"
#include "vrt_xml.h"

void rp_point_scratch_free(rp_point_scratch *scratch) {
    free(scratch->x);
    free(scratch->y);
    memset(scratch, 0, sizeof *scratch);
}

/* Points of a raster without a geotransform to pixel/line through GDAL's
 * transformer (georef.c), in the scratch arrays, which then hold no CRS's
 * coordinates (the next raster transforms afresh). */
static rp_status to_pixel(const rp_raster_info *raster, const double *x, const double *y, size_t n,
                          rp_point_scratch *scratch, rp_error *err) {
    if (!scratch->x) {
        scratch->x = malloc((n ? n : 1) * sizeof *scratch->x);
        scratch->y = malloc((n ? n : 1) * sizeof *scratch->y);
        if (!scratch->x || !scratch->y)
            return rp_error_set(err, RP_NOMEM, "out of memory transforming points");
    }
    if (x != scratch->x) {
        memcpy(scratch->x, x, n * sizeof *x);
        memcpy(scratch->y, y, n * sizeof *y);
    }
    scratch->srs = NULL;
    return rp_georef_to_pixel(raster, scratch->x, scratch->y, n, err);
}

rp_status rp_extract_raster_coords(const rp_raster_info *raster, OGRSpatialReferenceH points_srs,
                                   const double *x, const double *y, size_t n,
                                   rp_point_scratch *scratch, const double **rx, const double **ry,
                                   rp_error *err) {
    *rx = x;
    *ry = y;
    if (points_srs && raster->srs_deferred) /* never taken as "no CRS" */
        return rp_error_set(err, RP_INTERNAL,
                            "%s: its CRS was not read before the points were planned",
                            raster->path);
    if (points_srs && raster->srs && !rp_crs_same(points_srs, raster->srs)) {
        if (!scratch->srs || !rp_crs_same(scratch->srs, raster->srs)) {
            if (!scratch->x) {
                scratch->x = malloc((n ? n : 1) * sizeof *scratch->x);
                scratch->y = malloc((n ? n : 1) * sizeof *scratch->y);
                if (!scratch->x || !scratch->y)
                    return rp_error_set(err, RP_NOMEM, "out of memory transforming points");
            }
            scratch->srs = NULL;
            rp_status rc =
                rp_crs_transform(points_srs, raster->srs, x, y, scratch->x, scratch->y, n, err);
            if (rc != RP_OK)
                return rc;
            scratch->srs = raster->srs;
        }
        *rx = scratch->x;
        *ry = scratch->y;
    }
    if (!raster->has_geotransform && raster->georef > RP_GEOREF_PIXEL) {
        rp_status rc = to_pixel(raster, *rx, *ry, n, scratch, err);
        if (rc != RP_OK)
            return rc;
        *rx = scratch->x;
        *ry = scratch->y;
    }
    return RP_OK;
}

rp_status rp_extract_plan_raster(const rp_raster_info *raster, OGRSpatialReferenceH points_srs,
                                 const double *x, const double *y, size_t n,
                                 rp_point_scratch *scratch, rp_plan *plan, rp_error *err) {
    rp_status rc = rp_extract_raster_coords(raster, points_srs, x, y, n, scratch, &x, &y, err);
    if (rc != RP_OK)
        return rc;
    if (rp_plan_build_pool(plan, &raster->grid, x, y, n, scratch->pool) != 0)
        return rp_error_set(err, RP_NOMEM, "%s: cannot plan %zu points (out of memory)",
                            raster->path, n);
    return RP_OK;
}

rp_status rp_extract_check_transforms(rp_extract_setup *s, OGRSpatialReferenceH points_srs,
                                      FILE *log, rp_error *err) {
    if (!points_srs)
        return RP_OK;
    int failed = 0;
    rp_error first;
    rp_error_clear(&first);
    for (int r = 0; r < s->nrasters; r++) {
        rp_extract_raster *raster = &s->rasters[r];
        const rp_raster_info *ri = &raster->info;
        rp_status rc = rp_raster_info_read_srs(&raster->info, err); /* deferred by the setup */
        if (rc != RP_OK)
            return rc;
        if (!ri->srs) {
            if (log)
                fprintf(log,
                        "rasterpool: warning: %s has no CRS; the points are used as they "
                        "are\n",
                        ri->path);
            continue;
        }
        if (rp_crs_same(points_srs, ri->srs))
            continue;
        rp_error local;
        rp_error_clear(&local);
        double x = 0, y = 0;
        if (rp_crs_transform(points_srs, ri->srs, &x, &y, &x, &y, 1, &local) == RP_OK)
            continue;
        if (local.code == RP_NOMEM || local.code == RP_INTERRUPTED)
            return rp_error_set(err, local.code, "%s", local.message);
        snprintf(raster->crs_error, sizeof raster->crs_error, "%s", local.message);
        if (!failed++)
            first = local;
    }
    if (failed && failed == s->nrasters) /* nothing can be read at all */
        return rp_error_set(err, first.code, "%s: %s", s->rasters[0].info.path, first.message);
    for (int r = 0; r < s->nrasters && log; r++)
        if (s->rasters[r].crs_error[0])
            fprintf(log, "rasterpool: %s: %s; its columns are left empty (status error)\n",
                    s->rasters[r].info.path, s->rasters[r].crs_error);
    return RP_OK;
}

/* The stored bytes of the blocks a plan touches, over the bands to read
 * (pixel-interleaved files store all bands in one block: band 1 counts for
 * all); -1 when the format does not tell. */
static int64_t planned_bytes(const rp_extract_setup *s, int r, const rp_plan *plan) {
    GDALDatasetH ds = rp_remote_open(s->rasters[r].info.path, GDAL_OF_RASTER | GDAL_OF_READONLY);
    if (!ds)
        return -1;
    const char *il = GDALGetMetadataItem(ds, "INTERLEAVE", "IMAGE_STRUCTURE");
    bool pixel_interleaved = il && strcmp(il, "PIXEL") == 0 && GDALGetRasterCount(ds) > 1;
    int64_t bytes = 0;
    /* the bands read: with sampling, the band columns behind the outputs */
    const rp_value_column *read = s->sample ? s->bands : s->columns;
    int nread = s->sample ? s->nbands : s->ncolumns;
    for (int c = 0; c < nread && bytes >= 0; c++) {
        if (read[c].raster != r)
            continue;
        int band = pixel_interleaved ? 1 : read[c].band.band;
        for (size_t b = 0; b < plan->nblocks && bytes >= 0; b++) {
            int64_t one =
                rp_raster_block_bytes(ds, band, plan->blocks[b].block_x, plan->blocks[b].block_y);
            bytes = one < 0 ? -1 : bytes + one;
        }
        if (pixel_interleaved)
            break;
    }
    GDALClose(ds);
    return bytes;
}

/* The first pass's source blocks of a surveyed VRT column. */
static void write_source_blocks(FILE *out, const rp_extract_raster *raster, const rp_plan *plan,
                                const rp_vrt_band *vb, const rp_vrt_survey *sv) {
    size_t n = 0;
    uint32_t *pts = malloc((plan->npoints ? plan->npoints : 1) * sizeof *pts);
    uint32_t *srcs = malloc((plan->npoints ? plan->npoints : 1) * sizeof *srcs);
    for (size_t i = 0; pts && srcs && i < plan->npoints; i++) {
        if (sv->top[i] == RP_NO_SOURCE || vb->sources[sv->top[i]].props_failed)
            continue;
        pts[n] = (uint32_t)i;
        srcs[n++] = sv->top[i];
    }
    rp_source_tasks tasks;
    if (pts && srcs &&
        rp_source_tasks_build(&tasks, vb, raster->info.grid.width, plan->cell, pts, srcs, n) == 0) {
        fprintf(out, "  band %d: source blocks to read: %zu (first pass)\n", vb->band,
                tasks.ntasks);
        rp_source_tasks_free(&tasks);
    }
    free(pts);
    free(srcs);
}

/* A reason without its leading "band N: " when the line already names
 * band N. */
static const char *without_band_prefix(const char *why, int band) {
    char prefix[32];
    int n = snprintf(prefix, sizeof prefix, "band %d: ", band);
    return strncmp(why, prefix, (size_t)n) == 0 ? why + n : why;
}

/* How each of a VRT raster's columns would be read (sources read directly,
 * files touched; or why it goes through GDAL's VRT reader). Opens source
 * files whose XML lacks their size. Nothing for other rasters. */
static void write_vrt_plan(FILE *out, const rp_extract_raster *raster, const rp_plan *plan,
                           rp_value_column *const *columns, int ncolumns) {
    if (!raster->vrt && !raster->vrt_why[0])
        return;
    for (int c = 0; c < ncolumns; c++) {
        rp_vrt_survey sv;
        char why[256];
        int band = columns[c]->band.band;
        if (!rp_vrt_survey_band(raster, columns[c], plan, &sv, why, sizeof why)) {
            fprintf(out, "  band %d: read through GDAL's VRT reader: %s\n", band,
                    without_band_prefix(why, band));
            continue;
        }
        const rp_vrt_band *vb = &raster->vrt->bands[band - 1];
        fprintf(out,
                "  band %d: read from its sources directly: %zu of %zu sources on top of "
                "some point, %zu files touched",
                band, sv.sources_top, vb->nsources, sv.files_any);
        if (sv.sources_any > sv.sources_top)
            fprintf(out, " (%zu sources may show through per-source nodata)",
                    sv.sources_any - sv.sources_top);
        fprintf(out, "\n");
        if (sv.sources_failed)
            fprintf(out, "  band %d: %zu source(s) cannot be opened: their points will fail\n",
                    band, sv.sources_failed);
        write_source_blocks(out, raster, plan, vb, &sv);
        rp_vrt_survey_free(&sv);
    }
}

/* One raster's part of the report. */
/* vrt_plan: what a VRT's sources are surveyed for: the points' plan, or
 * with sampling the plan of their kernels' cells. */
/* A remote raster's estimated requests: one merged range request a run of
 * adjacent touched blocks (read_blocks.c), a band; and the round trips
 * they take with the I/O workers the read will have (--io-threads, or one
 * a run within the bounds of extract_internal.h; never fewer than the
 * pool's RP_EXTRACT_IO_THREADS). */
static void write_requests(FILE *out, const rp_extract_raster *raster, const rp_plan *plan,
                           rp_value_column *const *cols, int ncols, int io_threads) {
    const rp_raster_info *ri = &raster->info;
    const rp_grid *g = &ri->grid;
    size_t widest = 1;
    for (int c = 0; c < ncols; c++)
        if ((size_t)cols[c]->band.type_size > widest)
            widest = (size_t)cols[c]->band.type_size;
    size_t block_bytes = (size_t)(g->block_w * g->block_h) * widest;
    size_t max_len = rp_extract_block_run_length(block_bytes);
    size_t *first = malloc((plan->nblocks ? plan->nblocks : 1) * sizeof *first);
    size_t *count = malloc((plan->nblocks ? plan->nblocks : 1) * sizeof *count);
    if (first && count) {
        size_t nruns = rp_extract_block_runs(plan, max_len, first, count);
        int workers = io_threads;
        const char *why = ", --io-threads";
        if (workers <= 0) {
            double rtt = raster->open_seconds / 2;
            workers =
                rp_extract_io_workers(count, nruns, block_bytes * (size_t)(ncols ? ncols : 1), rtt);
            why = ", one a run within the memory bound";
            if (rtt < RP_EXTRACT_GROW_RTT && nruns > RP_EXTRACT_IO_THREADS)
                why = "; round trips of about 0.05 s or less: the pool is not grown";
            if (workers < RP_EXTRACT_IO_THREADS)
                workers = RP_EXTRACT_IO_THREADS;
        }
        size_t at_once = nruns < (size_t)workers ? nruns : (size_t)workers;
        size_t rounds = at_once ? (nruns + at_once - 1) / at_once : 0;
        fprintf(out,
                "  estimated requests: %zu a band (one merged range request a run of adjacent "
                "touched blocks, up to %zu blocks a run; pixel-interleaved bands share them), "
                "plus the header (a HEAD and a GET)\n",
                nruns, max_len);
        fprintf(out,
                "  estimated round trips: %zu a band (the header's 2, then %zu round%s of up to "
                "%zu requests at once: %d I/O workers%s)\n",
                2 + rounds, rounds, rounds == 1 ? "" : "s", at_once, workers, why);
    }
    free(first);
    free(count);
}

static void write_raster_plan(FILE *out, const rp_extract_setup *s, int r, const rp_plan *plan,
                              const rp_plan *vrt_plan, size_t nbad, int io_threads) {
    const rp_raster_info *ri = &s->rasters[r].info;
    const rp_grid *g = &ri->grid;
    int ncols = 0, nlisted = 0;
    rp_value_column *cols[256]; /* the VRT plan lines cover the first 256 */
    rp_value_column *read = s->sample ? s->bands : s->columns;
    int nread = s->sample ? s->nbands : s->ncolumns;
    for (int c = 0; c < nread; c++) {
        if (read[c].raster != r)
            continue;
        ncols++;
        if (nlisted < 256)
            cols[nlisted++] = &read[c];
    }
    fprintf(out,
            "raster %s (%s): %" PRId64 " x %" PRId64 ", blocks %" PRId64 " x %" PRId64
            ", %d band(s) to read\n",
            ri->path, ri->driver, g->width, g->height, g->block_w, g->block_h, ncols);
    fprintf(out, "  points inside: %zu\n", plan->inside);
    fprintf(out, "  points outside: %zu\n", plan->npoints - plan->inside - nbad);
    fprintf(out, "  blocks touched: %zu of %" PRId64 "\n", plan->nblocks,
            g->blocks_x * g->blocks_y);
    int64_t bytes = planned_bytes(s, r, plan);
    if (bytes >= 0)
        fprintf(out, "  estimated bytes to read: %" PRId64 " (the touched blocks as stored)\n",
                bytes);
    else
        fprintf(out, "  estimated bytes to read: unknown (the format does not say)\n");
    if (rp_path_is_remote(ri->path) && !s->sample && !s->rasters[r].vrt)
        write_requests(out, &s->rasters[r], plan, cols, nlisted, io_threads);
    write_vrt_plan(out, &s->rasters[r], vrt_plan, cols, nlisted);
}

rp_status rp_extract_write_plan(FILE *out, const rp_extract_setup *s, const double *x,
                                const double *y, size_t n, size_t nbad,
                                OGRSpatialReferenceH points_srs, int io_threads, rp_error *err) {
    rp_point_scratch scratch = {NULL, NULL, NULL};
    rp_status rc = RP_OK;
    fprintf(out, "points: %zu\n", n);
    fprintf(out, "bad rows: %zu (no coordinates; not read)\n", nbad);
    for (int r = 0; r < s->nrasters && rc == RP_OK; r++) {
        rp_plan plan;
        if (s->rasters[r].crs_error[0]) {
            fprintf(out, "raster %s: not read: %s\n", s->rasters[r].info.path,
                    s->rasters[r].crs_error);
            continue;
        }
        rc = rp_extract_plan_raster(&s->rasters[r].info, points_srs, x, y, n, &scratch, &plan, err);
        if (rc != RP_OK)
            break;
        const double *rx = x, *ry = y;
        if (s->sample)
            rc = rp_extract_raster_coords(&s->rasters[r].info, points_srs, x, y, n, &scratch, &rx,
                                          &ry, err);
        rp_plan cells; /* a sampled VRT's sources are surveyed for the kernels' cells */
        bool by_cells = rc == RP_OK && s->sample && s->rasters[r].vrt &&
                        rp_sample_cell_plan(s, r, &plan, rx, ry, &cells) == 0;
        if (rc == RP_OK)
            write_raster_plan(out, s, r, &plan, by_cells ? &cells : &plan, nbad, io_threads);
        if (s->sample && rc == RP_OK)
            rp_sample_write_plan(out, s, r, &plan, rx, ry);
        if (by_cells)
            rp_plan_free(&cells);
        rp_plan_free(&plan);
    }
    rp_point_scratch_free(&scratch);
    if ((fflush(out) != 0 || ferror(out)) && rc == RP_OK)
        rc = rp_error_set(err, RP_WRITE, "cannot write the plan");
    return rc;
}
