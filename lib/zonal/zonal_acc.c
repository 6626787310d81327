/*
 * zonal_acc.c — a polygon's running statistics (zonal_acc): one cell at a
 * time, merging two in a fixed order, and the final value of each
 * operation (meanings: zonal_ops.c's header).
 *
 * Threads: an accumulator belongs to one thread at a time.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "zonal_internal.h"
#include "zonal_sort.h"

rp_status zonal_acc_push(zonal_acc *a, double v, double weight) {
    if (a->nvals == a->capvals) {
        size_t cap = a->capvals ? a->capvals * 2 : 64;
        double *grown = realloc(a->vals, cap * 2 * sizeof *grown);
        if (!grown)
            return RP_NOMEM;
        a->vals = grown;
        a->capvals = cap;
    }
    a->vals[2 * a->nvals] = v;
    a->vals[2 * a->nvals + 1] = weight;
    a->nvals++;
    return RP_OK;
}

rp_status zonal_acc_reserve(zonal_acc *a, size_t n) {
    if (n <= a->capvals)
        return RP_OK;
    double *grown = realloc(a->vals, n * 2 * sizeof *grown);
    if (!grown)
        return RP_NOMEM;
    a->vals = grown;
    a->capvals = n;
    return RP_OK;
}

unsigned zonal_acc_flags(zonal_op op) {
    unsigned f = 0;
    if (op == ZOP_VARIANCE || op == ZOP_STDEV || op == ZOP_CV || op == ZOP_WEIGHTED_VARIANCE ||
        op == ZOP_WEIGHTED_STDEV)
        f |= ZACC_VAR;
    if (zonal_op_needs_weights(op))
        f |= ZACC_WEIGHTED;
    if (zonal_op_needs_values(op))
        f |= ZACC_VALUES;
    return f;
}

rp_status zonal_acc_merge(zonal_acc *a, const zonal_acc *b, zonal_op op) {
    if (b->cells == 0)
        return RP_OK;
    if (a->cells == 0) {
        a->min = b->min;
        a->max = b->max;
        a->mean = b->mean;
        a->m2 = b->m2;
    } else {
        a->min = fmin(a->min, b->min);
        a->max = fmax(a->max, b->max);
        double w = a->w + b->w, delta = b->mean - a->mean;
        a->mean += delta * b->w / w;
        a->m2 += b->m2 + delta * delta * a->w * b->w / w;
    }
    a->w += b->w;
    a->cells += b->cells;
    a->sum += b->sum;
    a->wsum += b->wsum;
    a->wcov += b->wcov;
    if (zonal_op_needs_values(op) && b->nvals > 0) {
        size_t need = a->nvals + b->nvals; /* the caller reserves the total: no growth */
        if (need > a->capvals &&
            zonal_acc_reserve(a, need > 2 * a->capvals ? need : 2 * a->capvals) != RP_OK)
            return RP_NOMEM;
        memcpy(a->vals + 2 * a->nvals, b->vals, b->nvals * 2 * sizeof *b->vals);
        a->nvals += b->nvals;
    }
    return RP_OK;
}

/* Sorts the values and folds equal ones into (value, total weight). */
size_t zonal_acc_fold(zonal_acc *a) {
    if (a->nvals == 0)
        return 0;
    zonal_pairs_sort(a->vals, a->nvals);
    size_t n = 0;
    for (size_t i = 0; i < a->nvals; i++) {
        if (n > 0 && a->vals[2 * (n - 1)] == a->vals[2 * i]) {
            a->vals[2 * (n - 1) + 1] += a->vals[2 * i + 1];
        } else {
            a->vals[2 * n] = a->vals[2 * i];
            a->vals[2 * n + 1] = a->vals[2 * i + 1];
            n++;
        }
    }
    a->nvals = n;
    return n;
}

/* Weighted quantile (exactextract's; R's type 7 for equal weights): with
 * values sorted, s_k = (k - 1) w_k + (n - 1) * (w_1 + ... + w_(k-1)); the
 * quantile interpolates linearly in s at q * s_n. Over the sorted (value,
 * weight) pairs, unfolded. */
static double weighted_quantile(zonal_acc *a, double q) {
    zonal_pairs_sort(a->vals, a->nvals);
    size_t n = a->nvals;
    if (n == 1)
        return a->vals[0];
    double cum = 0, prev_s = 0, prev_x = a->vals[0];
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += a->vals[2 * i + 1];
    double target = q * (double)(n - 1) * total;
    for (size_t i = 0; i < n; i++) {
        double x = a->vals[2 * i], w = a->vals[2 * i + 1];
        double s = (double)i * w + (double)(n - 1) * cum;
        if (s > target) {
            if (i == 0)
                return x;
            return prev_x + (target - prev_s) * (x - prev_x) / (s - prev_s);
        }
        prev_s = s;
        prev_x = x;
        cum += w;
    }
    return a->vals[2 * (n - 1)];
}

static double pick_mode(zonal_acc *a, bool most) {
    size_t n = zonal_acc_fold(a);
    a->nvals = n;
    size_t best = 0;
    for (size_t i = 1; i < n; i++) {
        double w = a->vals[2 * i + 1], bw = a->vals[2 * best + 1];
        if (most ? w > bw : w < bw)
            best = i;
    }
    return a->vals[2 * best];
}

bool zonal_acc_value(zonal_acc *a, const zonal_stat *s, double *out) {
    bool extreme = s->op == ZOP_MIN || s->op == ZOP_MAX ||
                   (s->op >= ZOP_MIN_CENTER_X && s->op <= ZOP_MAX_CENTER_Y);
    if (a->cells == 0 || (a->w <= 0 && !extreme))
        return false;
    switch (s->op) {
    case ZOP_COUNT: *out = a->w; return true;
    case ZOP_SUM: *out = a->sum; return true;
    case ZOP_MEAN: *out = a->sum / a->w; return true;
    case ZOP_MIN:
    case ZOP_MIN_CENTER_X:
    case ZOP_MIN_CENTER_Y: *out = a->min; return true;
    case ZOP_MAX_CENTER_X:
    case ZOP_MAX_CENTER_Y:
    case ZOP_MAX: *out = a->max; return true;
    case ZOP_VARIANCE: *out = a->m2 / a->w; return true;
    case ZOP_STDEV: *out = sqrt(a->m2 / a->w); return true;
    case ZOP_CV: *out = sqrt(a->m2 / a->w) / (a->sum / a->w); return true;
    case ZOP_MAJORITY: *out = pick_mode(a, true); return true;
    case ZOP_MINORITY: *out = pick_mode(a, false); return true;
    case ZOP_VARIETY: *out = (double)zonal_acc_fold(a); return true;
    case ZOP_MEDIAN: *out = weighted_quantile(a, 0.5); return true;
    case ZOP_QUANTILE: *out = weighted_quantile(a, s->q); return true;
    case ZOP_WEIGHTED_SUM: *out = a->wsum; return true;
    case ZOP_WEIGHTED_VARIANCE: *out = a->m2 / a->w; return true;
    case ZOP_WEIGHTED_STDEV: *out = sqrt(a->m2 / a->w); return true;
    case ZOP_WEIGHTED_MEAN:
        if (a->wcov == 0)
            return false;
        *out = a->wsum / a->wcov;
        return true;
    default: return false;
    }
}
