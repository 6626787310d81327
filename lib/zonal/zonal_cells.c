/*
 * zonal_cells.c — the inner loop of a zonal job: the cells of one
 * (polygon, block) pair added to one (band, statistic) accumulator, each
 * weighing its coverage fraction (times the cell's area for
 * coverage_weight=area_*), or 1. Also the cells' spherical areas.
 *
 * Spherical areas (coverage_weight=area_spherical_m2, exactextract's
 * meaning and radius): a cell of a longitude/latitude grid between
 * latitudes phi1 and phi2, dlon wide, has the area of that zone of a
 * sphere of radius R = 6378137 m (WGS84's semi-major axis, the radius
 * exactextract uses): R^2 * dlon * |sin(phi1) - sin(phi2)|, angles in
 * radians. The same for every cell of a row. exactextract stores these
 * areas as floats; here they stay doubles.
 *
 * Threads: called by the zonal workers; an accumulator belongs to one
 * worker at a time, and nothing here is shared.
 */
#include <math.h>

#include "zonal_internal.h"

enum { SPHERE_RADIUS_M = 6378137 };

void zonal_sphere_row_areas(const double *gt, int64_t row0, int n, double *out) {
    const double rad = 3.14159265358979323846 / 180.0, r = SPHERE_RADIUS_M;
    double dlon = fabs(gt[1]) * rad;
    for (int i = 0; i < n; i++) {
        double top = gt[3] + (double)(row0 + i) * gt[5];
        double bottom = gt[3] + (double)(row0 + i + 1) * gt[5];
        out[i] = r * r * dlon * fabs(sin(top * rad) - sin(bottom * rad));
    }
}

/* What a cell of window row y weighs per unit of coverage: 1, the cell's
 * area in CRS units, or its row's spherical area. */
static inline double row_scale(const zonal_stat *st, const cell_src *src, int y) {
    if (st->area == ZAREA_CARTESIAN)
        return src->cell_area;
    if (st->area == ZAREA_SPHERICAL)
        return src->row_area[src->sy + y] * st->area_unit;
    return 1.0;
}


/* A list-valued op's (cell id, item) for one cell: the id orders the list
 * in raster order once the blocks are merged. */
static rp_status push_list_item(zonal_acc *a, const zonal_stat *st, const cell_src *src, int x,
                                int y, double v, double c) {
    int64_t col = src->x0 + src->sx + x, row = src->y0 + src->sy + y;
    double id = (double)(row * src->width + col), item = v;
    if (st->op == ZOP_COVERAGE)
        item = c * row_scale(st, src, y);
    else if (st->op == ZOP_CELL_ID)
        item = id;
    else if (st->op == ZOP_CENTER_X)
        item = src->gt[0] + ((double)col + 0.5) * src->gt[1];
    else if (st->op == ZOP_CENTER_Y)
        item = src->gt[3] + ((double)row + 0.5) * src->gt[5];
    a->cells++;
    a->w += 1;
    return zonal_acc_push(a, id, item);
}

/* The centre coordinate a cell-centre operation takes instead of the value. */
static double centre(const cell_src *src, zonal_op op, int x, int y) {
    if (op == ZOP_MIN_CENTER_X || op == ZOP_MAX_CENTER_X)
        return src->gt[0] + ((double)(src->x0 + src->sx + x) + 0.5) * src->gt[1];
    return src->gt[3] + ((double)(src->y0 + src->sy + y) + 0.5) * src->gt[5];
}

/* The common case (count, sum, mean, min, max with no argument) in scalar
 * locals: the same sums in the same order as zonal_acc_add. */
static void add_plain_cells(zonal_acc *acc, const zonal_stat *st, const cell_src *src) {
    bool weight_cov = st->weight_cov;
    double w = acc->w, sum = acc->sum;
    double mn = acc->cells ? acc->min : INFINITY, mx = acc->cells ? acc->max : -INFINITY;
    uint64_t cells = acc->cells;
    for (int y = 0; y < src->ch; y++) {
        const double *cov = src->cov + (size_t)y * (size_t)src->cw;
        double scale = row_scale(st, src, y);
        size_t row = (size_t)(src->sy + y) * (size_t)src->bw + (size_t)src->sx;
        const double *vals = src->vals + row;
        const uint8_t *valid = src->valid + row;
        for (int x = src->spans[2 * y]; x < src->spans[2 * y + 1]; x++) {
            double c = cov[x];
            if (!(c > 0) || !valid[x])
                continue;
            double v = vals[x], weight = weight_cov ? c * scale : 1.0;
            w += weight;
            sum += weight * v;
            mn = v < mn ? v : mn;
            mx = v > mx ? v : mx;
            cells++;
        }
    }
    acc->w = w;
    acc->sum = sum;
    acc->cells = cells;
    if (cells) {
        acc->min = mn;
        acc->max = mx;
    }
}

rp_status zonal_cells_add(zonal_acc *acc, const zonal_stat *st, const cell_src *src) {
    unsigned flags = zonal_acc_flags(st->op);
    if (flags == 0 && !(st->min_cov > 0) && !st->has_default &&
        (st->op < ZOP_MIN_CENTER_X || st->op > ZOP_MAX_CENTER_Y)) {
        add_plain_cells(acc, st, src);
        return RP_OK;
    }
    double min_cov = st->min_cov > 0 ? st->min_cov : 0;
    zonal_acc a = *acc; /* a local copy the compiler can keep in registers */
    rp_status rc = RP_OK;
    for (int y = 0; y < src->ch && rc == RP_OK; y++) {
        const double *cov = src->cov + (size_t)y * (size_t)src->cw;
        double scale = row_scale(st, src, y);
        size_t row = (size_t)(src->sy + y) * (size_t)src->bw + (size_t)src->sx;
        for (int x = src->spans[2 * y]; x < src->spans[2 * y + 1]; x++) {
            double c = cov[x];
            if (c <= 0 || c < min_cov)
                continue;
            size_t i = row + (size_t)x;
            bool valid = src->valid[i];
            if (!valid && !st->has_default)
                continue;
            double w2 = 0;
            if (flags & ZACC_WEIGHTED) {
                if (!src->wvalid[i])
                    continue;
                w2 = src->weights[i];
            }
            double v = valid ? src->vals[i] : st->default_val;
            if (st->op >= ZOP_MIN_CENTER_X && st->op <= ZOP_MAX_CENTER_Y)
                v = centre(src, st->op, x, y);
            double weight = st->weight_cov ? c * scale : 1.0;
            if (st->op == ZOP_WEIGHTED_VARIANCE || st->op == ZOP_WEIGHTED_STDEV ||
                st->op == ZOP_WEIGHTED_FRAC)
                weight *= w2; /* their moments weigh each cell by coverage x weight */
            if (zonal_op_is_list(st->op) && st->op != ZOP_UNIQUE
                    ? push_list_item(&a, st, src, x, y, v, c) != RP_OK
                    : zonal_acc_add(&a, flags, v, weight, w2) != RP_OK) {
                rc = RP_NOMEM;
                break;
            }
        }
    }
    *acc = a;
    return rc;
}
