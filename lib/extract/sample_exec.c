/*
 * sample_exec.c — sampling around points: --method bilinear, cubic,
 * cubicspline and --window N with its statistics, on the extract engine.
 *
 * The design: a point's kernel is a square of cells (2x2, 4x4, N x N;
 * sample_kernel.c says which). Every kernel cell becomes a "cell point"
 * with its cell already located, and the cell points are grouped by block
 * (rp_plan_build_cells) and read by the extract readers exactly as points
 * are: through GDAL block by block, or for a VRT of plain sources from the
 * source files (a kernel may straddle files: its cells simply go to
 * different sources), remote files in runs, masks and nodata as for
 * nearest, an unreadable block failing only its cells. So every block any
 * kernel touches is decoded once per round, whatever block edges or
 * source edges the kernels straddle, and nothing is summed across blocks:
 * once a round's cells are in, each point's kernel is applied to its own
 * cells in GDAL's order, so the result is the same at any thread count and
 * for any block layout.
 *
 * Rounds: the points on a raster, in block order (the points' own plan),
 * are taken in rounds of at most ROUND_BYTES of cell state; one round for
 * bilinear or cubic up to millions of points. A block touched by two
 * rounds (large windows, huge point sets) is read by each.
 *
 * Memory per point of a round: side^2 cells x (8 bytes the cell + 4 its
 * place in the plan + per band read, the band's type size + 1 status byte)
 * + 16 bytes (the kernel's offsets): bilinear on one Float32 band 84
 * bytes, cubic 288, window 5 on Float32 441. The outputs are columns as
 * for nearest: 9 bytes a point per column (the type's size + 1).
 *
 * Threads: planning on the caller; the readers run the pool; the kernels
 * are applied on the pool, each task its own points (disjoint writes).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "extract_internal.h"
#include "pixel.h"
#include "pool.h"

#define ROUND_BYTES ((size_t)256 << 20)
#define POINTS_PER_TASK 4096

bool rp_sample_active(const rp_extract_options *o) {
    return o->method != RP_METHOD_NEAREST || o->window > 0;
}

/* The output type of a statistic of a band of type t. */
static GDALDataType output_type(int stat, GDALDataType t) {
    if (stat == RP_STAT_COUNT)
        return GDT_Int32;
    bool keeps = stat == RP_STAT_MIN || stat == RP_STAT_MAX || stat == RP_STAT_VALUES;
    return keeps && !GDALDataTypeIsComplex(t) ? t : GDT_Float64;
}

/* Output column `out` computed from band column `source` (b). */
static rp_status make_output(rp_value_column *out, const rp_value_column *b, int source, int stat,
                             int cell, int window, rp_error *err) {
    char name[1200], status[1300];
    if (stat < 0)
        snprintf(name, sizeof name, "%s", b->name);
    else if (stat == RP_STAT_VALUES)
        snprintf(name, sizeof name, "%s_w%d_%d", b->name, window, cell + 1);
    else
        snprintf(name, sizeof name, "%s_%s", b->name, rp_window_stat_name((rp_window_stat)stat));
    if (stat < 0)
        snprintf(status, sizeof status, "%s", b->status_name);
    else
        snprintf(status, sizeof status, "%s_status", name);
    memset(out, 0, sizeof *out);
    out->raster = b->raster;
    out->band = b->band;
    out->band.type = output_type(stat, b->band.type);
    out->band.type_size = GDALGetDataTypeSizeBytes(out->band.type);
    /* a statistic kept in the band's type keeps how its values read (a
     * signed byte stays one); a computed one is its own type */
    if (out->band.type != b->band.type)
        out->band.value_type = out->band.type;
    out->band.has_nodata = false; /* the status says it */
    out->band.read_mask = false;
    out->sample_source = source;
    out->sample_stat = stat;
    out->sample_cell = cell;
    out->name = strdup(name);
    out->status_name = strdup(status);
    if (!out->name || !out->status_name)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    return RP_OK;
}

rp_status rp_sample_setup(rp_extract_setup *s, const rp_extract_options *opts, rp_error *err) {
    if (!rp_sample_active(opts))
        return RP_OK;
    int per = 0, n2 = opts->window * opts->window;
    for (int k = 0; k < opts->nstats; k++)
        per += opts->stats[k] == RP_STAT_VALUES ? n2 : 1;
    if (!opts->window)
        per = 1;
    rp_value_column *out = calloc((size_t)(s->ncolumns * per) + 1, sizeof *out);
    if (!out)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    s->bands = s->columns;
    s->nbands = s->ncolumns;
    s->columns = out;
    s->ncolumns = 0;
    s->sample = opts;
    for (int b = 0; b < s->nbands; b++) {
        const rp_value_column *band = &s->bands[b];
        for (int k = 0; k < (opts->window ? opts->nstats : 1); k++) {
            int stat = opts->window ? opts->stats[k] : -1;
            int cells = stat == RP_STAT_VALUES ? n2 : 1;
            for (int c = 0; c < cells; c++) {
                rp_status rc =
                    make_output(&s->columns[s->ncolumns++], band, b, stat, c, opts->window, err);
                if (rc != RP_OK)
                    return rc;
            }
        }
    }
    return RP_OK;
}

/* One round of one raster: the points, their kernels' cells as read. */
typedef struct sample_round {
    const rp_extract_setup *s; /* its output columns' values are written */
    const rp_grid *grid;
    rp_sample_method method; /* after GDAL's fall-backs for small rasters */
    int window;
    rp_nodata_policy policy;
    size_t ncell; /* side x side */
    const uint32_t *points;
    size_t npoints;
    rp_kernel_at *at;
    int *bands; /* the raster's band columns (indices into s->bands) */
    int nbands;
    rp_value_column *cells; /* per band, npoints x ncell cells */
} sample_round;

/* Writes v as an output of type Float64 or Int32 (count). */
static void put_number(rp_value_column *o, uint32_t p, double v) {
    if (o->band.type == GDT_Int32) {
        int32_t i = (int32_t)v;
        memcpy(o->values + (size_t)p * 4, &i, 4);
    } else {
        memcpy(o->values + (size_t)p * 8, &v, 8);
    }
}

/* A cell (k: its index in the round's cell column) as an output of the
 * band's own type, or as a double. */
static void put_cell(rp_value_column *o, uint32_t p, const rp_value_column *cells, size_t k,
                     double v) {
    if (o->band.type == cells->band.type)
        memcpy(o->values + (size_t)p * (size_t)o->band.type_size,
               cells->values + k * (size_t)cells->band.type_size, (size_t)o->band.type_size);
    else
        put_number(o, p, v);
}

/* The outputs of band column b at the round's k-th point, from its cells
 * (v, st: as doubles and statuses). */
static void apply_kernel(const sample_round *rd, int b, size_t k, const double *v,
                         const uint8_t *st, double *scratch) {
    const rp_extract_setup *s = rd->s;
    uint32_t p = rd->points[k];
    const rp_value_column *cells = &rd->cells[b];
    size_t base = k * rd->ncell;
    for (int c = 0; c < s->ncolumns; c++) {
        rp_value_column *o = &s->columns[c];
        if (o->sample_source != rd->bands[b])
            continue;
        double out = 0.0;
        size_t index = 0;
        if (o->sample_stat < 0) {
            o->status[p] = rp_sample_interpolate(rd->method, rd->policy, v, st, &rd->at[k], &out);
            if (o->status[p] == RP_POINT_OK)
                put_number(o, p, out);
        } else if (o->sample_stat == RP_STAT_VALUES) {
            index = (size_t)o->sample_cell;
            o->status[p] = st[index];
            if (st[index] == RP_POINT_OK || st[index] == RP_POINT_NODATA)
                put_cell(o, p, cells, base + index, v[index]);
        } else {
            o->status[p] = rp_window_stat_value((rp_window_stat)o->sample_stat, v, st, rd->ncell,
                                                scratch, &out, &index);
            if (o->status[p] != RP_POINT_OK)
                continue;
            if (o->sample_stat == RP_STAT_MIN || o->sample_stat == RP_STAT_MAX)
                put_cell(o, p, cells, base + index, out);
            else
                put_number(o, p, out);
        }
    }
}

/* Pool task: the kernels of points [task * POINTS_PER_TASK, ...). */
static rp_status apply_task(void *ctx, void *state, size_t task, rp_error *err) {
    (void)state;
    const sample_round *rd = ctx;
    double *v = malloc(rd->ncell * 2 * sizeof *v);
    uint8_t *st = malloc(rd->ncell);
    if (!v || !st) {
        free(v);
        free(st);
        return rp_error_set(err, RP_NOMEM, "out of memory");
    }
    size_t end = (task + 1) * POINTS_PER_TASK;
    for (size_t k = task * POINTS_PER_TASK; k < end && k < rd->npoints; k++) {
        for (int b = 0; b < rd->nbands; b++) {
            const rp_value_column *cells = &rd->cells[b];
            size_t ts = (size_t)cells->band.type_size;
            for (size_t j = 0; j < rd->ncell; j++) {
                size_t at = k * rd->ncell + j;
                st[j] = cells->status[at];
                v[j] = rp_pixel_as_double(cells->band.value_type, cells->values + at * ts);
            }
            apply_kernel(rd, b, k, v, st, v + rd->ncell);
        }
    }
    free(v);
    free(st);
    return RP_OK;
}

/* The round's kernel cells, grouped by block (on the pool when given). */
static rp_status plan_cells(sample_round *rd, rp_pool *pool, const double *rx, const double *ry,
                            rp_plan *cplan, rp_error *err) {
    size_t n = rd->npoints * rd->ncell;
    uint64_t *cells = malloc((n ? n : 1) * sizeof *cells);
    if (!cells)
        return rp_error_set(err, RP_NOMEM, "out of memory for %zu kernel cells", n);
    for (size_t k = 0; k < rd->npoints; k++) {
        uint32_t p = rd->points[k];
        double px, py;
        rp_grid_pixel(rd->grid, rx[p], ry[p], &px, &py);
        uint64_t *mine = cells + k * rd->ncell;
        if (!rp_sample_kernel_cells(rd->grid, rd->method, rd->window, px, py, mine, &rd->at[k]))
            for (size_t j = 0; j < rd->ncell; j++)
                mine[j] = RP_CELL_OUTSIDE;
    }
    if (rp_plan_build_cells_pool(cplan, rd->grid, cells, n, pool) != 0)
        return rp_error_set(err, RP_NOMEM, "out of memory planning %zu kernel cells", n);
    return RP_OK;
}

static void free_cells(sample_round *rd) {
    for (int b = 0; rd->cells && b < rd->nbands; b++) {
        free(rd->cells[b].values);
        free(rd->cells[b].status);
    }
    free(rd->cells);
    rd->cells = NULL;
}

/* Reads one round's cells and applies the kernels. */
static rp_status run_round(sample_round *rd, rp_pool *pool, const double *rx, const double *ry,
                           const rp_extract_raster *raster, const rp_extract_options *opts,
                           rp_extract_read_stats *stats, rp_error *err) {
    rp_plan cplan;
    size_t n = rd->npoints * rd->ncell;
    rp_status rc = plan_cells(rd, pool, rx, ry, &cplan, err);
    if (rc != RP_OK)
        return rc;
    rd->cells = calloc((size_t)rd->nbands, sizeof *rd->cells);
    rp_value_column **cols = calloc((size_t)rd->nbands, sizeof *cols);
    rc = rd->cells && cols ? RP_OK : rp_error_set(err, RP_NOMEM, "out of memory");
    for (int b = 0; rc == RP_OK && b < rd->nbands; b++) {
        rp_value_column *c = &rd->cells[b];
        *c = rd->s->bands[rd->bands[b]]; /* borrows the names; only values are owned */
        c->values = calloc(n ? n : 1, (size_t)c->band.type_size);
        c->status = malloc(n ? n : 1);
        if (!c->values || !c->status)
            rc = rp_error_set(err, RP_NOMEM, "out of memory for %zu kernel cells", n);
        else
            memset(c->status, RP_POINT_OUTSIDE, n ? n : 1);
        cols[b] = c;
    }
    if (rc == RP_OK)
        rc = rp_extract_read_raster(pool, raster, &cplan, cols, rd->nbands, opts, stats, err);
    rp_plan_free(&cplan);
    if (rc == RP_OK) {
        rp_pool_job pj = {.ntasks = (rd->npoints + POINTS_PER_TASK - 1) / POINTS_PER_TASK,
                          .ctx = rd,
                          .run = apply_task};
        rc = pj.ntasks ? rp_pool_run(pool, &pj, err) : RP_OK;
    }
    free(cols);
    free_cells(rd);
    return rc;
}

/* Points a round holds: ROUND_BYTES of cell state, at least one point. */
static size_t round_points(const sample_round *rd) {
    size_t per_cell = 12;
    for (int b = 0; b < rd->nbands; b++)
        per_cell += (size_t)rd->s->bands[rd->bands[b]].band.type_size + 1;
    size_t per_point = rd->ncell * per_cell + sizeof(rp_kernel_at);
    size_t m = ROUND_BYTES / per_point;
    size_t max_plan = RP_PLAN_MAX_POINTS / rd->ncell;
    m = m < max_plan ? m : max_plan;
    return m ? m : 1;
}

static void init_round(sample_round *rd, const rp_extract_setup *s, int r,
                       const rp_extract_options *opts) {
    memset(rd, 0, sizeof *rd);
    rd->s = s;
    rd->grid = &s->rasters[r].info.grid;
    rd->window = opts->window;
    rd->method = rp_sample_effective_method((rp_sample_method)opts->method, rd->grid->width,
                                            rd->grid->height);
    rd->policy = (rp_nodata_policy)opts->nodata_policy;
    int side = rp_sample_kernel_side(rd->method, rd->window);
    rd->ncell = (size_t)side * (size_t)side;
}

size_t rp_sample_round_points(const rp_extract_setup *s, int r) {
    sample_round rd;
    init_round(&rd, s, r, s->sample);
    int bands[1] = {0};
    for (int b = 0; b < s->nbands && !rd.nbands; b++)
        if (s->bands[b].raster == r)
            bands[0] = b, rd.nbands = 1;
    rd.bands = bands;
    return round_points(&rd);
}

/* --plan plans every kernel cell at once, up to this many. */
#define PLAN_MAX_CELLS ((size_t)1 << 26)

int rp_sample_cell_plan(const rp_extract_setup *s, int r, const rp_plan *plan, const double *rx,
                        const double *ry, rp_plan *cells) {
    sample_round rd;
    init_round(&rd, s, r, s->sample);
    if (plan->inside > PLAN_MAX_CELLS / rd.ncell)
        return -1;
    rd.points = plan->order;
    rd.npoints = plan->inside;
    rd.at = malloc((plan->inside + 1) * sizeof *rd.at);
    rp_error err;
    rp_error_clear(&err);
    int rc = rd.at && plan_cells(&rd, NULL, rx, ry, cells, &err) == RP_OK ? 0 : -1;
    free(rd.at);
    return rc;
}

/* One progress bar over the rounds: round k of n covers [k/n, (k+1)/n]. */
typedef struct round_progress {
    rp_progress_fn fn;
    void *user;
    size_t index, count;
} round_progress;

static int scale_progress(double fraction, const char *message, void *user) {
    round_progress *p = user;
    return p->fn(((double)p->index + fraction) / (double)p->count, message, p->user);
}

rp_status rp_sample_read_raster(rp_pool *pool, rp_extract_setup *s, int r, const rp_plan *plan,
                                const double *rx, const double *ry, const rp_extract_options *opts,
                                rp_extract_read_stats *stats, rp_error *err) {
    sample_round rd;
    init_round(&rd, s, r, s->sample);
    rd.bands = malloc((size_t)(s->nbands ? s->nbands : 1) * sizeof *rd.bands);
    if (!rd.bands)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    for (int b = 0; b < s->nbands; b++)
        if (s->bands[b].raster == r)
            rd.bands[rd.nbands++] = b;
    size_t per_round = round_points(&rd);
    rd.at = malloc((per_round < plan->inside ? per_round : plan->inside + 1) * sizeof *rd.at);
    rp_status rc = rd.at ? RP_OK : rp_error_set(err, RP_NOMEM, "out of memory");
    round_progress progress = {opts->progress, opts->progress_user, 0,
                               (plan->inside + per_round - 1) / per_round};
    rp_extract_options round_opts = *opts;
    if (opts->progress) {
        round_opts.progress = scale_progress;
        round_opts.progress_user = &progress;
    }
    for (size_t first = 0; rc == RP_OK && first < plan->inside; first += per_round) {
        rd.points = plan->order + first;
        rd.npoints = plan->inside - first < per_round ? plan->inside - first : per_round;
        rc = run_round(&rd, pool, rx, ry, &s->rasters[r], &round_opts, stats, err);
        progress.index++;
    }
    free(rd.at);
    free(rd.bands);
    return rc;
}
