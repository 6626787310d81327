/*
 * extract_options.c — the extract command line, parsed into options.
 *
 * One parser serves the CLI and C callers (GDAL's *OptionsNew(argv) shape):
 * the option table below, read by core's table-driven parser (argv.c), which
 * takes `--name value`, `--name=value`, `-n value` and `-nVALUE`. Options may
 * come before or after the rasters; `--` ends options. Every error names the
 * option.
 *
 * Threads: none. Ownership: the options own copies of every string.
 */
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "error.h"
#include "extract_internal.h"
#include "georef.h"
#include "log.h"
#include "remote.h"

enum { RP_MAX_THREADS = 1024 };

static const char help_text[] =
    "usage: rasterpool extract RASTER [RASTER...] [--points FILE|-] [-o FILE] [options]\n"
    "\n"
    "Reads the values of one or more rasters at points. Points are grouped by the\n"
    "raster block that holds them, so every touched block is decoded once, and\n"
    "blocks are read in parallel by workers that each own their GDAL handles.\n"
    "\n"
    "Points and output:\n"
    "  --points FILE      points: a CSV file with a header, or any vector dataset\n"
    "                     GDAL can open (.gpkg, .shp, .geojson, .fgb, ...; Point or\n"
    "                     one-point MultiPoint geometries). Default and '-': CSV on\n"
    "                     standard input.\n"
    "  -o, --output FILE  output table. Default: CSV on standard output. The\n"
    "                     extension picks the format: .csv (text), or any GDAL\n"
    "                     vector format (.gpkg, .fgb, .geojson, .shp, ...).\n"
    "  --x-col NAME       CSV column of x (default: found by name among x/y,\n"
    "  --y-col NAME       lon/lat, longitude/latitude, easting/northing, POINT_X/\n"
    "                     POINT_Y, xcoord/ycoord, any case; else a WKT column named\n"
    "                     WKT or geometry holding POINTs, as ogr2ogr AS_WKT writes)\n"
    "  --layer NAME       layer of a vector points file (default: the first)\n"
    "  --points-crs CRS   CRS of the points (EPSG:4326, WKT, PROJ string, ...); they\n"
    "                     are transformed to each raster's CRS. Without it, CSV\n"
    "                     points are taken to be in the raster's CRS, and vector\n"
    "                     points in the CRS their file declares.\n"
    "\n"
    "Values:\n"
    "  -b, --band N       band to read (repeat for several; default: all bands)\n"
    "  --status           add a status column after each value column: ok, nodata,\n"
    "                     outside or error\n"
    "  --method M         nearest (default: the cell's value), bilinear, cubic or\n"
    "                     cubicspline: interpolated as GDAL >= 3.10 does (kernel on\n"
    "                     cell centres, clamped into the raster), as a float\n"
    "  --nodata-policy P  nodata or masked cells in a kernel: gdal (default:\n"
    "                     bilinear gives none if any of its 4 cells is nodata, cubic\n"
    "                     skips them and renormalises), renormalize (both skip and\n"
    "                     renormalise) or strict (none if any cell is nodata)\n"
    "  --window N         the N x N cells centred on the point's cell (N odd, 1 to\n"
    "                     101); cells off the raster, nodata, masked or NaN are left\n"
    "                     out of the statistics\n"
    "  --window-stat S    mean (default), min, max, sum, count, stdev, median, or\n"
    "                     values (the N x N values, row-major); repeatable; columns\n"
    "                     b1_mean, b1_count, ..., b1_w3_1 ... b1_w3_9\n"
    "  --unscale          apply each band's scale and offset (value * scale +\n"
    "                     offset, written as Float64), as terra does; without it\n"
    "                     the stored values are written, as gdallocationinfo does\n"
    "  --names desc       name value columns by band description (B08, ...) where\n"
    "                     the band has one, else b<N> (default: --names band)\n"
    "  Output keeps every input column and row in input order, then one column per\n"
    "  (raster, band): b1, b2, ... for one raster; <file stem>_b<N> for several;\n"
    "  a subdataset's stem has its variable (NETCDF:\"f.nc\":pr: f_pr_b1).\n"
    "  Values are exact: integers as integers, floats as the shortest text that\n"
    "  reads back to the same value, complex values as 1-2i. Nodata, masked\n"
    "  pixels and points off the raster are empty fields. A cell is the\n"
    "  half-open square it covers (decided exactly near edges of rotated grids);\n"
    "  points on the raster's right and bottom edges are inside. Signed bytes\n"
    "  (PIXELTYPE=SIGNEDBYTE) are read as -128..127.\n"
    "\n"
    "Rasters without a geotransform (GCPs, RPCs or geolocation arrays only, or\n"
    "nothing) are refused unless you say how points reach their pixels:\n"
    "  --transformer M    gcp (GDAL's GCP polynomial), gcp_tps (thin plate spline),\n"
    "                     rpc, geoloc (geolocation arrays): points are moved to the\n"
    "                     CRS of the GCPs / WGS 84 / the arrays' SRS, then to pixel/\n"
    "                     line by GDAL's transformer; pixel: the points are\n"
    "                     pixel/line coordinates. Rasters with a geotransform use it.\n"
    "  --to KEY=VALUE     an option of GDAL's transformer, as gdalwarp -to\n"
    "                     (RPC_DEM=dem.tif, RPC_HEIGHT=100, MAX_GCP_ORDER=2, ...)\n"
    "\n"
    "Execution:\n"
    "  -j, --threads N    worker threads (default: the CPUs this process may use,\n"
    "                     counting cgroup quotas and the affinity mask); remote\n"
    "                     jobs use --io-threads instead\n"
    "  --max-open N       datasets each worker keeps open (default: 64; lowered to\n"
    "                     fit the open-files limit when reading a VRT's sources)\n"
    "  --io-threads N     worker threads when a raster or a VRT source is remote\n"
    "                     (/vsicurl/, /vsis3/, /vsigs/, /vsiaz/, http(s)://): reads\n"
    "                     wait on the network, so more run at once (default: 32;\n"
    "                     when a round trip takes 50 ms or more, grown for a\n"
    "                     raster's read to one a run of touched blocks, at most 128\n"
    "                     and 384 MiB in flight, so its requests go out in one\n"
    "                     round trip; N fixes the count)\n"
    "  --plan             print what would be read (points inside/outside, blocks\n"
    "                     touched, estimated bytes) and exit without reading pixels\n"
    "                     (exit 0; bad rows are counted in the report)\n"
    "  --config KEY VALUE set a GDAL configuration option (repeatable)\n"
    "  --shard I/N        only part I (0-based) of N: the I-th of N contiguous,\n"
    "                     equal runs of the input rows, each part with the header;\n"
    "                     parts 0..N-1 concatenated (headers after the first\n"
    "                     dropped) are the whole output (docs/cluster.md)\n"
    "  -v, --verbose      print a summary with the time of each phase on stderr\n"
    "  -q, --quiet        no progress bar (it shows on a terminal for long jobs)\n"
    "  -h, --help         this help\n"
    "\n"
    "Exit status: 0 done; 1 done, but some rows or blocks failed, or a raster's CRS\n"
    "cannot be reached from the points' (their values are empty, status error,\n"
    "and each is reported on stderr); 2 usage error; 3 an input cannot be opened\n"
    "or read at all; 130 interrupted.\n"
    "\n"
    "Examples:\n"
    "  rasterpool extract dem.tif --points pts.csv -o values.csv\n"
    "  cat pts.csv | rasterpool extract a.tif b.tif -b 1 -b 3 --threads 8 > out.csv\n"
    "  rasterpool extract dem.tif --points sites.gpkg --points-crs EPSG:4326 -o v.gpkg\n"
    "  rasterpool extract dem.tif --points pts.csv --plan\n"
    "  rasterpool extract dem.tif --points track.csv --method bilinear -o z.csv\n"
    "  rasterpool extract ndvi.tif --points plots.csv --window 5 --window-stat mean\n"
    "                     --window-stat stdev -o plots_ndvi.csv\n";

RP_API const char *rp_extract_help(void) {
    return help_text;
}

RP_API void rp_extract_options_free(rp_extract_options *o) {
    if (!o)
        return;
    rp_argv_free_list(o->rasters, o->nrasters);
    free(o->bands);
    free(o->points_path);
    free(o->output_path);
    free(o->x_col);
    free(o->y_col);
    free(o->layer);
    free(o->points_crs);
    rp_argv_free_list(o->config, o->nconfig * 2);
    rp_argv_free_list(o->transform_options, o->ntransform_options);
    rp_log_free(o->logger);
    free(o);
}

/* A raster argument: bare URLs get /vsicurl/ in front. */
static rp_status add_raster(void *target, void *ctx, const char *arg, rp_error *err) {
    (void)ctx;
    rp_extract_options *o = target;
    char *path = rp_remote_gdal_path(arg);
    if (!path || rp_argv_append(&o->rasters, &o->nrasters, path) != 0) {
        free(path);
        return rp_error_set(err, RP_NOMEM, "out of memory");
    }
    o->remote = o->remote || rp_path_is_remote(arg);
    free(path);
    return RP_OK;
}

static rp_status add_band(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    rp_extract_options *o = target;
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

static rp_status set_method(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    int m = rp_sample_method_parse(v);
    if (m < 0)
        return rp_error_set(err, RP_USAGE,
                            "--method: '%s' is not a method (nearest, bilinear, cubic, "
                            "cubicspline)",
                            v);
    ((rp_extract_options *)target)->method = m;
    return RP_OK;
}

static rp_status set_nodata_policy(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    int p = rp_nodata_policy_parse(v);
    if (p < 0)
        return rp_error_set(err, RP_USAGE,
                            "--nodata-policy: '%s' is not a policy (gdal, renormalize, strict)", v);
    ((rp_extract_options *)target)->nodata_policy = p;
    ((rp_extract_options *)target)->nodata_policy_given = true;
    return RP_OK;
}

static rp_status add_window_stat(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    rp_extract_options *o = target;
    int s = rp_window_stat_parse(v);
    if (s < 0)
        return rp_error_set(err, RP_USAGE,
                            "--window-stat: '%s' is not a statistic (mean, min, max, sum, count, "
                            "stdev, median, values)",
                            v);
    for (int k = 0; k < o->nstats; k++)
        if (o->stats[k] == s)
            return RP_OK; /* each once */
    o->stats[o->nstats++] = s;
    return RP_OK;
}

static rp_status set_window(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    int n;
    if (!rp_argv_parse_int(v, INT_MIN, INT_MAX, &n))
        return rp_error_set(err, RP_USAGE, "--window: '%s' is not a number (an odd N, 1 to %d)", v,
                            RP_SAMPLE_MAX_WINDOW);
    if (n < 1 || n > RP_SAMPLE_MAX_WINDOW || n % 2 == 0)
        return rp_error_set(err, RP_USAGE,
                            "--window: %d is not an odd number from 1 to %d (the window is N x N "
                            "cells centred on the point's cell)",
                            n, RP_SAMPLE_MAX_WINDOW);
    ((rp_extract_options *)target)->window = n;
    return RP_OK;
}

/* The sampling options together: a window has statistics (mean unless
 * told), statistics need a window, a window is not interpolated. */
static rp_status check_sampling(rp_extract_options *o, rp_error *err) {
    if (o->nstats && !o->window)
        return rp_error_set(err, RP_USAGE, "--window-stat needs --window N");
    if (o->window && o->method != RP_METHOD_NEAREST)
        return rp_error_set(err, RP_USAGE,
                            "--window and --method %s cannot be combined: a window's statistics "
                            "use the cells as they are",
                            rp_sample_method_name((rp_sample_method)o->method));
    if (o->nodata_policy_given && (o->window || o->method == RP_METHOD_NEAREST))
        return rp_error_set(err, RP_USAGE,
                            "--nodata-policy applies to --method bilinear, cubic or cubicspline "
                            "(a window leaves nodata cells out; nearest has one cell)");
    if (o->window && o->unscale)
        return rp_error_set(err, RP_USAGE,
                            "--unscale and --window cannot be combined yet: a window's statistics "
                            "would need the scale applied to each cell first");
    if (o->window && !o->nstats)
        o->stats[o->nstats++] = RP_STAT_MEAN;
    return RP_OK;
}

/* --transformer METHOD: how points reach the pixels of rasters without a
 * geotransform (georef.h). */
static rp_status set_transformer(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    rp_georef_method m;
    if (!rp_georef_parse(v, &m))
        return rp_error_set(err, RP_USAGE, "--transformer: '%s' is not one of %s", v,
                            RP_GEOREF_NAMES);
    ((rp_extract_options *)target)->transformer = (int)m;
    return RP_OK;
}

/* --names band|desc: how value columns are named. */
static rp_status set_names(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    if (strcmp(v, "desc") != 0 && strcmp(v, "band") != 0)
        return rp_error_set(err, RP_USAGE, "--names: '%s' is not band or desc", v);
    ((rp_extract_options *)target)->names_desc = strcmp(v, "desc") == 0;
    return RP_OK;
}

/* --to KEY=VALUE: an option of GDAL's transformer (RPC_DEM=dem.tif, ...). */
static rp_status add_transform_option(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    rp_extract_options *o = target;
    if (!strchr(v, '=') || v[0] == '=')
        return rp_error_set(err, RP_USAGE, "--to: '%s' is not KEY=VALUE (e.g. RPC_DEM=dem.tif)", v);
    if (rp_argv_append(&o->transform_options, &o->ntransform_options, v) != 0)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    return RP_OK;
}

static rp_status set_shard(void *target, void *ctx, const char *v, rp_error *err) {
    (void)ctx;
    return rp_shard_parse(v, "--shard", &((rp_extract_options *)target)->shard, err);
}

#define FIELD(name) offsetof(rp_extract_options, name)
static const rp_opt extract_table[] = {
    RP_ARGV_COMMON_OPTIONS(rp_extract_options, "--threads", threads, RP_MAX_THREADS),
    {.long_name = "--points",
     .kind = RP_OPT_STRING,
     .offset = FIELD(points_path),
     .metavar = "FILE",
     .help = "points: CSV with a header or any OGR vector; default and '-': stdin"},
    {.long_name = "--output",
     .short_name = "-o",
     .kind = RP_OPT_STRING,
     .offset = FIELD(output_path),
     .metavar = "FILE",
     .help = "output table (default: stdout)"},
    {.long_name = "--x-col",
     .kind = RP_OPT_STRING,
     .offset = FIELD(x_col),
     .metavar = "NAME",
     .help = "CSV column of x"},
    {.long_name = "--y-col",
     .kind = RP_OPT_STRING,
     .offset = FIELD(y_col),
     .metavar = "NAME",
     .help = "CSV column of y"},
    {.long_name = "--layer",
     .kind = RP_OPT_STRING,
     .offset = FIELD(layer),
     .metavar = "NAME",
     .help = "layer of a vector points file"},
    {.long_name = "--points-crs",
     .kind = RP_OPT_STRING,
     .offset = FIELD(points_crs),
     .metavar = "CRS",
     .help = "CRS of the points"},
    {.long_name = "--band",
     .short_name = "-b",
     .kind = RP_OPT_CALL,
     .metavar = "N",
     .help = "band to read (repeatable)",
     .handle = add_band},
    {.long_name = "--status",
     .kind = RP_OPT_FLAG,
     .offset = FIELD(status_column),
     .help = "a status column after each value column"},
    {.long_name = "--max-open",
     .kind = RP_OPT_INT,
     .offset = FIELD(max_open_per_worker),
     .min = 1,
     .max = INT_MAX,
     .metavar = "N",
     .help = "datasets each worker keeps open"},
    {.long_name = "--io-threads",
     .kind = RP_OPT_INT,
     .offset = FIELD(io_threads),
     .min = 1,
     .max = RP_EXTRACT_MAX_IO_THREADS,
     .metavar = "N",
     .help = "worker threads of remote jobs"},
    {.long_name = "--plan",
     .kind = RP_OPT_FLAG,
     .offset = FIELD(plan_only),
     .help = "print what would be read and exit"},
    {.long_name = "--method",
     .kind = RP_OPT_CALL,
     .metavar = "M",
     .help = "nearest, bilinear, cubic or cubicspline",
     .handle = set_method},
    {.long_name = "--nodata-policy",
     .kind = RP_OPT_CALL,
     .metavar = "P",
     .help = "gdal, renormalize or strict",
     .handle = set_nodata_policy},
    {.long_name = "--window",
     .kind = RP_OPT_CALL,
     .metavar = "N",
     .help = "statistics of the N x N cells around each point",
     .handle = set_window},
    {.long_name = "--window-stat",
     .kind = RP_OPT_CALL,
     .metavar = "S",
     .help = "mean, min, max, sum, count, stdev, median or values (repeatable)",
     .handle = add_window_stat},
    {.long_name = "--names",
     .kind = RP_OPT_CALL,
     .metavar = "band|desc",
     .help = "value columns named b<N> (band) or by band description (desc)",
     .handle = set_names},
    {.long_name = "--unscale",
     .kind = RP_OPT_FLAG,
     .offset = FIELD(unscale),
     .help = "values * scale + offset of bands that have them"},
    {.long_name = "--transformer",
     .kind = RP_OPT_CALL,
     .metavar = "METHOD",
     .help = "rasters without a geotransform: gcp, gcp_tps, rpc, geoloc or pixel",
     .handle = set_transformer},
    {.long_name = "--to",
     .kind = RP_OPT_CALL,
     .metavar = "KEY=VALUE",
     .help = "an option of GDAL's transformer (repeatable)",
     .handle = add_transform_option},
    {.long_name = "--shard",
     .kind = RP_OPT_CALL,
     .metavar = "I/N",
     .help = "only part I of N of the points (job arrays)",
     .handle = set_shard},
    {.long_name = NULL},
};
#undef FIELD

RP_API rp_extract_options *rp_extract_options_new(int argc, const char *const *argv,
                                                  rp_cli_flags *cli, rp_error *err) {
    rp_argv_cli_clear(cli);
    rp_extract_options *o = calloc(1, sizeof *o);
    if (!o) {
        rp_error_set(err, RP_NOMEM, "out of memory");
        return NULL;
    }
    o->max_open_per_worker = 64;
    o->log = stderr;
    rp_argv_parser parser = {.command = "extract",
                             .options = extract_table,
                             .target = o,
                             .cli = cli,
                             .positional = add_raster,
                             .dashdash = RP_ARGV_DASHDASH_POSITIONAL};
    rp_argv_result r = rp_argv_parse(&parser, argc, argv, 1, NULL, err);
    if (r == RP_ARGV_DONE && check_sampling(o, err) != RP_OK)
        r = RP_ARGV_FAILED;
    if (r == RP_ARGV_DONE && o->nrasters == 0) {
        rp_error_set(err, RP_USAGE, "no raster given (see rasterpool extract --help)");
        r = RP_ARGV_FAILED;
    }
    if (r == RP_ARGV_DONE && o->output_path && !*o->output_path) {
        rp_error_set(err, RP_USAGE, "-o/--output: empty file name (omit -o, or -o -, for stdout)");
        r = RP_ARGV_FAILED;
    }
    if (r == RP_ARGV_DONE && o->points_path && !*o->points_path) {
        rp_error_set(err, RP_USAGE,
                     "--points: empty file name (omit it, or --points -, for stdin)");
        r = RP_ARGV_FAILED;
    }
    if (r != RP_ARGV_DONE) {
        if (r == RP_ARGV_HELP)
            rp_error_clear(err);
        rp_extract_options_free(o);
        return NULL;
    }
    return o;
}

RP_API void rp_extract_options_set_progress(rp_extract_options *o, rp_progress_fn fn, void *user) {
    o->progress = fn;
    o->progress_user = user;
}

RP_API rp_status rp_extract_options_set_log(rp_extract_options *o, rp_log_fn fn, void *user) {
    return rp_log_replace(&o->logger, &o->log, &o->info, fn, user);
}

RP_API void rp_extract_options_set_plan_output(rp_extract_options *o, FILE *out) {
    o->plan_out = out;
}
