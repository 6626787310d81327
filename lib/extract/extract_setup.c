/*
 * extract_setup.c — the first stage of an extract job: open every raster's
 * metadata (and a VRT's XML) and check every band before any point is
 * read, so a typo fails in a second, not after an hour; build the value
 * columns and name them.
 *
 * Memory: per value column, once allocated, the band's type size plus one
 * status byte a point. The VRT state (vrt_xml.h) lives beside each
 * raster's metadata in rp_extract_raster and is freed with the setup.
 *
 * Threads: the caller's thread; the handles opened here are closed here.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "error.h"
#include "extract_internal.h"
#include "georef.h"
#include "memhint.h"
#include "remote.h"
#include "vrt_xml.h"

/* "dir/name.tif" -> "name" */
static char *path_stem(const char *path, size_t len) {
    const char *end = path + len, *base = path;
    for (const char *p = path; p < end; p++)
        if (*p == '/')
            base = p + 1;
    const char *dot = NULL;
    for (const char *p = base; p < end; p++)
        if (*p == '.')
            dot = p;
    size_t n = dot && dot != base ? (size_t)(dot - base) : (size_t)(end - base);
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, base, n);
        s[n] = '\0';
    }
    return s;
}

/* A GDAL subdataset name, DRIVER:"file":variable or DRIVER:file:variable
 * (NETCDF:"f.nc":pr, HDF5:"f.h5"://grp/var): true with the file's extent
 * and the variable's start. Not for /vsi paths and URLs. */
static bool subdataset_parts(const char *path, const char **file, size_t *len, const char **var) {
    size_t d = strspn(path, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
    if (d < 2 || path[d] != ':' || strncmp(path + d, "://", 3) == 0)
        return false;
    const char *f = path + d + 1, *close;
    if (*f == '"') {
        f++;
        close = strchr(f, '"');
        if (!close || close[1] != ':')
            return false;
        *var = close + 2;
    } else {
        close = strchr(f, ':');
        if (!close)
            return false;
        *var = close + 1;
    }
    *file = f;
    *len = (size_t)(close - f);
    return **var != '\0';
}

/* The stem of a raster path for column names: the file's name without its
 * extension; for a subdataset, that and its variable (f_pr for
 * NETCDF:"f.nc":pr; the last part of an HDF5 path), so two variables of
 * one file get their own names. */
static char *file_stem(const char *path) {
    const char *file, *var;
    size_t len;
    if (!subdataset_parts(path, &file, &len, &var))
        return path_stem(path, strlen(path));
    char *stem = path_stem(file, len);
    const char *slash = strrchr(var, '/');
    var = slash && slash[1] ? slash + 1 : var;
    size_t n = stem ? strlen(stem) : 0, m = strlen(var);
    char *out = stem ? malloc(n + m + 2) : NULL;
    if (out) {
        snprintf(out, n + m + 2, "%s_%s", stem, var);
        for (char *c = out + n + 1; *c; c++)
            if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-')
                *c = '_';
    }
    free(stem);
    return out;
}

/* Value column names: b<N> for one raster; <stem>_b<N> for several, with
 * <stem>_<position> where two rasters share a stem. */
static rp_status name_columns(rp_extract_setup *s, char *const *rasters, bool desc, rp_error *err) {
    for (int c = 0; c < s->ncolumns; c++) {
        rp_value_column *col = &s->columns[c];
        int r = col->raster;
        char name[1400], prefix[1024] = "", band[300];
        if (desc && col->band.description[0])
            snprintf(band, sizeof band, "%s", col->band.description);
        else
            snprintf(band, sizeof band, "b%d", col->band.band);
        free(col->name);
        free(col->status_name);
        if (s->nrasters > 1) {
            char *stem = file_stem(rasters[r]);
            if (!stem)
                return rp_error_set(err, RP_NOMEM, "out of memory");
            bool shared = false;
            for (int o = 0; o < s->nrasters; o++) {
                char *other = o == r ? NULL : file_stem(rasters[o]);
                if (other && strcmp(other, stem) == 0)
                    shared = true;
                free(other);
            }
            if (shared)
                snprintf(prefix, sizeof prefix, "%s_%d_", stem, r + 1);
            else
                snprintf(prefix, sizeof prefix, "%s_", stem);
            free(stem);
        }
        snprintf(name, sizeof name, "%s%s", prefix, band);
        col->name = strdup(name);
        if (s->ncolumns == 1)
            snprintf(name, sizeof name, "status");
        else
            snprintf(name, sizeof name, "%s%s_status", prefix, band);
        col->status_name = strdup(name);
        if (!col->name || !col->status_name)
            return rp_error_set(err, RP_NOMEM, "out of memory");
    }
    return RP_OK;
}

/* Adds raster r's band columns (the bands asked for, or all), reading each
 * band's metadata from the caller's handle ds. */
static rp_status add_band_columns(rp_extract_setup *s, int r, GDALDatasetH ds, const char *path,
                                  const int *bands, int nbands, rp_error *err) {
    int count = nbands ? nbands : s->rasters[r].info.band_count;
    rp_value_column *grown = realloc(s->columns, (size_t)(s->ncolumns + count) * sizeof *grown);
    if (!grown)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    s->columns = grown;
    for (int k = 0; k < count; k++) {
        rp_value_column *col = &s->columns[s->ncolumns];
        memset(col, 0, sizeof *col);
        col->raster = r;
        rp_status rc = rp_band_info_read(ds, path, nbands ? bands[k] : k + 1, &col->band, err);
        if (rc != RP_OK)
            return rc;
        s->ncolumns++;
    }
    return RP_OK;
}

/* Reads a VRT raster's XML into r->vrt (or the reason it cannot be
 * planned into r->vrt_why). Nothing for other drivers. */
static void load_vrt(rp_extract_raster *r) {
    if (!r->info.driver || strcmp(r->info.driver, "VRT") != 0)
        return;
    r->vrt = rp_vrt_read(r->info.path, r->vrt_why, sizeof r->vrt_why);
    if (!r->vrt && !r->vrt_why[0])
        snprintf(r->vrt_why, sizeof r->vrt_why, "its XML cannot be read");
}

/* The CPU time this thread has used. */
static double thread_cpu_seconds(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

rp_status rp_extract_setup_init(rp_extract_setup *s, char *const *rasters, int nrasters,
                                const int *bands, int nbands, rp_error *err) {
    memset(s, 0, sizeof *s);
    s->rasters = calloc((size_t)nrasters, sizeof *s->rasters);
    if (!s->rasters)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    s->nrasters = nrasters;
    for (int r = 0; r < nrasters; r++) {
        GDALDatasetH ds = NULL;
        double t0 = rp_monotonic_seconds(), cpu0 = thread_cpu_seconds();
        /* the CRS only when points need it (rp_extract_check_transforms) */
        rp_status rc = rp_raster_info_read_no_srs(rasters[r], &s->rasters[r].info, &ds, err);
        /* the time the open waited: the CPU it spent parsing is no round trip */
        s->rasters[r].open_seconds = (rp_monotonic_seconds() - t0) - (thread_cpu_seconds() - cpu0);
        if (rc == RP_OK)
            load_vrt(&s->rasters[r]);
        if (rc == RP_OK) {
            rc = add_band_columns(s, r, ds, rasters[r], bands, nbands, err);
            GDALClose(ds);
        }
        if (rc != RP_OK)
            return rc;
    }
    return name_columns(s, rasters, false, err);
}

void rp_extract_setup_free(rp_extract_setup *s) {
    if (!s)
        return;
    for (int c = 0; c < s->ncolumns; c++) {
        free(s->columns[c].name);
        free(s->columns[c].status_name);
        free(s->columns[c].values);
        free(s->columns[c].status);
    }
    free(s->columns);
    for (int b = 0; b < s->nbands; b++) {
        free(s->bands[b].name);
        free(s->bands[b].status_name);
        free(s->bands[b].values);
        free(s->bands[b].status);
    }
    free(s->bands);
    for (int r = 0; r < s->nrasters; r++) {
        rp_vrt_free(s->rasters[r].vrt);
        rp_raster_info_free(&s->rasters[r].info);
    }
    free(s->rasters);
    memset(s, 0, sizeof *s);
}

rp_status rp_extract_setup_alloc(rp_extract_setup *s, size_t n, rp_error *err) {
    for (int c = 0; c < s->ncolumns; c++) {
        rp_value_column *col = &s->columns[c];
        col->values = calloc(n ? n : 1, (size_t)col->band.type_size);
        col->status = malloc(n ? n : 1);
        if (!col->values || !col->status)
            return rp_error_set(err, RP_NOMEM, "out of memory for %zu values", n);
        rp_hint_huge(col->values, n * (size_t)col->band.type_size);
        rp_hint_huge(col->status, n);
        memset(col->status, RP_POINT_OUTSIDE, n);
    }
    return RP_OK;
}

bool rp_extract_setup_remote(const rp_extract_setup *s) {
    for (int r = 0; r < s->nrasters; r++)
        if (rp_path_is_remote(s->rasters[r].info.path) ||
            (s->rasters[r].vrt && s->rasters[r].vrt->remote))
            return true;
    return false;
}

rp_status rp_extract_setup_options(rp_extract_setup *s, const rp_extract_options *opts,
                                   rp_error *err) {
    if (opts->names_desc) {
        rp_status rc = name_columns(s, opts->rasters, true, err);
        if (rc != RP_OK)
            return rc;
    }
    for (int r = 0; r < s->nrasters; r++) {
        rp_status rc = rp_georef_apply(&s->rasters[r].info, (rp_georef_method)opts->transformer,
                                       opts->transform_options, err);
        if (rc != RP_OK)
            return rc;
    }
    return RP_OK;
}
