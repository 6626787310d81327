/*
 * zonal.c — rp_zonal_run: the raster, the polygons, the plan (printed and
 * done with --plan), the pool over the blocks, the merge and the table.
 * A GDAL error capture is pushed for the run on the caller's thread.
 *
 * Threads: the caller's; zonal_exec runs the pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crs.h"
#include "error.h"
#include "gdal_config.h"
#include "output_guard.h"
#include "table_write.h"
#include "zonal_internal.h"
#include "zonal_read.h"

/* A shapefile is several files: "x.shp" -> "x.dbf" / "x.shx" in buf; false
 * for any other path. */
static bool shp_sibling(const char *path, const char *ext, char *buf, size_t cap) {
    size_t n = path ? strlen(path) : 0;
    if (n < 4 || strcasecmp(path + n - 4, ".shp") != 0 || n >= cap)
        return false;
    snprintf(buf, cap, "%.*s%s", (int)(n - 4), path, ext);
    return true;
}

/* The output (and a shapefile output's .dbf and .shx) is none of the
 * inputs: the rasters, the weights, the polygons (a shapefile's .dbf and
 * .shx too). Checked before any work: the job would overwrite what it
 * reads (issue 17). */
static rp_status check_not_input(const rp_zonal_options *o, rp_error *err) {
    enum { SIB = 2 };
    static const char *const exts[SIB] = {".dbf", ".shx"};
    size_t n = (size_t)o->nrasters + 2 + SIB;
    const char **in = calloc(n, sizeof *in);
    char sib[SIB][4096], out_sib[SIB][4096];
    if (!in)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    for (int k = 0; k < o->nrasters; k++)
        in[k] = o->rasters[k];
    in[o->nrasters] = o->weights_path;
    in[o->nrasters + 1] = o->polygons_path;
    for (int i = 0; i < SIB; i++)
        if (shp_sibling(o->polygons_path, exts[i], sib[i], sizeof sib[i]))
            in[o->nrasters + 2 + i] = sib[i];
    rp_status rc = rp_check_output_not_input(o->output_path, in, n, err);
    for (int i = 0; i < SIB && rc == RP_OK; i++)
        if (shp_sibling(o->output_path, exts[i], out_sib[i], sizeof out_sib[i]))
            rc = rp_check_output_not_input(out_sib[i], in, n, err);
    free(in);
    return rc;
}

static void fill_report(rp_zonal_report *rep, const zonal_polys *p, uint64_t blocks_read,
                        uint64_t blocks_failed, int threads) {
    memset(rep, 0, sizeof *rep);
    rep->polygons = p->n;
    for (size_t i = 0; i < p->n; i++) {
        zonal_status s = p->feats[i].status;
        if (s == ZST_OK)
            rep->polygons_ok++;
        else if (s == ZST_INVALID || s == ZST_REPAIRED || s == ZST_READ_ERROR ||
                 s == ZST_OVER_MEMORY)
            rep->polygons_failed++;
        else
            rep->polygons_empty++;
    }
    rep->blocks_read = blocks_read;
    rep->blocks_failed = blocks_failed;
    rep->threads = threads;
}

/* One grid's pass: the polygons on it (grid 0's were prepared when read),
 * its plan (printed with --plan), the workers over its blocks, and its
 * statistics merged into the table. */
static rp_status run_grid(const rp_zonal_options *o, const zonal_raster *r, int g, zonal_polys *p,
                          zonal_table *t, zonal_budget *budget, rp_zonal_report *rep,
                          rp_error *err) {
    zonal_raster view;
    int *band_global = malloc((size_t)r->nbands * sizeof *band_global);
    rp_status rc = band_global ? zonal_raster_view(r, g, &view, band_global, err)
                               : rp_error_set(err, RP_NOMEM, "out of memory");
    if (rc != RP_OK) {
        free(band_global);
        return rc;
    }
    /* VRT bands read from their source files: may change the view's block
     * grid, so before planning (zonal_read.h) */
    rc = zonal_sources_open(o, &view, err);
    if (rc == RP_OK && g > 0 && !p->srs && !rp_crs_same_or_both_none(r->info.srs, view.info.srs))
        rc = rp_error_set(err, RP_USAGE,
                          "%s has no CRS, and the rasters are in different CRSs (%s, %s): "
                          "its coordinates cannot be in both; give the polygons their CRS "
                          "(ogr2ogr -a_srs)",
                          o->polygons_path, o->raster, view.info.path);
    else if (rc == RP_OK && g > 0)
        rc = zonal_polys_regrid(o, &view, p, err);
    zonal_plan plan;
    memset(&plan, 0, sizeof plan);
    if (rc == RP_OK)
        rc = zonal_plan_build(&view, p, &plan, err);
    if (rc == RP_OK)
        rc = zonal_sources_prepare(o, &view, &plan, err);
    if (rc == RP_OK)
        rc = zonal_budget_plan(o, &view, r->nbands, p, &plan, budget, err);
    if (rc == RP_OK && o->plan_only) {
        zonal_plan_print(o, &view, p, &plan, o->plan_out);
        zonal_sources_print(o, &view, o->plan_out);
    } else if (rc == RP_OK) {
        zonal_results res = {0};
        rc = o->exec_hook
                 ? o->exec_hook->exec(o->exec_hook, o, &view, p, &plan, g, budget, &res, err)
                 : zonal_exec(o, &view, p, &plan, budget, &res, err);
        if (rc == RP_OK && !o->no_output)
            rc = zonal_table_add(t, &view, band_global, p, &plan, &res, err);
        rep->blocks_read += res.blocks_read;
        rep->blocks_failed += res.blocks_failed;
        int threads = zonal_read_threads(o, &view);
        rep->threads = threads > rep->threads ? threads : rep->threads;
        if (o->info && view.sources->any_direct)
            fprintf(o->info, "zonal: %llu VRT source blocks decoded (%llu touched)\n",
                    (unsigned long long)atomic_load(&view.sources->src_blocks_read),
                    (unsigned long long)view.sources->src_blocks_touched);
        zonal_results_free(&res, plan.npairs * (size_t)view.nbands * (size_t)o->nstats);
    }
    zonal_plan_free(&plan);
    zonal_sources_free(view.sources);
    zonal_raster_view_free(&view);
    free(band_global);
    return rc;
}

static rp_status run_job(const rp_zonal_options *o, zonal_raster *r, zonal_polys *p,
                         rp_zonal_report *rep, rp_error *err) {
    zonal_table t = {.o = o, .r = r, .p = p};
    rp_zonal_report blocks = {0};
    zonal_budget budget = {.cap = o->max_memory};
    atomic_init(&budget.lists, 0);
    bool table = !o->plan_only && !o->no_output;
    rp_status rc = table ? zonal_table_begin(&t, p->n, err) : RP_OK;
    for (int g = 0; g < r->ngrids && rc == RP_OK; g++)
        rc = run_grid(o, r, g, p, &t, &budget, &blocks, err);
    if (!table || rc != RP_OK) {
        zonal_table_free(&t);
        return rc;
    }
    rc = zonal_table_finish(&t, p, err);
    if (rc == RP_OK)
        rc = zonal_write_table(&t, err);
    zonal_table_free(&t);
    fill_report(rep, p, blocks.blocks_read, blocks.blocks_failed, blocks.threads);
    if (rc == RP_OK && rep->polygons_failed > 0)
        rc = rp_error_set(err, RP_PARTIAL,
                          "%llu polygon(s) failed or were repaired (see the warnings above)",
                          (unsigned long long)rep->polygons_failed);
    if (o->info)
        fprintf(o->info,
                "zonal: %llu polygons (%llu with values, %llu empty, %llu failed), %llu "
                "blocks read, %llu failed\n",
                (unsigned long long)rep->polygons, (unsigned long long)rep->polygons_ok,
                (unsigned long long)rep->polygons_empty, (unsigned long long)rep->polygons_failed,
                (unsigned long long)rep->blocks_read, (unsigned long long)rep->blocks_failed);
    return rc;
}

RP_API rp_status rp_zonal_run(const rp_zonal_options *o, rp_zonal_report *report, rp_error *err) {
    rp_zonal_report local;
    rp_zonal_report *rep = report ? report : &local;
    memset(rep, 0, sizeof *rep);
    rp_gdal_config_apply((const char *const *)o->config, o->nconfig, true);
    zonal_raster r;
    zonal_polys p;
    memset(&p, 0, sizeof p);
    bool output = !o->plan_only && !o->no_output;
    rp_status rc = output ? check_not_input(o, err) : RP_OK;
    if (rc == RP_OK && output)
        rc = rp_table_check_output(o->output_path, err);
    memset(&r, 0, sizeof r);
    if (rc == RP_OK)
        rc = zonal_raster_open(o, &r, err);
    if (rc == RP_OK)
        rc = zonal_polys_read(o, &r, &p, err);
    if (rc == RP_OK)
        rc = run_job(o, &r, &p, rep, err);
    zonal_polys_free(&p);
    zonal_raster_free(&r);
    rp_gdal_config_apply((const char *const *)o->config, o->nconfig, false);
    return rc;
}
