/*
 * client.c — a program built against an installed librasterpool, as a
 * user's would be: it includes rasterpool.h alone and links with
 * `pkg-config --cflags --libs rasterpool` or find_package(rasterpool)
 * (tests/postinstall/run.sh builds it both ways and compares its output
 * with expected.txt). It is not the rasterpool program, so its batch runs
 * the library's default worker program.
 *
 * What it checks: the runtime version equals the headers' macros; an
 * in-memory extract of a 4x3 ASCII grid it writes itself (values known by
 * construction: the oracle); a batch translate of that grid to GeoTIFF, and
 * the GeoTIFF's values read back. GDAL's drivers are registered by
 * rp_init(), so no GDAL header is needed.
 *
 * Usage: client WORKDIR (an empty folder). One thread; exit 0 when all
 * went as expected, 1 otherwise (the reason on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <rasterpool.h>

static int fail(const char *what, const rp_error *err) {
    fprintf(stderr, "client: %s: %s\n", what, err ? err->message : "");
    return 1;
}

/* A 4x3 grid, cells 1 x 1 from (0, 0) to (4, 3), the last cell nodata. */
static int write_grid(const char *path) {
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "ncols 4\nnrows 3\nxllcorner 0\nyllcorner 0\ncellsize 1\n"
               "NODATA_value -9999\n1 2 3 4\n5 6 7 8\n9 10 11 -9999\n");
    return fclose(f);
}

/* Prints the values of raster at four points: two cells, nodata, outside. */
static int print_values(const char *label, const char *raster) {
    const double x[] = {0.5, 1.5, 3.5, 10.0}, y[] = {2.5, 1.5, 0.5, 10.0};
    double values[4];
    uint8_t status[4];
    int ncols = 0;
    rp_error err;
    rp_error_clear(&err);
    const char *rasters[] = {raster};
    if (rp_extract_count_columns(rasters, 1, NULL, 0, &ncols, &err) != RP_OK || ncols != 1)
        return fail("count columns", &err);
    if (rp_extract_points(rasters, 1, NULL, 0, x, y, 4, 2, values, status, &err) != RP_OK)
        return fail("extract", &err);
    printf("%s:", label);
    for (int i = 0; i < 4; i++) {
        if (status[i] == RP_POINT_OK)
            printf(" %g", values[i]);
        else
            printf(" %s", rp_point_status_name((rp_point_status)status[i]));
    }
    printf("\n");
    return 0;
}

static int run_batch(const char *grid, const char *out_dir) {
    rp_error err;
    rp_error_clear(&err);
    const char *argv[] = {"batch", "translate", grid,  "--out-dir", out_dir,
                          "-q",    "--",        "-of", "GTiff"};
    rp_batch_options *opts = rp_batch_options_new(9, argv, NULL, &err);
    if (!opts)
        return fail("batch options", &err);
    rp_batch_options_set_log(opts, NULL, NULL);
    rp_batch_report report;
    rp_status st = rp_batch_run(opts, &report, &err);
    rp_batch_options_free(opts);
    if (st != RP_OK)
        return fail("batch", &err);
    printf("batch: %llu done, %llu failed\n", (unsigned long long)report.done,
           (unsigned long long)report.failed);
    return report.done == 1 ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc != 2)
        return fail("usage: client WORKDIR", NULL);
    fprintf(stderr, "client: rasterpool %s, compiled against %s\n", rp_version(),
            RP_VERSION_STRING);
    if (strcmp(rp_version(), RP_VERSION_STRING) != 0 || rp_version_number() != RP_VERSION_NUMBER)
        return fail("the library's version differs from its headers'", NULL);
    printf("version: runtime equals headers\n");
    rp_init();
    char grid[4096], out_dir[4096], tif[4200];
    snprintf(grid, sizeof grid, "%s/grid.asc", argv[1]);
    snprintf(out_dir, sizeof out_dir, "%s/out", argv[1]);
    snprintf(tif, sizeof tif, "%s/grid.tif", out_dir);
    if (write_grid(grid) != 0)
        return fail("cannot write the grid", NULL);
    if (print_values("grid", grid) != 0 || run_batch(grid, out_dir) != 0)
        return 1;
    return print_values("batch output", tif);
}
