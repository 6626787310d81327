/* test_options.c — the three commands' parsers through the public API, on
 * the options every command shares (-j, --config, -q, -v, -h) and on a few
 * of their own, reading the parsed fields from the jobs' internal structs:
 * attached values, unknown options, missing values, out-of-range -j, the
 * program flags, and rp_init's idempotence. Opens no file (calc checks
 * expression syntax only; batch checks gdal_translate's options with GDAL's
 * parser, which needs the drivers: rp_init). */
#include <gdal.h>
#include <pthread.h>

#include "batch_internal.h"
#include "calc_internal.h"
#include "check.h"
#include "extract_internal.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
static int count(const char *const *argv) {
    int n = 0;
    while (argv[n])
        n++;
    return n;
}

static void test_extract(void) {
    rp_error err;
    rp_cli_flags cli;
    const char *const *a = ARGS("extract", "dem.tif", "-j2", "-b3", "--band=4", "--config", "K",
                                "V", "--points=p.csv", "-q", "-v", "--status");
    rp_error_clear(&err);
    rp_extract_options *o = rp_extract_options_new(count(a), a, &cli, &err);
    CHECK(o != NULL);
    if (o) {
        CHECK_EQ_INT(o->threads, 2);
        CHECK_EQ_INT(o->nbands, 2);
        CHECK_EQ_INT(o->bands[0], 3);
        CHECK_EQ_INT(o->bands[1], 4);
        CHECK_EQ_INT(o->nconfig, 1);
        CHECK_EQ_STR(o->config[0], "K");
        CHECK_EQ_STR(o->config[1], "V");
        CHECK_EQ_STR(o->points_path, "p.csv");
        CHECK(o->status_column);
        CHECK_EQ_INT(o->nrasters, 1);
        CHECK(o->log == stderr && o->info == NULL); /* the default log */
    }
    CHECK(cli.quiet && cli.verbose && !cli.help);
    rp_extract_options_free(o);

    rp_error_clear(&err);
    CHECK(rp_extract_options_new(4, ARGS("extract", "dem.tif", "-j", "1025"), NULL, &err) == NULL);
    CHECK_EQ_INT(err.code, RP_USAGE);
    CHECK_EQ_STR(err.message, "-j/--threads: '1025' is not a number from 1 to 1024");
    rp_error_clear(&err);
    CHECK(rp_extract_options_new(3, ARGS("extract", "dem.tif", "--frobnicate"), NULL, &err) ==
          NULL);
    CHECK_EQ_STR(err.message, "unknown option '--frobnicate' (see rasterpool extract --help)");
    rp_error_clear(&err);
    CHECK(rp_extract_options_new(3, ARGS("extract", "dem.tif", "-b"), NULL, &err) == NULL);
    CHECK_EQ_STR(err.message, "option -b needs a value");
    rp_error_clear(&err);
    CHECK(rp_extract_options_new(3, ARGS("extract", "dem.tif", "-b0"), NULL, &err) == NULL);
    CHECK_EQ_STR(err.message, "-b/--band: '0' is not a band number (1, 2, ...)");
    rp_error_clear(&err);
    CHECK(rp_extract_options_new(2, ARGS("extract", "--plan"), NULL, &err) == NULL);
    CHECK_EQ_STR(err.message, "no raster given (see rasterpool extract --help)");
    rp_error_clear(&err);
    CHECK(rp_extract_options_new(3, ARGS("extract", "--help", "--bad"), &cli, &err) == NULL);
    CHECK_EQ_INT(err.code, RP_OK);
    CHECK(cli.help);
}

static void test_calc(void) {
    rp_error err;
    rp_cli_flags cli;
    const char *const *a = ARGS("calc", "--input=A=a.tif", "--expr=A*2", "-o", "out.tif", "-j3",
                                "--config", "GDAL_CACHEMAX", "64", "--nodata=-5");
    rp_error_clear(&err);
    rp_calc_options *o = rp_calc_options_new(count(a), a, &cli, &err);
    CHECK(o != NULL);
    if (o) {
        CHECK_EQ_INT(o->threads, 3);
        CHECK_EQ_INT(o->ninputs, 1);
        CHECK_EQ_STR(o->inputs[0].name, "A");
        CHECK_EQ_STR(o->inputs[0].path, "a.tif");
        CHECK_EQ_INT(o->nexprs, 1);
        CHECK_EQ_STR(o->output_path, "out.tif");
        CHECK_EQ_INT(o->nconfig, 1);
        CHECK_EQ_STR(o->config[0], "GDAL_CACHEMAX");
        CHECK(o->has_nodata && o->nodata == -5);
        CHECK_EQ_STR(o->format, "GTiff");
    }
    CHECK(!cli.quiet && !cli.verbose && !cli.help);
    rp_calc_options_free(o);
    rp_error_clear(&err);
    CHECK(rp_calc_options_new(6, ARGS("calc", "-i", "A=a.tif", "-e", "A", "-j0"), NULL, &err) ==
          NULL);
    CHECK_EQ_STR(err.message, "-j/--threads: '0' is not a number from 1 to 1024");
    rp_error_clear(&err);
    CHECK(rp_calc_options_new(2, ARGS("calc", "a.tif"), NULL, &err) == NULL);
    CHECK_EQ_STR(err.message, "unexpected argument 'a.tif' (inputs are given with -i NAME=FILE; "
                              "see rasterpool calc --help)");
    rp_error_clear(&err);
    CHECK(rp_calc_options_new(3, ARGS("calc", "-i", "A=a.tif"), NULL, &err) == NULL);
    CHECK_EQ_STR(err.message, "no output given: -o FILE");
    rp_error_clear(&err);
    CHECK(rp_calc_options_new(8, ARGS("calc", "-i", "A=a.tif", "-e", "A", "-o", "x.tif", "-ot"),
                              NULL, &err) == NULL);
    CHECK_EQ_STR(err.message, "unknown option '-ot' (see rasterpool calc --help)");
}

static void test_batch(void) {
    rp_error err;
    rp_cli_flags cli;
    const char *const *a = ARGS("batch", "translate", "x.tif", "--out-dir=out", "-j2", "--config",
                                "K", "V", "-v", "--", "-of", "COG");
    rp_error_clear(&err);
    rp_batch_options *o = rp_batch_options_new(count(a), a, &cli, &err);
    CHECK(o != NULL);
    if (o) {
        CHECK_EQ_INT(o->workers, 2);
        CHECK_EQ_STR(o->out_dir, "out");
        CHECK_EQ_INT(o->ninputs, 1);
        CHECK_EQ_INT(o->nconfig, 1);
        CHECK_EQ_INT(o->ntool_args, 2);
        CHECK_EQ_STR(o->tool_args[0], "-of");
    }
    CHECK(cli.verbose && !cli.quiet);
    rp_batch_options_free(o);
    rp_error_clear(&err);
    CHECK(rp_batch_options_new(5, ARGS("batch", "warp", "x.tif", "--jobs", "x"), NULL, &err) ==
          NULL);
    CHECK_EQ_INT(err.code, RP_USAGE);
    CHECK(strstr(err.message, "-j/--jobs: 'x' is not a number from 1 to") == err.message);
    rp_error_clear(&err);
    CHECK(rp_batch_options_new(3, ARGS("batch", "-h", "--", "-h"), &cli, &err) == NULL);
    CHECK_EQ_INT(err.code, RP_OK);
    CHECK(cli.help);
}

static void *init_thread(void *arg) {
    (void)arg;
    rp_init();
    return (void *)(intptr_t)GDALGetDriverCount();
}

/* rp_init from several threads at once, then again: the drivers are there
 * after every call, and a second call registers nothing new. */
static void test_init(void) {
    enum { N = 8 };
    CHECK_EQ_INT(GDALGetDriverCount(), 0); /* so it is rp_init that registers */
    pthread_t t[N];
    for (int i = 0; i < N; i++)
        CHECK(pthread_create(&t[i], NULL, init_thread, NULL) == 0);
    int counts[N];
    for (int i = 0; i < N; i++) {
        void *ret = NULL;
        pthread_join(t[i], &ret);
        counts[i] = (int)(intptr_t)ret;
    }
    int n = GDALGetDriverCount();
    CHECK(n > 10);
    CHECK(GDALGetDriverByName("GTiff") != NULL);
    for (int i = 0; i < N; i++)
        CHECK_EQ_INT(counts[i], n); /* each returned after the registration ended */
    rp_init();
    CHECK_EQ_INT(GDALGetDriverCount(), n);
    CHECK(rp_gdal_version() && rp_gdal_version()[0] >= '3');
}

int main(void) {
    test_init(); /* first: nothing else has registered GDAL's drivers yet */
    test_extract();
    test_calc();
    test_batch();
    return CHECK_DONE();
}
