/*
 * zonal_write.c — the last stage of a zonal job: each polygon's (polygon,
 * block) accumulators are merged in block order (so the bytes are the same
 * at any thread count), turned into values and written as one CSV row per
 * polygon, in input order: the attributes, the statistics, the status.
 * A file output (CSV, or any OGR vector format by extension:
 * zonal_write_ogr.c) is staged by io/table_write.c and renamed into place
 * only when complete.
 *
 * Threads: the caller's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <ogr_api.h>

#include "error.h"
#include "numtext.h"
#include "table_write.h"
#include "zonal_internal.h"

static const char *const status_names[] = {"ok",      "no_cells", "outside",   "no_geometry",
                                           "invalid", "repaired", "read_error"};

const char *zonal_status_name(zonal_status s) {
    return status_names[s];
}

static void put_field(FILE *out, const char *s) {
    if (!s)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

/* The file name of a path without folder and extension. */
static void stem_of(const char *path, char *buf, size_t cap) {
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path, *dot = strrchr(base, '.');
    int len = dot && dot > base ? (int)(dot - base) : (int)strlen(base);
    snprintf(buf, cap, "%.*s", len, base);
}

/* Raster k's stem, with its position appended when another raster has
 * the same stem. */
static void raster_stem(const rp_zonal_options *o, int k, char *buf, size_t cap) {
    char other[256];
    stem_of(o->rasters[k], buf, cap);
    for (int j = 0; j < o->nrasters; j++) {
        stem_of(o->rasters[j], other, sizeof other);
        if (j != k && strcmp(other, buf) == 0) {
            size_t n = strlen(buf);
            snprintf(buf + n, cap - n, "_%d", k + 1);
            return;
        }
    }
}

void zonal_column_name(const zonal_table *t, int k, char *buf, size_t cap) {
    int ns = t->o->nstats, b = k / ns;
    const char *stat = t->o->stats[k % ns].name;
    if (t->o->nrasters > 1) {
        char stem[256];
        raster_stem(t->o, t->r->band_src[b], stem, sizeof stem);
        if (t->r->nbands == t->o->nrasters)
            snprintf(buf, cap, "%s_%s", stem, stat);
        else
            snprintf(buf, cap, "%s_b%d_%s", stem, t->r->bands[b].band, stat);
    } else if (t->r->nbands > 1) {
        snprintf(buf, cap, "b%d_%s", t->r->bands[b].band, stat);
    } else {
        snprintf(buf, cap, "%s", stat);
    }
}

static void write_header(FILE *out, const zonal_table *t) {
    int n = 0;
    char name[512];
    for (int i = 0; i < t->p->nout_cols; i++, n++) {
        if (n)
            fputc(',', out);
        put_field(out, t->p->col_names[t->p->out_cols[i]]);
    }
    for (int k = 0; k < t->per_row; k++, n++) {
        if (n)
            fputc(',', out);
        zonal_column_name(t, k, name, sizeof name);
        put_field(out, name);
    }
    if (t->o->status_column)
        fputs(n++ ? ",status" : "status", out);
    if (t->o->include_geom)
        fputs(n ? ",wkt" : "wkt", out);
    fputc('\n', out);
}

/* Pair indices of each feature, in block order (counting sort). */
static size_t *pairs_by_feature(const zonal_plan *plan, size_t nfeat, size_t **start) {
    size_t *first = calloc(nfeat + 1, sizeof *first);
    size_t *idx = malloc((plan->npairs ? plan->npairs : 1) * sizeof *idx);
    if (!first || !idx) {
        free(first);
        free(idx);
        return NULL;
    }
    for (size_t k = 0; k < plan->npairs; k++)
        first[plan->pairs[k].feat + 1]++;
    for (size_t i = 0; i < nfeat; i++)
        first[i + 1] += first[i];
    size_t *fill = malloc((nfeat ? nfeat : 1) * sizeof *fill);
    if (!fill) {
        free(first);
        free(idx);
        return NULL;
    }
    memcpy(fill, first, nfeat * sizeof *fill);
    for (size_t k = 0; k < plan->npairs; k++)
        idx[fill[plan->pairs[k].feat]++] = k;
    free(fill);
    *start = first;
    return idx;
}

/* Merges one feature's pairs into its values; returns its status. */
static zonal_status merge_feature(const zonal_table *t, zonal_feature *f, zonal_results *res,
                                  const size_t *idx, size_t n, double *vals, uint8_t *has,
                                  bool *nomem) {
    const rp_zonal_options *o = t->o;
    int nb = t->r->nbands, ns = o->nstats;
    zonal_status st = f->status;
    for (size_t k = 0; k < n; k++)
        if (res->pair_failed[idx[k]])
            st = ZST_READ_ERROR;
    bool any = false;
    for (int b = 0; b < nb; b++)
        for (int s = 0; s < ns; s++) {
            zonal_acc m = {0};
            for (size_t k = 0; k < n && st != ZST_READ_ERROR; k++)
                if (zonal_acc_merge(
                        &m, &res->accs[(idx[k] * (size_t)nb + (size_t)b) * (size_t)ns + (size_t)s],
                        o->stats[s].op) != RP_OK)
                    *nomem = true;
            int j = b * ns + s;
            has[j] = st != ZST_READ_ERROR && zonal_acc_value(&m, &o->stats[s], &vals[j]);
            any = any || has[j];
            free(m.vals);
        }
    if (st == ZST_OK && !any)
        st = ZST_NO_CELLS;
    return st;
}

static rp_status merge_all(zonal_table *t, zonal_polys *p, const zonal_plan *plan,
                           zonal_results *res, rp_error *err) {
    size_t *start = NULL, *idx = pairs_by_feature(plan, p->n, &start);
    size_t cells = p->n * (size_t)t->per_row;
    t->vals = malloc((cells ? cells : 1) * sizeof *t->vals);
    t->has = calloc(cells ? cells : 1, 1);
    bool nomem = !idx || !t->vals || !t->has;
    for (size_t i = 0; i < p->n && !nomem; i++) {
        size_t row = i * (size_t)t->per_row;
        p->feats[i].status =
            merge_feature(t, &p->feats[i], res, idx + start[i], start[i + 1] - start[i],
                          t->vals + row, t->has + row, &nomem);
    }
    free(idx);
    free(start);
    return nomem ? rp_error_set(err, RP_NOMEM, "out of memory (merging statistics)") : RP_OK;
}

/* The input geometry as a WKT field (empty when there is none). */
static void put_wkt(FILE *out, const zonal_feature *f, int written) {
    if (written)
        fputc(',', out);
    OGRGeometryH g = NULL;
    char *wkt = NULL;
    if (f->wkb && OGR_G_CreateFromWkbEx(f->wkb, NULL, &g, f->wkb_size) == OGRERR_NONE &&
        OGR_G_ExportToIsoWkt(g, &wkt) == OGRERR_NONE)
        put_field(out, wkt);
    CPLFree(wkt);
    OGR_G_DestroyGeometry(g);
}

static void write_csv_rows(FILE *out, const zonal_table *t) {
    write_header(out, t);
    char buf[64];
    for (size_t i = 0; i < t->p->n; i++) {
        const zonal_feature *f = &t->p->feats[i];
        int written = 0;
        for (int c = 0; c < t->p->nout_cols; c++, written++) {
            if (written)
                fputc(',', out);
            put_field(out, f->attrs[t->p->out_cols[c]]);
        }
        for (int k = 0; k < t->per_row; k++, written++) {
            if (written)
                fputc(',', out);
            size_t j = i * (size_t)t->per_row + (size_t)k;
            if (t->has[j]) {
                rp_shortest_double(buf, sizeof buf, t->vals[j]);
                fputs(buf, out);
            }
        }
        if (t->o->status_column)
            fprintf(out, "%s%s", written++ ? "," : "", zonal_status_name(f->status));
        if (t->o->include_geom)
            put_wkt(out, f, written);
        fputc('\n', out);
    }
}

/* rp_table_writer_fn: CSV text, or a vector format by drv. */
static rp_status write_table(const char *target, GDALDriverH drv, void *user, rp_error *err) {
    const zonal_table *t = user;
    if (drv)
        return zonal_write_ogr(t, target, drv, err);
    FILE *out = target ? fopen(target, "wb") : stdout;
    if (!out)
        return rp_error_set(err, RP_WRITE, "%s: cannot create: %s", target, strerror(errno));
    write_csv_rows(out, t);
    bool ok = !ferror(out);
    if (target)
        ok = (fclose(out) == 0) && ok;
    return ok ? RP_OK
              : rp_error_set(err, RP_WRITE, "%s: cannot write: %s",
                             target ? target : "standard output", strerror(errno));
}

rp_status zonal_write(const rp_zonal_options *o, const zonal_raster *r, zonal_polys *p,
                      const zonal_plan *plan, zonal_results *res, rp_error *err) {
    zonal_table t = {o, r, p, NULL, NULL, r->nbands * o->nstats};
    rp_status rc = merge_all(&t, p, plan, res, err);
    if (rc == RP_OK)
        rc = rp_table_write_staged(o->output_path, write_table, &t, err);
    free(t.vals);
    free(t.has);
    return rc;
}
