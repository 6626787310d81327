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
    "                     GDAL can open (.gpkg, .shp, .geojson, .fgb, ...). Default\n"
    "                     and '-': CSV on standard input.\n"
    "  -o, --output FILE  output table. Default: CSV on standard output. The\n"
    "                     extension picks the format: .csv (text), or any GDAL\n"
    "                     vector format (.gpkg, .fgb, .geojson, .shp, ...).\n"
    "  --x-col NAME       CSV column of x (default: found by name among x/y,\n"
    "  --y-col NAME       lon/lat, longitude/latitude, easting/northing, any case)\n"
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
    "  Output keeps every input column and row in input order, then one column per\n"
    "  (raster, band): b1, b2, ... for one raster; <file stem>_b<N> for several.\n"
    "  Values are exact: integers as integers, floats as the shortest text that\n"
    "  reads back to the same value. Nodata, masked pixels and points off the\n"
    "  raster are empty fields. A cell is the half-open square it covers; points\n"
    "  on the raster's right and bottom edges are inside.\n"
    "\n"
    "Execution:\n"
    "  -j, --threads N    worker threads (default: the CPUs this process may use,\n"
    "                     counting cgroup quotas and the affinity mask); remote\n"
    "                     jobs use --io-threads instead\n"
    "  --max-open N       datasets each worker keeps open (default: 64; lowered to\n"
    "                     fit the open-files limit when reading a VRT's sources)\n"
    "  --io-threads N     worker threads when a raster or a VRT source is remote\n"
    "                     (/vsicurl/, /vsis3/, /vsigs/, /vsiaz/, http(s)://): reads\n"
    "                     wait on the network, so more run at once (default: 32)\n"
    "  --plan             print what would be read (points inside/outside, blocks\n"
    "                     touched, estimated bytes) and exit without reading pixels\n"
    "  --config KEY VALUE set a GDAL configuration option (repeatable)\n"
    "  -v, --verbose      print a summary with the time of each phase on stderr\n"
    "  -q, --quiet        no progress bar (it shows on a terminal for long jobs)\n"
    "  -h, --help         this help\n"
    "\n"
    "Exit status: 0 done; 1 done, but some rows or blocks failed (their values are\n"
    "empty, status error, and each is reported on stderr); 2 usage error; 3 an\n"
    "input cannot be opened or read at all; 130 interrupted.\n"
    "\n"
    "Examples:\n"
    "  rasterpool extract dem.tif --points pts.csv -o values.csv\n"
    "  cat pts.csv | rasterpool extract a.tif b.tif -b 1 -b 3 --threads 8 > out.csv\n"
    "  rasterpool extract dem.tif --points sites.gpkg --points-crs EPSG:4326 -o v.gpkg\n"
    "  rasterpool extract dem.tif --points pts.csv --plan\n";

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
