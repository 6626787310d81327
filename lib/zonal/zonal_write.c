/*
 * zonal_write.c — the last stage of a zonal job: each polygon's (polygon,
 * block) accumulators are merged in block order (so the bytes are the same
 * at any thread count), turned into values and written as one CSV row per
 * polygon, in input order: the attributes, the statistics, the status.
 * A file output is written to a temporary file in its folder, flushed to
 * disk and renamed into place only when complete.
 *
 * Threads: the caller's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "numtext.h"
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

static void write_header(FILE *out, const rp_zonal_options *o, const zonal_raster *r,
                         const zonal_polys *p) {
    int n = 0;
    for (int i = 0; i < p->nout_cols; i++, n++) {
        if (n)
            fputc(',', out);
        put_field(out, p->col_names[p->out_cols[i]]);
    }
    for (int b = 0; b < r->nbands; b++)
        for (int s = 0; s < o->nstats; s++, n++) {
            if (n)
                fputc(',', out);
            if (r->nbands > 1)
                fprintf(out, "b%d_", r->bands[b].band);
            put_field(out, o->stats[s].name);
        }
    if (o->status_column)
        fputs(n ? ",status" : "status", out);
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

/* Merges one feature's pairs and writes its values; returns its status. */
static zonal_status write_values(FILE *out, const rp_zonal_options *o, const zonal_raster *r,
                                 zonal_feature *f, zonal_results *res, const size_t *idx, size_t n,
                                 int *written, bool *nomem) {
    int nb = r->nbands, ns = o->nstats;
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
            double v;
            if ((*written)++)
                fputc(',', out);
            if (st != ZST_READ_ERROR && zonal_acc_value(&m, &o->stats[s], &v)) {
                char buf[64];
                rp_shortest_double(buf, sizeof buf, v);
                fputs(buf, out);
                any = true;
            }
            free(m.vals);
        }
    if (st == ZST_OK && !any)
        st = ZST_NO_CELLS;
    return st;
}

static rp_status write_rows(FILE *out, const rp_zonal_options *o, const zonal_raster *r,
                            zonal_polys *p, const zonal_plan *plan, zonal_results *res,
                            rp_error *err) {
    size_t *start = NULL, *idx = pairs_by_feature(plan, p->n, &start);
    if (!idx)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    write_header(out, o, r, p);
    bool nomem = false;
    for (size_t i = 0; i < p->n && !nomem; i++) {
        zonal_feature *f = &p->feats[i];
        int written = 0;
        for (int c = 0; c < p->nout_cols; c++, written++) {
            if (written)
                fputc(',', out);
            put_field(out, f->attrs[p->out_cols[c]]);
        }
        f->status = write_values(out, o, r, f, res, idx + start[i], start[i + 1] - start[i],
                                 &written, &nomem);
        if (o->status_column)
            fprintf(out, "%s%s", written ? "," : "", zonal_status_name(f->status));
        fputc('\n', out);
    }
    free(idx);
    free(start);
    return nomem ? rp_error_set(err, RP_NOMEM, "out of memory (merging value lists)") : RP_OK;
}

/* A temporary file beside path; NULL with err set. */
static FILE *stage_open(const char *path, char **tmp, rp_error *err) {
    size_t len = strlen(path);
    *tmp = malloc(len + 16);
    if (!*tmp) {
        rp_error_set(err, RP_NOMEM, "out of memory");
        return NULL;
    }
    snprintf(*tmp, len + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(*tmp);
    FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!out) {
        rp_error_set(err, RP_WRITE, "%s: cannot write: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(*tmp);
        *tmp = NULL;
    }
    return out;
}

rp_status zonal_write(const rp_zonal_options *o, const zonal_raster *r, zonal_polys *p,
                      const zonal_plan *plan, zonal_results *res, rp_error *err) {
    bool to_stdout = !o->output_path || strcmp(o->output_path, "-") == 0;
    char *tmp = NULL;
    FILE *out = to_stdout ? stdout : stage_open(o->output_path, &tmp, err);
    if (!out)
        return err->code;
    rp_status rc = write_rows(out, o, r, p, plan, res, err);
    if (to_stdout)
        return fflush(out) == 0 || rc != RP_OK
                   ? rc
                   : rp_error_set(err, RP_WRITE, "standard output: %s", strerror(errno));
    bool ok = fflush(out) == 0 && fsync(fileno(out)) == 0;
    ok = (fclose(out) == 0) && ok;
    if (rc == RP_OK && !ok)
        rc = rp_error_set(err, RP_WRITE, "%s: cannot write: %s", o->output_path, strerror(errno));
    if (rc == RP_OK && rename(tmp, o->output_path) != 0)
        rc = rp_error_set(err, RP_WRITE, "%s: cannot rename into place: %s", o->output_path,
                          strerror(errno));
    if (rc != RP_OK)
        unlink(tmp);
    free(tmp);
    return rc;
}
