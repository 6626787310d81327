/*
 * calc_georef.c — the georeferencing a calc output keeps from its first
 * input besides a geotransform and CRS: ground control points (with their
 * CRS), RPCs (the "RPC" metadata domain) and the bands' colour tables; and
 * the check that inputs without a geotransform share it.
 *
 * calc combines pixel (col, row) of every input. With geotransforms that is
 * one place when the grids match (calc_setup.c checks them). Without one,
 * only equal GCPs or equal RPCs say that a pixel position is the same place
 * in every input: inputs whose GCPs or RPCs differ are refused (they would
 * combine different places). Inputs with no georeferencing at all can only
 * be combined by position; calc does so and says it.
 *
 * Threads: the caller's. Ownership: rp_calc_georef owns copies of all of it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_string.h>

#include "calc_internal.h"
#include "error.h"

void rp_calc_georef_free(rp_calc_georef *g) {
    if (g->gcps) {
        GDALDeinitGCPs(g->ngcps, g->gcps);
        CPLFree(g->gcps);
    }
    free(g->gcp_wkt);
    CSLDestroy(g->rpc);
    for (int b = 0; g->colors && b < g->ncolors; b++)
        if (g->colors[b])
            GDALDestroyColorTable(g->colors[b]);
    free(g->colors);
    memset(g, 0, sizeof *g);
}

rp_status rp_calc_georef_read(GDALDatasetH ds, rp_calc_georef *g, rp_error *err) {
    memset(g, 0, sizeof *g);
    int n = GDALGetGCPCount(ds);
    if (n > 0) {
        g->gcps = GDALDuplicateGCPs(n, GDALGetGCPs(ds));
        g->ngcps = n;
        const char *wkt = GDALGetGCPProjection(ds);
        g->gcp_wkt = strdup(wkt ? wkt : "");
    }
    g->rpc = CSLDuplicate(GDALGetMetadata(ds, "RPC"));
    g->ncolors = GDALGetRasterCount(ds);
    g->colors = calloc((size_t)g->ncolors + 1, sizeof *g->colors);
    for (int b = 0; g->colors && b < g->ncolors; b++) {
        GDALColorTableH ct = GDALGetRasterColorTable(GDALGetRasterBand(ds, b + 1));
        g->colors[b] = ct ? GDALCloneColorTable(ct) : NULL;
    }
    if ((n > 0 && (!g->gcps || !g->gcp_wkt)) || !g->colors) {
        rp_calc_georef_free(g);
        return rp_error_set(err, RP_NOMEM, "out of memory");
    }
    return RP_OK;
}

static bool same_gcps(const rp_calc_georef *a, GDALDatasetH ds) {
    if (GDALGetGCPCount(ds) != a->ngcps)
        return false;
    const GDAL_GCP *g = GDALGetGCPs(ds);
    for (int i = 0; i < a->ngcps; i++) {
        const GDAL_GCP *x = &a->gcps[i], *y = &g[i];
        if (fabs(x->dfGCPPixel - y->dfGCPPixel) > 1e-6 ||
            fabs(x->dfGCPLine - y->dfGCPLine) > 1e-6 || x->dfGCPX != y->dfGCPX ||
            x->dfGCPY != y->dfGCPY || x->dfGCPZ != y->dfGCPZ)
            return false;
    }
    const char *wkt = GDALGetGCPProjection(ds);
    return strcmp(a->gcp_wkt ? a->gcp_wkt : "", wkt ? wkt : "") == 0;
}

static bool same_rpc(char **a, char **b) {
    if (CSLCount(a) != CSLCount(b))
        return false;
    for (int i = 0; a && a[i]; i++) {
        char *key = NULL;
        const char *va = CPLParseNameValue(a[i], &key);
        const char *vb = key ? CSLFetchNameValue(b, key) : NULL;
        bool same = va && vb && strcmp(va, vb) == 0;
        CPLFree(key);
        if (!same)
            return false;
    }
    return true;
}

rp_status rp_calc_georef_check(const rp_calc_georef *first, const rp_calc_input *a,
                               const rp_calc_input *b, GDALDatasetH ds, rp_error *err) {
    if (!same_gcps(first, ds))
        return rp_error_set(err, RP_USAGE,
                            "inputs without a geotransform must share their ground control "
                            "points: %s=%s has %d GCPs, %s=%s %d%s (pixels at one position "
                            "would be different places; warp both onto one grid first)",
                            b->name, b->path, GDALGetGCPCount(ds), a->name, a->path, first->ngcps,
                            GDALGetGCPCount(ds) == first->ngcps ? ", at other places" : "");
    if (!same_rpc(first->rpc, GDALGetMetadata(ds, "RPC")))
        return rp_error_set(err, RP_USAGE,
                            "inputs without a geotransform must share their RPCs: those of "
                            "%s=%s and %s=%s differ (pixels at one position would be different "
                            "places; orthorectify both onto one grid first)",
                            b->name, b->path, a->name, a->path);
    return RP_OK;
}

bool rp_calc_georef_none(const rp_calc_georef *g) {
    return g->ngcps == 0 && CSLCount(g->rpc) == 0;
}
