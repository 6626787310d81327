/* test_log.c — the log callback: core's rp_log streams pass whole lines
 * (text written in pieces, several lines in one write, a last line without
 * newline at the end), keep the two levels apart, serialise the callback
 * when threads write at once; and a real job (extract over a CSV with bad
 * rows) delivers its warnings and its summary through rp_extract_options_
 * set_log, one whole line per call. */
#include <gdal.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "check.h"
#include "log.h"
#include "rasterpool.h"

enum { MAX_LINES = 4096 };

typedef struct collected {
    char *lines[MAX_LINES];
    int levels[MAX_LINES];
    int n;
    atomic_int inside; /* callbacks running now: must never exceed 1 */
    int overlap;
} collected;

static void collect(void *user, int level, const char *line) {
    collected *c = user;
    if (atomic_fetch_add(&c->inside, 1) != 0)
        c->overlap = 1;
    if (c->n < MAX_LINES) {
        c->lines[c->n] = strdup(line);
        c->levels[c->n] = level;
        c->n++;
    }
    usleep(10); /* widen the window in which an overlap would show */
    atomic_fetch_sub(&c->inside, 1);
}

static void collected_free(collected *c) {
    for (int i = 0; i < c->n; i++)
        free(c->lines[i]);
    c->n = 0;
}

static void test_pieces(void) {
    collected c;
    memset(&c, 0, sizeof c);
    rp_log *log = rp_log_new(collect, &c);
    CHECK(log != NULL);
    FILE *warn = rp_log_stream(log, RP_LOG_WARNING), *info = rp_log_stream(log, RP_LOG_INFO);
    fputs("first ", warn);
    fprintf(warn, "line %d", 1);
    fflush(warn); /* a flush mid-line must not cut the line */
    CHECK_EQ_INT(c.n, 0);
    fputs(" end\nsecond\n\nthird", warn);
    fprintf(info, "an info line\n");
    CHECK_EQ_INT(c.n, 4);
    rp_log_free(log); /* "third" has no newline: passed on at the end */
    CHECK_EQ_INT(c.n, 5);
    const char *want[] = {"first line 1 end", "second", "", "an info line", "third"};
    int want_level[] = {RP_LOG_WARNING, RP_LOG_WARNING, RP_LOG_WARNING, RP_LOG_INFO,
                        RP_LOG_WARNING};
    for (int i = 0; i < 5 && i < c.n; i++) {
        CHECK_EQ_STR(c.lines[i], want[i]);
        CHECK_EQ_INT(c.levels[i], want_level[i]);
    }
    collected_free(&c);
}

typedef struct writer_arg {
    FILE *stream;
    int id;
} writer_arg;

enum { WRITERS = 4, LINES_EACH = 200 };

static void *writer(void *p) {
    writer_arg *a = p;
    for (int i = 0; i < LINES_EACH; i++)
        fprintf(a->stream, "writer %d line %d %s\n", a->id, i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    return NULL;
}

/* Threads writing to both streams at once: every line arrives whole, once,
 * and never two callbacks overlap. */
static void test_threads(void) {
    static collected c;
    memset(&c, 0, sizeof c);
    rp_log *log = rp_log_new(collect, &c);
    pthread_t t[WRITERS];
    writer_arg args[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        args[i] = (writer_arg){rp_log_stream(log, i % 2 ? RP_LOG_INFO : RP_LOG_WARNING), i};
        pthread_create(&t[i], NULL, writer, &args[i]);
    }
    for (int i = 0; i < WRITERS; i++)
        pthread_join(t[i], NULL);
    rp_log_free(log);
    CHECK_EQ_INT(c.n, WRITERS * LINES_EACH);
    CHECK_EQ_INT(c.overlap, 0);
    int next[WRITERS] = {0};
    int bad = 0;
    for (int i = 0; i < c.n; i++) {
        int id = -1, line = -1;
        char tail[64];
        if (sscanf(c.lines[i], "writer %d line %d %63s", &id, &line, tail) != 3 || id < 0 ||
            id >= WRITERS || line != next[id] || strlen(tail) != 30 ||
            c.levels[i] != (id % 2 ? RP_LOG_INFO : RP_LOG_WARNING)) {
            bad++;
            continue;
        }
        next[id]++; /* each writer's lines arrive in its order */
    }
    CHECK_EQ_INT(bad, 0);
    collected_free(&c);
}

static void write_raster(const char *path) {
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, 10, 10, 1, GDT_Byte, NULL);
    double gt[6] = {0, 1, 0, 10, 0, -1};
    GDALSetGeoTransform(ds, gt);
    GDALClose(ds);
}

/* extract over a CSV with 3 bad rows: three warning lines naming the rows,
 * the -v summary as info lines, nothing on the default stderr. */
static void test_job(void) {
    char dir[] = "/tmp/rp_test_log_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char raster[256], points[256], out[256];
    snprintf(raster, sizeof raster, "%s/r.tif", dir);
    snprintf(points, sizeof points, "%s/p.csv", dir);
    snprintf(out, sizeof out, "%s/out.csv", dir);
    write_raster(raster);
    FILE *f = fopen(points, "w");
    fputs("x,y\n1.5,1.5\nfoo,1\n2,bar\n3.5,3.5\n,\n", f);
    fclose(f);

    static collected c;
    memset(&c, 0, sizeof c);
    rp_error err;
    rp_error_clear(&err);
    const char *argv[] = {"extract", raster, "--points", points, "-o", out, "-j", "2", NULL};
    rp_extract_options *o = rp_extract_options_new(8, argv, NULL, &err);
    CHECK(o != NULL);
    CHECK_EQ_INT(rp_extract_options_set_log(o, collect, &c), RP_OK);
    rp_extract_report report;
    CHECK_EQ_INT(rp_extract_run(o, &report, &err), RP_PARTIAL);
    rp_extract_options_free(o);
    int warnings = 0, infos = 0, bad_rows_named = 0;
    for (int i = 0; i < c.n; i++) {
        CHECK(strchr(c.lines[i], '\n') == NULL);
        if (c.levels[i] == RP_LOG_WARNING) {
            warnings++;
            bad_rows_named += strstr(c.lines[i], "p.csv:3") || strstr(c.lines[i], "p.csv:4") ||
                              strstr(c.lines[i], "p.csv:6");
        } else {
            CHECK_EQ_INT(c.levels[i], RP_LOG_INFO);
            infos++;
        }
    }
    CHECK_EQ_INT(warnings, 3);
    CHECK_EQ_INT(bad_rows_named, 3);
    CHECK(infos >= 1); /* the summary */
    if (c.n == 0 || warnings != 3)
        for (int i = 0; i < c.n; i++)
            fprintf(stderr, "  line %d (level %d): %s\n", i, c.levels[i], c.lines[i]);
    collected_free(&c);

    /* fn NULL: silence, and the job still runs */
    o = rp_extract_options_new(8, argv, NULL, &err);
    CHECK(o != NULL);
    CHECK_EQ_INT(rp_extract_options_set_log(o, NULL, NULL), RP_OK);
    CHECK_EQ_INT(rp_extract_run(o, NULL, &err), RP_PARTIAL);
    rp_extract_options_free(o);
    unlink(raster);
    unlink(points);
    unlink(out);
    rmdir(dir);
}

int main(void) {
    test_pieces();
    test_threads();
    rp_init();
    test_job();
    return CHECK_DONE();
}
