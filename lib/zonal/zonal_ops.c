/*
 * zonal_ops.c — the zonal operations: parsing a -s text
 * ("name=op(arg=value,...)"), and the running statistics one polygon builds
 * cell by cell, merged across blocks, and turned into the value written.
 *
 * Meanings follow exactextract: a cell's weight is its coverage fraction
 * (coverage_weight=fraction) or 1 (none); count is the sum of weights, sum
 * the sum of weight * value, mean their ratio; min/max over covered cells;
 * variance is the weighted population variance; majority/minority the value
 * with the largest/smallest total weight (ties: the smaller value); variety
 * the number of distinct values; min/max_center_x/y the extremes of the
 * centres of the covered valid cells; median/quantile the weighted quantile that
 * reduces to R's type 7 for equal weights.
 *
 * Merging is exact for sums and extremes and uses Chan's formula for the
 * variance; the caller merges in block order, so the bytes do not depend on
 * the thread count. Threads: none of its own; an accumulator belongs to one
 * thread at a time.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "numtext.h"
#include "zonal_internal.h"

static const char *const op_names[ZOP_N_OPS] = {"count",
                                                "sum",
                                                "mean",
                                                "min",
                                                "max",
                                                "variance",
                                                "stdev",
                                                "coefficient_of_variation",
                                                "majority",
                                                "minority",
                                                "variety",
                                                "median",
                                                "quantile",
                                                "weighted_sum",
                                                "weighted_mean",
                                                "weighted_variance",
                                                "weighted_stdev",
                                                "min_center_x",
                                                "min_center_y",
                                                "max_center_x",
                                                "max_center_y",
                                                "frac",
                                                "weighted_frac",
                                                "values",
                                                "coverage",
                                                "cell_id",
                                                "center_x",
                                                "center_y",
                                                "unique"};

const char *zonal_op_name(zonal_op op) {
    return op_names[op];
}

bool zonal_op_is_list(zonal_op op) {
    return op >= ZOP_VALUES && op <= ZOP_UNIQUE;
}

bool zonal_op_needs_values(zonal_op op) {
    return zonal_op_is_list(op) || op == ZOP_MAJORITY || op == ZOP_MINORITY || op == ZOP_VARIETY ||
           op == ZOP_MEDIAN || op == ZOP_QUANTILE || op == ZOP_FRAC || op == ZOP_WEIGHTED_FRAC;
}

bool zonal_op_needs_weights(zonal_op op) {
    return op == ZOP_WEIGHTED_SUM || op == ZOP_WEIGHTED_MEAN || op == ZOP_WEIGHTED_VARIANCE ||
           op == ZOP_WEIGHTED_STDEV || op == ZOP_WEIGHTED_FRAC;
}

static bool parse_number(const char *s, size_t len, double *out) {
    return len > 0 && rp_parse_decimal(s, len, out) && isfinite(*out);
}

/* One "key=value" argument of an operation. */
static rp_status parse_arg(const char *text, const char *a, size_t len, zonal_stat *s,
                           rp_error *err) {
    const char *eq = memchr(a, '=', len);
    if (!eq)
        return rp_error_set(err, RP_USAGE, "-s '%s': argument '%.*s' is not key=value", text,
                            (int)len, a);
    size_t klen = (size_t)(eq - a), vlen = len - klen - 1;
    const char *v = eq + 1;
#define KEY(k) (klen == strlen(k) && memcmp(a, k, klen) == 0)
    if (KEY("q")) {
        if (!parse_number(v, vlen, &s->q) || s->q < 0 || s->q > 1)
            return rp_error_set(err, RP_USAGE, "-s '%s': q must be a number in [0, 1]", text);
    } else if (KEY("min_coverage_frac")) {
        if (!parse_number(v, vlen, &s->min_cov) || s->min_cov < 0 || s->min_cov > 1)
            return rp_error_set(err, RP_USAGE,
                                "-s '%s': min_coverage_frac must be a number in [0, 1]", text);
    } else if (KEY("default_value")) {
        if (!parse_number(v, vlen, &s->default_val))
            return rp_error_set(err, RP_USAGE, "-s '%s': default_value must be a number", text);
        s->has_default = true;
    } else if (KEY("coverage_weight")) {
        static const struct {
            const char *text;
            bool cov;
            zonal_area area;
            double unit;
        } kinds[] = {{"fraction", true, ZAREA_NONE, 1},
                     {"none", false, ZAREA_NONE, 1},
                     {"area_cartesian", true, ZAREA_CARTESIAN, 1},
                     {"area_spherical_m2", true, ZAREA_SPHERICAL, 1},
                     {"area_spherical_km2", true, ZAREA_SPHERICAL, 1e-6}};
        size_t k = 0, nk = sizeof kinds / sizeof kinds[0];
        while (k < nk && !(vlen == strlen(kinds[k].text) && memcmp(v, kinds[k].text, vlen) == 0))
            k++;
        if (k == nk)
            return rp_error_set(err, RP_USAGE,
                                "-s '%s': coverage_weight must be fraction, none, area_cartesian, "
                                "area_spherical_m2 or area_spherical_km2",
                                text);
        s->weight_cov = kinds[k].cov;
        s->area = kinds[k].area;
        s->area_unit = kinds[k].unit;
    } else {
        return rp_error_set(err, RP_USAGE,
                            "-s '%s': unknown argument '%.*s' (q, min_coverage_frac, "
                            "coverage_weight, default_value)",
                            text, (int)klen, a);
    }
#undef KEY
    return RP_OK;
}

static rp_status parse_args(const char *text, const char *args, size_t len, zonal_stat *s,
                            rp_error *err) {
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && args[j] != ',')
            j++;
        size_t a = i, b = j;
        while (a < b && args[a] == ' ')
            a++;
        while (b > a && args[b - 1] == ' ')
            b--;
        if (a == b)
            return rp_error_set(err, RP_USAGE, "-s '%s': an empty argument", text);
        rp_status rc = parse_arg(text, args + a, b - a, s, err);
        if (rc != RP_OK)
            return rc;
        i = j + 1;
    }
    return RP_OK;
}

static bool name_ok(const char *s, size_t len) {
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

rp_status zonal_stat_parse(const char *text, zonal_stat *s, rp_error *err) {
    memset(s, 0, sizeof *s);
    s->weight_cov = true;
    s->area_unit = 1;
    s->q = -1;
    const char *body = text, *eq = strchr(text, '='), *paren = strchr(text, '(');
    size_t name_len = 0;
    if (eq && (!paren || eq < paren)) {
        name_len = (size_t)(eq - text);
        if (!name_ok(text, name_len))
            return rp_error_set(err, RP_USAGE,
                                "-s '%s': the column name before '=' must be letters, digits "
                                "or _",
                                text);
        body = eq + 1;
    }
    paren = strchr(body, '(');
    size_t op_len = paren ? (size_t)(paren - body) : strlen(body);
    int op = -1;
    for (int i = 0; i < ZOP_N_OPS; i++)
        if (strlen(op_names[i]) == op_len && memcmp(body, op_names[i], op_len) == 0)
            op = i;
    if (op < 0)
        return rp_error_set(err, RP_USAGE,
                            "-s '%s': unknown operation '%.*s' (see rasterpool zonal --help)", text,
                            (int)op_len, body);
    s->op = (zonal_op)op;
    if (paren) {
        size_t rest = strlen(paren);
        if (rest < 2 || paren[rest - 1] != ')')
            return rp_error_set(err, RP_USAGE, "-s '%s': arguments must end with ')'", text);
        rp_status rc = parse_args(text, paren + 1, rest - 2, s, err);
        if (rc != RP_OK)
            return rc;
    }
    if (s->op == ZOP_QUANTILE && s->q < 0)
        return rp_error_set(err, RP_USAGE, "-s '%s': quantile needs q= (quantile(q=0.9))", text);
    if (s->op != ZOP_QUANTILE && s->q >= 0)
        return rp_error_set(err, RP_USAGE, "-s '%s': q= belongs to quantile only", text);
    const char *name = name_len ? text : body;
    size_t len = name_len ? name_len : strlen(body);
    s->name = malloc(len + 1);
    if (!s->name)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    memcpy(s->name, name, len);
    s->name[len] = '\0';
    return RP_OK;
}
