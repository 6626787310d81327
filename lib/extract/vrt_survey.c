/*
 * vrt_survey.c — deciding whether one VRT column is read from its source
 * files, and its first pass: which source GDAL paints on top at each
 * point, how many sources and files that touches.
 *
 * A column qualifies when the VRT's XML could be read, its band's sources
 * are all 1:1 copies (vrt_xml.c), it has no mask, its XML type is GDAL's,
 * and the sources it touches have that type too. Sources whose XML lacks
 * their size are opened here to learn it (rp_vrt_source_props).
 *
 * Threads: the caller's thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "vrt_survey.h"
#include "vrt_xml.h"

/* The bucket index may hold this many (bucket, source) entries. */
#define MAX_INDEX_ITEMS ((uint64_t)64 << 20)

void rp_vrt_survey_free(rp_vrt_survey *sv) {
    rp_source_index_free(&sv->index);
    free(sv->top);
    memset(sv, 0, sizeof *sv);
}

static int compare_paths(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

uint32_t rp_vrt_lookup_resolving(rp_vrt_survey *sv, rp_vrt_band *vb, int64_t col, int64_t row,
                                 uint32_t limit) {
    for (;;) {
        uint32_t s = rp_source_lookup(&sv->index, vb, col, row, limit);
        if (s == RP_NO_SOURCE)
            return s;
        rp_vrt_source *src = &vb->sources[s];
        if (src->props_known || src->props_failed)
            return s;
        char why[16];
        if (!rp_vrt_source_props(src, why, sizeof why))
            return s; /* its points fail with the open error when read */
        /* known now: look again, the file may be smaller than its window */
    }
}

/* The column's VRT band when the column may be read from its sources
 * (before looking at the sources themselves); NULL with why. */
static rp_vrt_band *eligible_band(const rp_extract_raster *raster, const rp_value_column *col,
                                  char *why, size_t wsize) {
    const rp_vrt *vrt = raster->vrt;
    int band = col->band.band;
    if (!vrt) {
        snprintf(why, wsize, "%s", raster->vrt_why[0] ? raster->vrt_why : "not a VRT");
        return NULL;
    }
    if (band > vrt->nbands) {
        snprintf(why, wsize, "band %d is not in the VRT's XML", band);
        return NULL;
    }
    rp_vrt_band *vb = &vrt->bands[band - 1];
    if (!vb->direct)
        snprintf(why, wsize, "%s", vb->reason);
    else if (col->band.read_mask)
        snprintf(why, wsize, "band %d has a mask", band);
    else if (vb->type != col->band.type)
        snprintf(why, wsize, "band %d: its XML type differs from GDAL's", band);
    else if (vb->nsources >= RP_NO_SOURCE)
        snprintf(why, wsize, "band %d has too many sources", band);
    else
        return vb;
    return NULL;
}

/* Per point, the top source; per source, seen[s] |= 1 when on top of some
 * point, 2 when under a transparent pixel of one. */
static void find_top_sources(rp_vrt_survey *sv, rp_vrt_band *vb, const rp_grid *g,
                             const rp_plan *plan, unsigned char *seen) {
    for (size_t i = 0; i < plan->npoints; i++) {
        sv->top[i] = RP_NO_SOURCE;
        if (plan->cell[i] == RP_CELL_OUTSIDE)
            continue;
        int64_t c = (int64_t)(plan->cell[i] % (uint64_t)g->width);
        int64_t r = (int64_t)(plan->cell[i] / (uint64_t)g->width);
        uint32_t limit = (uint32_t)vb->nsources;
        bool first = true;
        uint32_t s;
        while ((s = rp_vrt_lookup_resolving(sv, vb, c, r, limit)) != RP_NO_SOURCE) {
            if (first)
                sv->top[i] = s;
            seen[s] |= first ? 1 : 2;
            first = false;
            if (!vb->sources[s].has_nodata || vb->sources[s].props_failed)
                break; /* opaque: nothing below shows */
            limit = s;
        }
    }
}

/* Counts the sources and files seen; false with why when one of them has
 * another type than the band (GDAL would convert its values). */
static bool count_sources(rp_vrt_survey *sv, const rp_vrt_band *vb, const unsigned char *seen,
                          char *why, size_t wsize) {
    const char **paths = malloc((vb->nsources ? vb->nsources : 1) * sizeof *paths);
    if (!paths) {
        snprintf(why, wsize, "out of memory");
        return false;
    }
    bool ok = true;
    for (size_t s = 0; ok && s < vb->nsources; s++) {
        if (!seen[s])
            continue;
        const rp_vrt_source *src = &vb->sources[s];
        if (src->props_known && src->type != vb->type) {
            snprintf(why, wsize, "band %d: source %s is %s, the band %s (values are converted)",
                     vb->band, src->path, GDALGetDataTypeName(src->type),
                     GDALGetDataTypeName(vb->type));
            ok = false;
            break;
        }
        sv->sources_top += (seen[s] & 1) != 0;
        sv->sources_failed += src->props_failed;
        paths[sv->sources_any++] = src->path;
    }
    if (ok) {
        qsort(paths, sv->sources_any, sizeof *paths, compare_paths);
        for (size_t k = 0; k < sv->sources_any; k++)
            sv->files_any += k == 0 || strcmp(paths[k - 1], paths[k]) != 0;
    }
    free(paths);
    return ok;
}

bool rp_vrt_survey_band(const rp_extract_raster *raster, const rp_value_column *col,
                        const rp_plan *plan, rp_vrt_survey *sv, char *why, size_t wsize) {
    memset(sv, 0, sizeof *sv);
    rp_vrt_band *vb = eligible_band(raster, col, why, wsize);
    if (!vb)
        return false;
    const rp_grid *g = &raster->info.grid;
    if (rp_source_index_build(&sv->index, vb, g->width, g->height, MAX_INDEX_ITEMS) != 0) {
        snprintf(why, wsize, "band %d: its sources overlap too much to index", col->band.band);
        return false;
    }
    sv->top = malloc((plan->npoints ? plan->npoints : 1) * sizeof *sv->top);
    unsigned char *seen = calloc(vb->nsources ? vb->nsources : 1, 1);
    bool ok = sv->top && seen;
    if (!ok)
        snprintf(why, wsize, "out of memory");
    if (ok) {
        find_top_sources(sv, vb, g, plan, seen);
        ok = count_sources(sv, vb, seen, why, wsize);
    }
    free(seen);
    if (!ok)
        rp_vrt_survey_free(sv);
    return ok;
}
