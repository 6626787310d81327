/*
 * zonal_merge.c — from the (polygon, block) accumulators to the table:
 * each polygon's pairs are merged in block order (the plan's order, not
 * the workers'), so the values are the same at any thread count; then the
 * value columns are laid out: one per (band, statistic), except frac and
 * weighted_frac, which get one per distinct value found in any polygon
 * (frac_<value>, the values in increasing order; 0 where a polygon with
 * valid cells has none of that value).
 *
 * Threads: the caller's. Ownership: the table owns its arrays.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "zonal_internal.h"

static bool is_frac(zonal_op op) {
    return op == ZOP_FRAC || op == ZOP_WEIGHTED_FRAC;
}

/* Pair indices of each feature, in block order (counting sort). */
static size_t *pairs_by_feature(const zonal_plan *plan, size_t nfeat, size_t **start) {
    size_t *first = calloc(nfeat + 1, sizeof *first);
    size_t *idx = malloc((plan->npairs ? plan->npairs : 1) * sizeof *idx);
    size_t *fill = malloc((nfeat ? nfeat : 1) * sizeof *fill);
    if (!first || !idx || !fill) {
        free(first);
        free(idx);
        free(fill);
        return NULL;
    }
    for (size_t k = 0; k < plan->npairs; k++)
        first[plan->pairs[k].feat + 1]++;
    for (size_t i = 0; i < nfeat; i++)
        first[i + 1] += first[i];
    memcpy(fill, first, nfeat * sizeof *fill);
    for (size_t k = 0; k < plan->npairs; k++)
        idx[fill[plan->pairs[k].feat]++] = k;
    free(fill);
    *start = first;
    return idx;
}

/* Merges one feature's pairs into merged[0 .. nb * ns); returns its status
 * before values are known (read_error when a block failed). The pairs'
 * value lists are freed as they are merged, the merged ones sized once. */
static zonal_status merge_feature(const rp_zonal_options *o, int nb, const zonal_feature *f,
                                  zonal_results *res, const size_t *idx, size_t n,
                                  zonal_acc *merged, bool *nomem) {
    int ns = o->nstats;
    zonal_status st = f->status;
    for (size_t k = 0; k < n; k++)
        if (res->pair_failed[idx[k]])
            st = ZST_READ_ERROR;
    for (int j = 0; j < nb * ns && st != ZST_READ_ERROR; j++) {
        zonal_op op = o->stats[j % ns].op;
        size_t total = 0;
        for (size_t k = 0; k < n; k++)
            total += res->accs[idx[k] * (size_t)(nb * ns) + (size_t)j].nvals;
        if (zonal_op_needs_values(op) && zonal_acc_reserve(&merged[j], total) != RP_OK)
            *nomem = true;
        for (size_t k = 0; k < n; k++) {
            zonal_acc *pair = &res->accs[idx[k] * (size_t)(nb * ns) + (size_t)j];
            if (zonal_acc_merge(&merged[j], pair, op) != RP_OK)
                *nomem = true;
            free(pair->vals);
            pair->vals = NULL;
            pair->nvals = pair->capvals = 0;
        }
    }
    return st;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* frac's columns for (band, stat) j: the distinct values of every
 * polygon's folded list. */
static bool collect_keys(zonal_table *t, zonal_acc *merged, size_t n, int njs, int j) {
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += zonal_acc_fold(&merged[i * (size_t)njs + (size_t)j]);
    double *keys = malloc((total ? total : 1) * sizeof *keys);
    if (!keys)
        return false;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        zonal_acc *a = &merged[i * (size_t)njs + (size_t)j];
        for (size_t k = 0; k < a->nvals; k++)
            keys[m++] = a->vals[2 * k];
    }
    qsort(keys, m, sizeof *keys, cmp_double);
    size_t u = 0;
    for (size_t k = 0; k < m; k++)
        if (u == 0 || keys[u - 1] != keys[k])
            keys[u++] = keys[k];
    t->keys[j] = keys;
    t->nkeys[j] = u;
    return true;
}

enum { MAX_FRAC_COLUMNS = 10000 };

/* The value columns: their (band, stat) and frac key. */
static rp_status lay_out(zonal_table *t, int njs, rp_error *err) {
    size_t cols = 0;
    for (int j = 0; j < njs; j++) {
        const zonal_stat *st = &t->o->stats[j % t->o->nstats];
        if (is_frac(st->op) && t->nkeys[j] > MAX_FRAC_COLUMNS)
            return rp_error_set(err, RP_USAGE,
                                "-s %s: band %d has %zu distinct values under the polygons, "
                                "more than %d columns; frac is for categorical rasters",
                                st->name, t->r->bands[j / t->o->nstats].band, t->nkeys[j],
                                MAX_FRAC_COLUMNS);
        cols += is_frac(st->op) ? t->nkeys[j] : 1;
    }
    t->col_j = malloc((cols ? cols : 1) * sizeof *t->col_j);
    t->col_key = malloc((cols ? cols : 1) * sizeof *t->col_key);
    if (!t->col_j || !t->col_key)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    int k = 0;
    for (int j = 0; j < njs; j++) {
        bool frac = is_frac(t->o->stats[j % t->o->nstats].op);
        for (size_t key = 0; key < (frac ? t->nkeys[j] : 1); key++, k++) {
            t->col_j[k] = j;
            t->col_key[k] = frac ? (int)key : -1;
        }
    }
    t->per_row = k;
    return RP_OK;
}

/* A list-valued op's items: the (cell id, item) pairs sorted by cell id
 * (raster order), or for unique the distinct values. false: out of memory. */
static bool fill_list(zonal_acc *a, zonal_op op, double **list, double *count) {
    size_t n = zonal_acc_fold(a);
    *list = malloc((n ? n : 1) * sizeof **list);
    if (!*list)
        return false;
    for (size_t i = 0; i < n; i++)
        (*list)[i] = a->vals[2 * i + (op == ZOP_UNIQUE ? 0 : 1)];
    *count = (double)n;
    return true;
}

/* One feature's row of values from its merged statistics. false: out of
 * memory; *any: whether it has a value. */
static bool fill_row(zonal_table *t, zonal_acc *merged, double *vals, uint8_t *has, double **lists,
                     bool *any_out) {
    bool any = false;
    for (int k = 0; k < t->per_row; k++) {
        int j = t->col_j[k];
        zonal_acc *a = &merged[j];
        const zonal_stat *st = &t->o->stats[j % t->o->nstats];
        if (zonal_op_is_list(st->op)) {
            if (a->cells > 0 && a->nvals > 0) {
                if (!fill_list(a, st->op, &lists[k], &vals[k]))
                    return false;
                has[k] = 1;
            }
        } else if (t->col_key[k] < 0) {
            has[k] = zonal_acc_value(a, st, &vals[k]);
        } else if (a->cells > 0 && a->w != 0) {
            double key = t->keys[j][t->col_key[k]], w = 0;
            for (size_t v = 0; v < a->nvals; v++) /* folded: sorted, distinct */
                if (a->vals[2 * v] == key)
                    w = a->vals[2 * v + 1];
            vals[k] = w / a->w;
            has[k] = 1;
        }
        any = any || has[k];
    }
    *any_out = any;
    return true;
}

rp_status zonal_table_begin(zonal_table *t, size_t nfeat, rp_error *err) {
    size_t njs = (size_t)t->r->nbands * (size_t)t->o->nstats;
    t->merged = calloc(nfeat * njs + 1, sizeof *t->merged);
    t->status = malloc((nfeat ? nfeat : 1) * sizeof *t->status);
    t->keys = calloc(njs ? njs : 1, sizeof *t->keys);
    t->nkeys = calloc(njs ? njs : 1, sizeof *t->nkeys);
    for (size_t i = 0; t->status && i < nfeat; i++)
        t->status[i] = ZST_NO_GEOMETRY;
    if (!t->merged || !t->status || !t->keys || !t->nkeys)
        return rp_error_set(err, RP_NOMEM, "out of memory (statistics of %zu polygons)", nfeat);
    return RP_OK;
}

/* A polygon's status over several grids: the worst problem, else ok if it
 * is on any grid. */
static zonal_status combine_status(zonal_status a, zonal_status b) {
    static const int rank[] = {
        [ZST_NO_GEOMETRY] = 0, [ZST_OUTSIDE] = 1, [ZST_NO_CELLS] = 2,   [ZST_OK] = 2,
        [ZST_REPAIRED] = 3,    [ZST_INVALID] = 4, [ZST_READ_ERROR] = 5, [ZST_OVER_MEMORY] = 4};
    return rank[b] > rank[a] ? b : a;
}

rp_status zonal_table_add(zonal_table *t, const zonal_raster *rg, const int *band_global,
                          zonal_polys *p, const zonal_plan *plan, zonal_results *res,
                          rp_error *err) {
    int nb = rg->nbands, ns = t->o->nstats, njs = t->r->nbands * ns;
    size_t *start = NULL, *idx = pairs_by_feature(plan, p->n, &start);
    zonal_acc *merged = calloc((size_t)(nb * ns) + 1, sizeof *merged);
    bool nomem = !idx || !merged;
    for (size_t i = 0; i < p->n && !nomem; i++) {
        zonal_status st = merge_feature(t->o, nb, &p->feats[i], res, idx + start[i],
                                        start[i + 1] - start[i], merged, &nomem);
        t->status[i] = combine_status(t->status[i], st);
        for (int j = 0; j < nb * ns; j++) { /* moved into its place in the table's */
            t->merged[i * (size_t)njs + (size_t)(band_global[j / ns] * ns + j % ns)] = merged[j];
            memset(&merged[j], 0, sizeof merged[j]);
        }
    }
    for (int j = 0; merged && j < nb * ns; j++)
        free(merged[j].vals);
    free(merged);
    free(idx);
    free(start);
    return nomem ? rp_error_set(err, RP_NOMEM, "out of memory (merging statistics)") : RP_OK;
}

rp_status zonal_table_finish(zonal_table *t, zonal_polys *p, rp_error *err) {
    int njs = t->r->nbands * t->o->nstats;
    zonal_acc *merged = t->merged;
    bool nomem = false;
    for (size_t i = 0; i < p->n; i++)
        p->feats[i].status = t->status[i];
    for (int j = 0; j < njs && !nomem; j++)
        if (is_frac(t->o->stats[j % t->o->nstats].op) && !collect_keys(t, merged, p->n, njs, j))
            nomem = true;
    rp_status rc = nomem ? RP_NOMEM : lay_out(t, njs, err);
    size_t cells = p->n * (size_t)t->per_row;
    if (rc == RP_OK) {
        t->vals = malloc((cells ? cells : 1) * sizeof *t->vals);
        t->has = calloc(cells ? cells : 1, 1);
        t->lists = calloc(cells ? cells : 1, sizeof *t->lists);
        nomem = !t->vals || !t->has || !t->lists;
    }
    for (size_t i = 0; i < p->n && !nomem && rc == RP_OK; i++) {
        size_t row = i * (size_t)t->per_row;
        bool any = false;
        if (!fill_row(t, merged + i * (size_t)njs, t->vals + row, t->has + row, t->lists + row,
                      &any))
            nomem = true;
        if (p->feats[i].status == ZST_OK && !any)
            p->feats[i].status = ZST_NO_CELLS;
    }
    for (size_t i = 0; i < p->n * (size_t)njs; i++)
        free(merged[i].vals);
    free(merged);
    t->merged = NULL;
    if (rc == RP_OK && nomem)
        rc = RP_NOMEM;
    return rc == RP_NOMEM ? rp_error_set(err, RP_NOMEM, "out of memory (merging statistics)") : rc;
}

rp_status zonal_table_build(zonal_table *t, zonal_polys *p, const zonal_plan *plan,
                            zonal_results *res, rp_error *err) {
    int *all = malloc((size_t)(t->r->nbands ? t->r->nbands : 1) * sizeof *all);
    if (!all)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    for (int b = 0; b < t->r->nbands; b++)
        all[b] = b;
    rp_status rc = zonal_table_begin(t, p->n, err);
    if (rc == RP_OK)
        rc = zonal_table_add(t, t->r, all, p, plan, res, err);
    if (rc == RP_OK)
        rc = zonal_table_finish(t, p, err);
    free(all);
    return rc;
}

void zonal_table_free(zonal_table *t) {
    for (size_t i = 0; t->merged && i < t->p->n * (size_t)(t->r->nbands * t->o->nstats); i++)
        free(t->merged[i].vals);
    free(t->merged);
    free(t->status);
    for (int j = 0; t->keys && j < t->r->nbands * t->o->nstats; j++)
        free(t->keys[j]);
    free(t->keys);
    free(t->nkeys);
    free(t->col_j);
    free(t->col_key);
    for (size_t i = 0; t->lists && i < t->p->n * (size_t)t->per_row; i++)
        free(t->lists[i]);
    free(t->lists);
    free(t->vals);
    free(t->has);
}
