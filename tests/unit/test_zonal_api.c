/* test_zonal_api.c — the zonal job through the public C API
 * (rp_zonal_options_new / set_log / set_plan_output / rp_zonal_run) on a
 * raster and polygons this test writes itself (value = row * 100 + col,
 * 1 x 1 cells), checked against sums computed by hand: whole cells, half
 * cells, a polygon off the raster, the report's counts, --plan to the
 * caller's stream, usage errors and --help. */
#include <gdal.h>
#include <ogr_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "rasterpool.h"

enum { W = 40, H = 30 };

static void write_inputs(const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/r.tif", dir);
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, W, H, 1, GDT_Float32, NULL);
    double gt[6] = {0, 1, 0, H, 0, -1}; /* cell (c, r) is [c, c+1] x [H-r-1, H-r] */
    GDALSetGeoTransform(ds, gt);
    float *buf = malloc(sizeof *buf * W * H);
    for (int r = 0; r < H; r++)
        for (int c = 0; c < W; c++)
            buf[r * W + c] = (float)(r * 100 + c);
    CHECK(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 0, 0, W, H, buf, W, H, GDT_Float32, 0,
                       0) == CE_None);
    free(buf);
    GDALClose(ds);
    snprintf(path, sizeof path, "%s/p.geojson", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    /* 1: cells c 2..3, rows 27..28 (y 1..3); 2: half of cell (10, 19) (y 10..11,
     * x 10..10.5); 3: off the raster */
    fputs("{\"type\":\"FeatureCollection\",\"features\":["
          "{\"type\":\"Feature\",\"properties\":{\"id\":1},\"geometry\":{\"type\":\"Polygon\","
          "\"coordinates\":[[[2,1],[4,1],[4,3],[2,3],[2,1]]]}},"
          "{\"type\":\"Feature\",\"properties\":{\"id\":2},\"geometry\":{\"type\":\"Polygon\","
          "\"coordinates\":[[[10,10],[10.5,10],[10.5,11],[10,11],[10,10]]]}},"
          "{\"type\":\"Feature\",\"properties\":{\"id\":3},\"geometry\":{\"type\":\"Polygon\","
          "\"coordinates\":[[[100,100],[101,100],[101,101],[100,100]]]}}]}",
          f);
    fclose(f);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 4096);
    size_t n = fread(buf, 1, 4095, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_run(const char *dir) {
    char raster[512], polys[512], out[512];
    snprintf(raster, sizeof raster, "%s/r.tif", dir);
    snprintf(polys, sizeof polys, "%s/p.geojson", dir);
    snprintf(out, sizeof out, "%s/out.csv", dir);
    const char *argv[] = {"zonal", raster,     "--polygons", polys, "-s", "count", "-s",
                          "sum",   "--status", "-o",         out,   "-j", "3",     NULL};
    rp_error err;
    rp_error_clear(&err);
    rp_zonal_options *o = rp_zonal_options_new(13, argv, NULL, &err);
    CHECK(o != NULL);
    CHECK(rp_zonal_options_set_log(o, NULL, NULL) == RP_OK); /* silence */
    rp_zonal_report rep;
    CHECK_EQ_INT(rp_zonal_run(o, &rep, &err), RP_OK);
    CHECK_EQ_INT(rep.polygons, 3);
    CHECK_EQ_INT(rep.polygons_ok, 2);
    CHECK_EQ_INT(rep.polygons_empty, 1);
    CHECK_EQ_INT(rep.blocks_read, 1);
    /* 1: rows 27, 28 x cols 2, 3: 2702 + 2703 + 2802 + 2803; 2: half of 1910 */
    char *text = slurp(out);
    CHECK_EQ_STR(text, "id,count,sum,status\n1,4,11010,ok\n2,0.5,955,ok\n3,,,outside\n");
    free(text);
    rp_zonal_options_free(o);
    /* --plan goes to the caller's stream, and nothing is written */
    const char *pargv[] = {"zonal", raster, "--polygons", polys, "-s", "mean", "--plan", NULL};
    o = rp_zonal_options_new(7, pargv, NULL, &err);
    CHECK(o != NULL);
    char *plan = NULL;
    size_t plan_len = 0;
    FILE *mem = open_memstream(&plan, &plan_len);
    rp_zonal_options_set_plan_output(o, mem);
    CHECK_EQ_INT(rp_zonal_run(o, NULL, &err), RP_OK);
    fclose(mem);
    CHECK(plan && strstr(plan, "blocks touched: 1 of 1") != NULL);
    CHECK(plan && strstr(plan, "polygons: 3 (on the raster 2, outside 1") != NULL);
    free(plan);
    rp_zonal_options_free(o);
}

static void test_usage(void) {
    rp_error err;
    const char *no_stat[] = {"zonal", "r.tif", "--polygons", "p.gpkg", NULL};
    rp_error_clear(&err);
    CHECK(rp_zonal_options_new(4, no_stat, NULL, &err) == NULL);
    CHECK_EQ_INT(err.code, RP_USAGE);
    CHECK(strstr(err.message, "no statistic") != NULL);
    const char *bad[] = {"zonal", "r.tif", "--polygons", "p.gpkg", "-s", "quantile(q=7)", NULL};
    rp_error_clear(&err);
    CHECK(rp_zonal_options_new(6, bad, NULL, &err) == NULL);
    CHECK(strstr(err.message, "q must be") != NULL);
    const char *help[] = {"zonal", "--help", NULL};
    rp_cli_flags flags;
    rp_error_clear(&err);
    CHECK(rp_zonal_options_new(2, help, &flags, &err) == NULL);
    CHECK_EQ_INT(err.code, RP_OK);
    CHECK(flags.help);
    CHECK(strstr(rp_zonal_help(), "usage: rasterpool zonal") != NULL);
    rp_zonal_options_free(NULL);
}

int main(void) {
    rp_init();
    char dir[] = "/tmp/rp_test_zonal_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    write_inputs(dir);
    test_run(dir);
    test_usage();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    return CHECK_DONE();
}
