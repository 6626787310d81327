/*
 * zonal_write.c — the last stage of a zonal job: the table that
 * zonal_merge.c builds (each polygon's statistics merged in block order, so
 * the bytes are the same at any thread count) written as one CSV row per
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

static const char *const status_names[] = {"ok",      "no_cells", "outside",    "no_geometry",
                                           "invalid", "repaired", "read_error", "over_memory"};

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
    int ns = t->o->nstats, jj = t->col_j[k], b = jj / ns;
    const char *stat = t->o->stats[jj % ns].name;
    char key[64] = "";
    if (t->col_key[k] >= 0) { /* frac: the value the column is about */
        key[0] = '_';
        rp_shortest_double(key + 1, sizeof key - 1, t->keys[jj][t->col_key[k]]);
    }
    if (t->o->nrasters > 1) {
        char stem[256];
        raster_stem(t->o, t->r->band_src[b], stem, sizeof stem);
        if (t->r->nbands == t->o->nrasters)
            snprintf(buf, cap, "%s_%s%s", stem, stat, key);
        else
            snprintf(buf, cap, "%s_b%d_%s%s", stem, t->r->bands[b].band, stat, key);
    } else if (t->r->nbands > 1) {
        snprintf(buf, cap, "b%d_%s%s", t->r->bands[b].band, stat, key);
    } else {
        snprintf(buf, cap, "%s%s", stat, key);
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

/* A list-valued op's items as one CSV field: a JSON array of the shortest
 * texts that read back to the same doubles, "[1,2.5,3]" (quoted: it holds
 * commas). */
static void put_list(FILE *out, const double *list, size_t n) {
    char buf[64];
    fputs(n > 1 ? "\"[" : "[", out);
    for (size_t i = 0; i < n; i++) {
        rp_shortest_double(buf, sizeof buf, list[i]);
        fprintf(out, "%s%s", i ? "," : "", buf);
    }
    fputs(n > 1 ? "]\"" : "]", out);
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
            if (t->has[j] && t->lists[j]) {
                put_list(out, t->lists[j], (size_t)t->vals[j]);
            } else if (t->has[j]) {
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

rp_status zonal_write_table(zonal_table *t, rp_error *err) {
    return rp_table_write_staged(t->o->output_path, write_table, t, err);
}

rp_status zonal_write(const rp_zonal_options *o, const zonal_raster *r, zonal_polys *p,
                      const zonal_plan *plan, zonal_results *res, rp_error *err) {
    zonal_table t = {.o = o, .r = r, .p = p};
    rp_status rc = zonal_table_build(&t, p, plan, res, err);
    if (rc == RP_OK)
        rc = rp_table_write_staged(o->output_path, write_table, &t, err);
    zonal_table_free(&t);
    return rc;
}
