/*
 * test_extract_plan.c — the library writes nothing to the process's
 * stdout: --plan goes to the stream the caller set
 * (rp_extract_options_set_plan_output) and without one nowhere, and no
 * progress bar is drawn. stdout is pointed at a file during the runs to
 * see that it stays empty. The plan's figures are checked by hand: 3
 * points, 1 bad row, 2 inside of a 40 x 30 raster in 16 x 16 blocks.
 */
#include <fcntl.h>
#include <gdal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "rasterpool.h"

static void write_raster(const char *path) {
    const char *co[] = {"TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16", NULL};
    GDALDatasetH ds =
        GDALCreate(GDALGetDriverByName("GTiff"), path, 40, 30, 1, GDT_Byte, (char **)co);
    double gt[6] = {0, 1, 0, 30, 0, -1};
    GDALSetGeoTransform(ds, gt);
    GDALClose(ds);
}

static rp_status run_plan(const char *raster, const char *points, FILE *plan_out) {
    const char *argv[] = {"extract", raster, "--points", points, "--plan", "-q"};
    rp_error err;
    rp_error_clear(&err);
    rp_extract_options *o = rp_extract_options_new(6, argv, NULL, &err);
    CHECK(o != NULL);
    if (!o)
        return err.code;
    (void)rp_extract_options_set_log(o, NULL, NULL);
    rp_extract_options_set_plan_output(o, plan_out);
    rp_status rc = rp_extract_run(o, NULL, &err);
    rp_extract_options_free(o);
    return rc;
}

int main(void) {
    GDALAllRegister();
    char raster[] = "/tmp/rp_test_plan_XXXXXX.tif", points[] = "/tmp/rp_test_plan_XXXXXX.csv";
    char out[] = "/tmp/rp_test_plan_stdout_XXXXXX";
    close(mkstemps(raster, 4));
    write_raster(raster);
    FILE *csv = fdopen(mkstemps(points, 4), "w");
    fputs("x,y\n1.5,28.5\n39.5,0.5\n100,100\nbad,row\n", csv);
    fclose(csv);

    /* stdout goes to a file while the library runs */
    fflush(stdout);
    int saved = dup(1), fd = mkstemp(out);
    dup2(fd, 1);
    FILE *plan = tmpfile();
    /* a bad row is counted in the plan; the plan itself is done (issue 15) */
    CHECK_EQ_INT(run_plan(raster, points, plan), RP_OK);
    CHECK_EQ_INT(run_plan(raster, points, NULL), RP_OK);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == 0); /* nothing on stdout */
    close(fd);

    char text[4096] = "";
    rewind(plan);
    size_t len = fread(text, 1, sizeof text - 1, plan);
    text[len] = '\0';
    fclose(plan);
    CHECK(strstr(text, "points: 4\n") != NULL);
    CHECK(strstr(text, "bad rows: 1 ") != NULL);
    CHECK(strstr(text, "(GTiff): 40 x 30, blocks 16 x 16, 1 band(s) to read\n") != NULL);
    CHECK(strstr(text, "  points inside: 2\n") != NULL);
    CHECK(strstr(text, "  points outside: 1\n") != NULL);
    CHECK(strstr(text, "  blocks touched: 2 of 6\n") != NULL);
    if (check_failures)
        fprintf(stderr, "plan text:\n%s", text);
    unlink(raster);
    unlink(points);
    unlink(out);
    GDALDestroyDriverManager();
    return CHECK_DONE();
}
