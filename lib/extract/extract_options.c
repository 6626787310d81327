/*
 * extract_options.c — the extract command line, parsed into options.
 *
 * One parser serves the CLI and C callers (GDAL's *OptionsNew(argv) shape).
 * Options may come before or after the rasters, as `--name value` or
 * `--name=value`; `--` ends options. Every error names the option.
 *
 * Threads: none. Ownership: the options own copies of every string.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>

#include "argv.h"
#include "error.h"
#include "extract_internal.h"
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
    for (int i = 0; i < o->nrasters; i++)
        free(o->rasters[i]);
    free(o->rasters);
    free(o->bands);
    free(o->points_path);
    free(o->output_path);
    free(o->x_col);
    free(o->y_col);
    free(o->layer);
    free(o->points_crs);
    for (int i = 0; i < o->nconfig * 2; i++)
        free(o->config[i]);
    free(o->config);
    free(o);
}

RP_API rp_extract_options *rp_extract_options_new(int argc, const char *const *argv,
                                                  rp_error *err) {
    rp_extract_options *o = calloc(1, sizeof *o);
    if (!o) {
        rp_error_set(err, RP_NOMEM, "out of memory");
        return NULL;
    }
    o->max_open_per_worker = 64;
    o->log = stderr;
    bool only_positional = false, failed = false, oom = false;
    for (int i = 1; i < argc && !failed && !oom; i++) {
        const char *a = argv[i];
        const char *v = NULL;
        if (only_positional || a[0] != '-' || strcmp(a, "-") == 0) {
            char *path = rp_remote_gdal_path(a); /* bare URLs get /vsicurl/ */
            oom = !path || rp_argv_append(&o->rasters, &o->nrasters, path) != 0;
            o->remote = o->remote || rp_path_is_remote(a);
            free(path);
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_positional = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            rp_extract_options_free(o);
            if (err)
                rp_error_clear(err);
            return NULL;
        } else if (strcmp(a, "--status") == 0) {
            o->status_column = true;
        } else if (strcmp(a, "--plan") == 0) {
            o->plan_only = true;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            o->verbose = true;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            o->quiet = true;
        } else if (rp_argv_match_value(a, NULL, "--points", argc, argv, &i, &v, err, &failed)) {
            oom = !failed && rp_argv_set_string(&o->points_path, v);
        } else if (rp_argv_match_value(a, "-o", "--output", argc, argv, &i, &v, err, &failed)) {
            oom = !failed && rp_argv_set_string(&o->output_path, v);
        } else if (rp_argv_match_value(a, NULL, "--x-col", argc, argv, &i, &v, err, &failed)) {
            oom = !failed && rp_argv_set_string(&o->x_col, v);
        } else if (rp_argv_match_value(a, NULL, "--y-col", argc, argv, &i, &v, err, &failed)) {
            oom = !failed && rp_argv_set_string(&o->y_col, v);
        } else if (rp_argv_match_value(a, NULL, "--layer", argc, argv, &i, &v, err, &failed)) {
            oom = !failed && rp_argv_set_string(&o->layer, v);
        } else if (rp_argv_match_value(a, NULL, "--points-crs", argc, argv, &i, &v, err, &failed)) {
            oom = !failed && rp_argv_set_string(&o->points_crs, v);
        } else if (rp_argv_match_value(a, "-b", "--band", argc, argv, &i, &v, err, &failed)) {
            int band;
            if (failed)
                break;
            if (!rp_argv_parse_int(v, 1, INT_MAX, &band)) {
                rp_error_set(err, RP_USAGE, "-b/--band: '%s' is not a band number (1, 2, ...)", v);
                failed = true;
                break;
            }
            int *grown = realloc(o->bands, (size_t)(o->nbands + 1) * sizeof *grown);
            oom = !grown;
            if (grown) {
                o->bands = grown;
                o->bands[o->nbands++] = band;
            }
        } else if (rp_argv_match_value(a, "-j", "--threads", argc, argv, &i, &v, err, &failed)) {
            if (!failed &&
                (!rp_argv_parse_int(v, 1, INT_MAX, &o->threads) || o->threads > RP_MAX_THREADS)) {
                rp_error_set(err, RP_USAGE, "-j/--threads: '%s' is not a number from 1 to %d", v,
                             RP_MAX_THREADS);
                failed = true;
            }
        } else if (rp_argv_match_value(a, NULL, "--io-threads", argc, argv, &i, &v, err, &failed)) {
            if (!failed && (!rp_argv_parse_int(v, 1, INT_MAX, &o->io_threads) ||
                            o->io_threads > RP_REMOTE_MAX_IO_THREADS)) {
                rp_error_set(err, RP_USAGE, "--io-threads: '%s' is not a number from 1 to %d", v,
                             RP_REMOTE_MAX_IO_THREADS);
                failed = true;
            }
        } else if (rp_argv_match_value(a, NULL, "--max-open", argc, argv, &i, &v, err, &failed)) {
            if (!failed && !rp_argv_parse_int(v, 1, INT_MAX, &o->max_open_per_worker)) {
                rp_error_set(err, RP_USAGE, "--max-open: '%s' is not a positive number", v);
                failed = true;
            }
        } else if (strcmp(a, "--config") == 0) {
            if (i + 2 >= argc) {
                rp_error_set(err, RP_USAGE, "--config needs a KEY and a VALUE");
                failed = true;
                break;
            }
            int n = o->nconfig * 2;
            oom = rp_argv_append(&o->config, &n, argv[i + 1]) != 0 ||
                  rp_argv_append(&o->config, &n, argv[i + 2]) != 0;
            o->nconfig++;
            i += 2;
        } else {
            rp_error_set(err, RP_USAGE, "unknown option '%s' (see rasterpool extract --help)", a);
            failed = true;
        }
    }
    if (oom)
        rp_error_set(err, RP_NOMEM, "out of memory");
    if (!failed && !oom && o->nrasters == 0) {
        rp_error_set(err, RP_USAGE, "no raster given (see rasterpool extract --help)");
        failed = true;
    }
    if (failed || oom) {
        rp_extract_options_free(o);
        return NULL;
    }
    return o;
}

RP_API void rp_extract_options_set_progress(rp_extract_options *o, rp_progress_fn fn, void *user) {
    o->progress = fn;
    o->progress_user = user;
}

RP_API int rp_extract_options_quiet(const rp_extract_options *o) {
    return o->quiet;
}

RP_API void rp_extract_options_set_log(rp_extract_options *o, FILE *log) {
    o->log = log;
}

RP_API void rp_extract_options_set_plan_output(rp_extract_options *o, FILE *out) {
    o->plan_out = out;
}

void rp_extract_apply_config(const rp_extract_options *o, bool set) {
    for (int i = 0; i < o->nconfig; i++)
        CPLSetThreadLocalConfigOption(o->config[2 * i], set ? o->config[2 * i + 1] : NULL);
    /* after --config, so that the user's values win; unset always */
    if (o->remote || !set)
        rp_remote_apply_defaults(set);
}
