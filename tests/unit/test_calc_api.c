/* test_calc_api.c — rp_calc from C: a kernel passed as a function pointer
 * (no dlopen) with its user pointer, on a raster this test writes itself
 * (value = row * 1000 + col); the output is checked against that formula.
 * Then a progress callback that cancels: RP_INTERRUPTED and no output, and
 * a kernel that fails: RP_PARTIAL with its message, no output. Threads: 3
 * workers and the writer, so this also runs under TSan (label "pool"). */
#include <dirent.h>
#include <gdal.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "rasterpool.h"

enum { W = 700, H = 523 };

static void write_input(const char *path) {
    const char *co[] = {"TILED=YES", "BLOCKXSIZE=64", "BLOCKYSIZE=64", NULL};
    GDALDatasetH ds =
        GDALCreate(GDALGetDriverByName("GTiff"), path, W, H, 1, GDT_Int32, (char **)co);
    double gt[6] = {100, 1, 0, 200, 0, -1};
    GDALSetGeoTransform(ds, gt);
    int32_t *buf = malloc(sizeof *buf * W * H);
    for (int r = 0; r < H; r++)
        for (int c = 0; c < W; c++)
            buf[r * W + c] = r * 1000 + c;
    CHECK(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 0, 0, W, H, buf, W, H, GDT_Int32, 0,
                       0) == CE_None);
    free(buf);
    GDALClose(ds);
}

typedef struct kernel_state {
    int add;                /* read-only: added to every value */
    atomic_int calls;       /* how many windows were computed */
    atomic_int bad_windows; /* windows whose input was not what was written */
} kernel_state;

/* out = in + add, as Int32; checks the input against the formula. */
static int add_kernel(const rp_kernel_block *b, void *user) {
    kernel_state *st = user;
    atomic_fetch_add(&st->calls, 1);
    const int32_t *in = b->inputs[0].data;
    int32_t *out = b->out;
    int bad = b->inputs[0].type != GDT_Int32 || b->out_type != GDT_Int32 || b->ninputs != 1;
    for (int r = 0; r < b->height; r++)
        for (int c = 0; c < b->width; c++) {
            int32_t v = in[r * b->width + c];
            bad |= v != (b->y_off + r) * 1000 + (b->x_off + c);
            out[r * b->width + c] = v + st->add;
        }
    if (bad)
        atomic_fetch_add(&st->bad_windows, 1);
    return 0;
}

static int failing_kernel(const rp_kernel_block *b, void *user) {
    (void)user;
    snprintf(b->error, b->error_size, "no thanks");
    return b->y_off > 0; /* the first row of windows succeeds */
}

static int cancel_at_once(double fraction, const char *message, void *user) {
    (void)fraction;
    (void)message;
    (void)user;
    return 1;
}

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.' || (e->d_name[1] && e->d_name[1] != '.');
    if (d)
        closedir(d);
    return n;
}

int main(void) {
    GDALAllRegister();
    char dir[] = "/tmp/rp_test_calc_api_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char in[256], out[256], spec[300];
    snprintf(in, sizeof in, "%s/in.tif", dir);
    snprintf(out, sizeof out, "%s/out.tif", dir);
    snprintf(spec, sizeof spec, "A=%s", in);
    write_input(in);

    const char *argv[] = {
        "calc",          "-i", spec, "-o", out, "-j", "3", "--co", "BLOCKXSIZE=128", "--co",
        "BLOCKYSIZE=64", NULL};
    int argc = (int)(sizeof argv / sizeof argv[0]) - 1;
    rp_error err;
    rp_error_clear(&err);
    rp_calc_options *o = rp_calc_options_new(argc, argv, NULL, &err);
    CHECK(o != NULL);
    /* no expression and no kernel yet: a usage error at run */
    rp_calc_report rep;
    CHECK_EQ_INT(rp_calc_run(o, &rep, &err), RP_USAGE);
    rp_error_clear(&err);

    kernel_state st = {.add = 7};
    atomic_init(&st.calls, 0);
    atomic_init(&st.bad_windows, 0);
    rp_calc_options_set_kernel(o, add_kernel, &st);
    CHECK_EQ_INT(rp_calc_run(o, &rep, &err), RP_OK);
    CHECK_EQ_INT(rep.threads, 3);
    CHECK_EQ_INT(rep.out_bands, 1);
    CHECK_EQ_INT(rep.out_type, GDT_Int32);
    CHECK_EQ_INT(atomic_load(&st.calls), (int)rep.windows);
    CHECK_EQ_INT(atomic_load(&st.bad_windows), 0);
    GDALDatasetH ds = GDALOpen(out, GA_ReadOnly);
    CHECK(ds != NULL);
    if (ds) {
        int32_t *buf = malloc(sizeof *buf * W * H);
        CHECK(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Read, 0, 0, W, H, buf, W, H, GDT_Int32, 0,
                           0) == CE_None);
        int wrong = 0;
        for (int r = 0; r < H; r++)
            for (int c = 0; c < W; c++)
                wrong += buf[r * W + c] != r * 1000 + c + 7;
        CHECK_EQ_INT(wrong, 0);
        int bx, by;
        GDALGetBlockSize(GDALGetRasterBand(ds, 1), &bx, &by);
        CHECK_EQ_INT(bx, 128);
        CHECK_EQ_INT(by, 64);
        free(buf);
        GDALClose(ds);
    }
    unlink(out);

    /* cancelled by the progress callback (called at least once, at the
     * end of the pool's job): RP_INTERRUPTED, nothing left behind */
    rp_calc_options_set_progress(o, cancel_at_once, NULL);
    rp_error_clear(&err);
    CHECK_EQ_INT(rp_calc_run(o, &rep, &err), RP_INTERRUPTED);
    CHECK(access(out, F_OK) != 0);
    CHECK_EQ_INT(count_entries(dir), 1); /* in.tif only */
    rp_calc_options_set_progress(o, NULL, NULL);

    /* a failing kernel: RP_PARTIAL, its message, no output */
    rp_calc_options_set_kernel(o, failing_kernel, NULL);
    rp_error_clear(&err);
    CHECK_EQ_INT(rp_calc_run(o, &rep, &err), RP_PARTIAL);
    CHECK(strstr(err.message, "no thanks") != NULL);
    CHECK_EQ_INT(count_entries(dir), 1); /* in.tif only */
    rp_calc_options_free(o);

    unlink(in);
    rmdir(dir);
    GDALDestroyDriverManager();
    return CHECK_DONE();
}
