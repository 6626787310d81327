/*
 * zonal_options.c — the zonal command line, parsed into options by core's
 * table-driven parser (argv.c), the same for the CLI and C callers.
 *
 * Threads: none. Ownership: the options own copies of every string.
 */
#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "error.h"
#include "remote.h"
#include "zonal_internal.h"

enum { RP_ZONAL_MAX_THREADS = 1024 };

static const char help_text[] =
    "usage: rasterpool zonal RASTER [RASTER...] --polygons FILE -s OP [-s OP...] [-o FILE] "
    "[options]\n"
    "\n"
    "Statistics of a raster over polygons, with exact coverage fractions: each\n"
    "cell counts by the share of its area the polygon covers. The polygons' blocks\n"
    "are planned first, then every touched block is decoded once, however many\n"
    "polygons touch it, by worker threads that each own their GDAL handles.\n"
    "\n"
    "Inputs:\n"
    "  RASTER...          one raster or several, on any grids: the rasters on one\n"
    "                     grid (size, geotransform, CRS) are read together with one\n"
    "                     coverage computation, each grid in turn, the polygons\n"
    "                     transformed to each grid's CRS (a north-up geotransform is\n"
    "                     needed: GCP/RPC-only rasters are refused; gdalwarp them)\n"
    "                     A VRT mosaic is read from its source files (each source\n"
    "                     block once) when its sources are plain 1:1 copies, else\n"
    "                     through GDAL's VRT driver (--plan says which, and why).\n"
    "                     Remote rasters (/vsicurl/, /vsis3/, ..., http(s) URLs):\n"
    "                     32 I/O workers unless -j, adjacent blocks in one request\n"
    "  --polygons FILE    polygons: any vector dataset GDAL can open (.gpkg, .shp,\n"
    "                     .geojson, .fgb, a CSV with a WKT column, ...); they are\n"
    "                     transformed to the raster's CRS\n"
    "  --layer NAME       layer of the polygons file (default: the first)\n"
    "  -b, --band N       band (repeat for several; default: all)\n"
    "  --weights FILE     weights raster on the rasters' grid (all of them on one),\n"
    "                     for weighted_sum, weighted_mean, weighted_variance,\n"
    "                     weighted_stdev and weighted_frac (band 1)\n"
    "\n"
    "Statistics (-s, repeatable; exactextract's names and meanings):\n"
    "  -s OP              count, sum, mean, min, max, variance, stdev,\n"
    "                     coefficient_of_variation, majority, minority, variety,\n"
    "                     median, quantile(q=Q), weighted_sum, weighted_mean,\n"
    "                     weighted_variance, weighted_stdev, min_center_x,\n"
    "                     min_center_y, max_center_x, max_center_y, frac and\n"
    "                     weighted_frac (one column per distinct value: frac_<v>)\n"
    "                     List-valued, over the covered valid cells in raster\n"
    "                     order: values, coverage, cell_id (row * width + col),\n"
    "                     center_x, center_y; unique (distinct values,\n"
    "                     increasing). CSV: a JSON array in one field\n"
    "                     (\"[1,2.5,3]\"); vector formats: a RealList field where\n"
    "                     the driver has them (GeoJSON), else that text\n"
    "  -s NAME=OP(ARGS)   NAME names the column; ARGS, comma-separated:\n"
    "                     min_coverage_frac=F (leave out cells covered less),\n"
    "                     coverage_weight=fraction|none|area_cartesian|\n"
    "                     area_spherical_m2|area_spherical_km2 (the cell's area on\n"
    "                     a sphere of radius 6378137 m: lon/lat rasters only),\n"
    "                     default_value=V (the value of nodata cells), q=Q\n"
    "\n"
    "Output:\n"
    "  -o, --output FILE  output table, one row per polygon in input order.\n"
    "                     Default: CSV on standard output. The extension picks the\n"
    "                     format: .csv, or any GDAL vector format (.gpkg, .geojson,\n"
    "                     .shp (a .dbf without --include-geom), .fgb (needs\n"
    "                     --include-geom)); staged and renamed into place when\n"
    "                     complete\n"
    "  --include-col NAME carry this attribute (repeatable; default: all)\n"
    "  --fid              a first column 'fid' with each feature's FID (with\n"
    "                     --include-col, to join back to the polygons)\n"
    "  --include-geom     write each polygon's input geometry too (its own CRS): a\n"
    "                     geometry in vector formats, a WKT column in CSV\n"
    "  --status           add a status column: ok, no_cells, outside, no_geometry,\n"
    "                     invalid, repaired, read_error, over_memory\n"
    "  Columns: the attributes, then one per statistic and band: <name>;\n"
    "  b<N>_<name> for several bands; <stem>_<name> (or <stem>_b<N>_<name>) for\n"
    "  several rasters. A polygon with no valid cell has empty values.\n"
    "\n"
    "Execution:\n"
    "  -j, --threads N    worker threads (default: the CPUs this process may use;\n"
    "                     32 for remote rasters)\n"
    "  --plan             print the plan (polygons, touched blocks, cells, memory)\n"
    "                     and exit without reading pixels\n"
    "  --max-memory SIZE  cap on what the job holds (512M, 2G): its fixed part\n"
    "                     (blocks per worker, statistics per (polygon, block),\n"
    "                     vertices) is checked before any pixel is read (over it:\n"
    "                     exit 2); a polygon whose value lists (median, quantile,\n"
    "                     majority, values, ...) alone need more fails alone\n"
    "                     (status over_memory, exit 1); value lists together\n"
    "                     over it stop the job (exit 3). Default: no cap\n"
    "  --config KEY VALUE set a GDAL configuration option (repeatable)\n"
    "  --shard I/N        only part I (0-based) of N: the I-th of N contiguous,\n"
    "                     equal runs of the polygons, each part with the header;\n"
    "                     parts 0..N-1 concatenated (headers after the first\n"
    "                     dropped) are the whole output, except with frac or\n"
    "                     weighted_frac (columns by the values found in the part)\n"
    "                     (docs/cluster.md)\n"
    "  -v, --verbose      a summary on stderr\n"
    "  -q, --quiet        no progress bar\n"
    "  -h, --help         this help\n"
    "\n"
    "Exit status: 0 done; 1 done, but some polygons failed (invalid geometry,\n"
    "unreadable blocks; each reported on stderr); 2 usage error; 3 an input\n"
    "cannot be opened; 130 interrupted.\n"
    "\n"
    "Examples:\n"
    "  rasterpool zonal dem.tif --polygons basins.gpkg -s mean -s min -s max -o s.csv\n"
    "  rasterpool zonal lc.tif --polygons d.geojson -s majority -s variety\n"
    "  rasterpool zonal pop.tif --polygons d.gpkg --weights area.tif -s weighted_sum\n"
    "  rasterpool zonal dem.tif --polygons huge.gpkg -s \"p90=quantile(q=0.9)\" --plan\n";

RP_API const char *rp_zonal_help(void) {
    return help_text;
}

RP_API void rp_zonal_options_free(rp_zonal_options *o) {
    if (!o)
        return;
    free(o->raster);
    rp_argv_free_list(o->rasters, o->nrasters);
    free(o->bands);
    free(o->polygons_path);
    free(o->layer);
    free(o->output_path);
    free(o->weights_path);
    rp_argv_free_list(o->include_cols, o->ninclude_cols);
    for (int i = 0; i < o->nstats; i++)
        free(o->stats[i].name);
    free(o->stats);
    rp_argv_free_list(o->config, o->nconfig * 2);
    rp_log_free(o->logger);
    free(o);
}

/* A raster argument: bare URLs get /vsicurl/ in front (as extract's), so
 * a VRT's relative sources resolve to URLs too. */
static rp_status add_raster(void *target, void *ctx, const char *arg, rp_error *err) {
    (void)ctx;
    rp_zonal_options *o = target;
    char *path = rp_remote_gdal_path(arg);
    bool ok = path && (o->raster || rp_argv_set_string(&o->raster, path) == 0) &&
              rp_argv_append(&o->rasters, &o->nrasters, path) == 0;
    free(path);
    return ok ? RP_OK : rp_error_set(err, RP_NOMEM, "out of memory");
}

static rp_status add_band(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    rp_zonal_options *o = target;
    int band;
    if (!rp_argv_parse_int(v, 1, INT_MAX, &band))
        return rp_error_set(err, RP_USAGE, "-b/--band: '%s' is not a band number (1, 2, ...)", v);
    int *grown = realloc(o->bands, (size_t)(o->nbands + 1) * sizeof *grown);
    if (!grown)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    o->bands = grown;
    o->bands[o->nbands++] = band;
    return RP_OK;
}

static rp_status add_stat(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    rp_zonal_options *o = target;
    zonal_stat s;
    rp_status rc = zonal_stat_parse(v, &s, err);
    if (rc != RP_OK)
        return rc;
    zonal_stat *grown = realloc(o->stats, (size_t)(o->nstats + 1) * sizeof *grown);
    if (!grown) {
        free(s.name);
        return rp_error_set(err, RP_NOMEM, "out of memory");
    }
    o->stats = grown;
    o->stats[o->nstats++] = s;
    return RP_OK;
}

/* --max-memory SIZE: bytes, or with a K, M, G or T suffix (powers of
 * 1024; "512M", "2G", "1.5G"). */
static rp_status set_max_memory(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    rp_zonal_options *o = target;
    static const char units[] = "KMGT";
    char *end = NULL;
    double n = strtod(v, &end), unit = 1;
    const char *u = end && *end ? strchr(units, toupper((unsigned char)*end)) : NULL;
    if (u) {
        for (const char *q = units; q <= u; q++)
            unit *= 1024;
        end++;
        end += *end == 'i';
    }
    if (end && *end == 'B')
        end++;
    if (!end || end == v || *end || !(n * unit >= 1) || n * unit > 9.0e18)
        return rp_error_set(err, RP_USAGE,
                            "--max-memory: '%s' is not a size (bytes, or a number with K, M, G "
                            "or T: 512M, 2G)",
                            v);
    o->max_memory = (uint64_t)(n * unit);
    return RP_OK;
}

static rp_status add_col(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    rp_zonal_options *o = target;
    if (rp_argv_append(&o->include_cols, &o->ninclude_cols, v) != 0)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    return RP_OK;
}

static rp_status set_shard(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    return rp_shard_parse(v, "--shard", &((rp_zonal_options *)target)->shard, err);
}

#define FIELD(name) offsetof(rp_zonal_options, name)
static const rp_opt zonal_opt_table[] = {
    RP_ARGV_COMMON_OPTIONS(rp_zonal_options, "--threads", threads, RP_ZONAL_MAX_THREADS),
    {.long_name = "--polygons",
     .kind = RP_OPT_STRING,
     .offset = FIELD(polygons_path),
     .metavar = "FILE",
     .help = "polygons (any OGR vector)"},
    {.long_name = "--layer",
     .kind = RP_OPT_STRING,
     .offset = FIELD(layer),
     .metavar = "NAME",
     .help = "layer of the polygons"},
    {.long_name = "--output",
     .short_name = "-o",
     .kind = RP_OPT_STRING,
     .offset = FIELD(output_path),
     .metavar = "FILE",
     .help = "output table (default: stdout)"},
    {.long_name = "--weights",
     .kind = RP_OPT_STRING,
     .offset = FIELD(weights_path),
     .metavar = "FILE",
     .help = "weights raster"},
    {.long_name = "--band",
     .short_name = "-b",
     .kind = RP_OPT_CALL,
     .metavar = "N",
     .help = "band (repeatable)",
     .handle = add_band},
    {.long_name = "--stat",
     .short_name = "-s",
     .kind = RP_OPT_CALL,
     .metavar = "OP",
     .help = "statistic (repeatable)",
     .handle = add_stat},
    {.long_name = "--include-col",
     .kind = RP_OPT_CALL,
     .metavar = "NAME",
     .help = "attribute to carry (repeatable)",
     .handle = add_col},
    {.long_name = "--status",
     .kind = RP_OPT_FLAG,
     .offset = FIELD(status_column),
     .help = "a status column"},
    {.long_name = "--fid",
     .kind = RP_OPT_FLAG,
     .offset = FIELD(fid),
     .help = "the feature's FID as the first column"},
    {.long_name = "--include-geom",
     .kind = RP_OPT_FLAG,
     .offset = FIELD(include_geom),
     .help = "write the polygons' geometry too"},
    {.long_name = "--max-memory",
     .kind = RP_OPT_CALL,
     .metavar = "SIZE",
     .help = "cap on the memory a job holds",
     .handle = set_max_memory},
    {.long_name = "--plan", .kind = RP_OPT_FLAG, .offset = FIELD(plan_only), .help = "plan only"},
    {.long_name = "--shard",
     .kind = RP_OPT_CALL,
     .metavar = "I/N",
     .help = "only part I of N of the polygons (job arrays)",
     .handle = set_shard},
    {.long_name = NULL},
};
#undef FIELD

static rp_status check_options(rp_zonal_options *o, rp_error *err) {
    if (!o->raster)
        return rp_error_set(err, RP_USAGE, "no raster given (see rasterpool zonal --help)");
    if (!o->polygons_path)
        return rp_error_set(err, RP_USAGE, "no --polygons given (see rasterpool zonal --help)");
    if (o->nstats == 0)
        return rp_error_set(err, RP_USAGE,
                            "no statistic given: add -s mean (or count, sum, min, max, ...)");
    for (int i = 0; i < o->nstats; i++)
        if (zonal_op_needs_weights(o->stats[i].op) && !o->weights_path)
            return rp_error_set(err, RP_USAGE, "-s %s needs --weights FILE", o->stats[i].name);
    o->include_all_cols = o->ninclude_cols == 0;
    return RP_OK;
}

RP_API rp_zonal_options *rp_zonal_options_new(int argc, const char *const *argv, rp_cli_flags *cli,
                                              rp_error *err) {
    rp_argv_cli_clear(cli);
    rp_zonal_options *o = calloc(1, sizeof *o);
    if (!o) {
        rp_error_set(err, RP_NOMEM, "out of memory");
        return NULL;
    }
    o->log = stderr;
    rp_argv_parser parser = {.command = "zonal",
                             .options = zonal_opt_table,
                             .target = o,
                             .cli = cli,
                             .positional = add_raster,
                             .dashdash = RP_ARGV_DASHDASH_POSITIONAL};
    rp_argv_result r = rp_argv_parse(&parser, argc, argv, 1, NULL, err);
    if (r == RP_ARGV_DONE && check_options(o, err) != RP_OK)
        r = RP_ARGV_FAILED;
    if (r != RP_ARGV_DONE) {
        if (r == RP_ARGV_HELP)
            rp_error_clear(err);
        rp_zonal_options_free(o);
        return NULL;
    }
    return o;
}

RP_API void rp_zonal_options_set_progress(rp_zonal_options *o, rp_progress_fn fn, void *user) {
    o->progress = fn;
    o->progress_user = user;
}

RP_API rp_status rp_zonal_options_set_log(rp_zonal_options *o, rp_log_fn fn, void *user) {
    return rp_log_replace(&o->logger, &o->log, &o->info, fn, user);
}

RP_API void rp_zonal_options_set_plan_output(rp_zonal_options *o, FILE *out) {
    o->plan_out = out;
}
