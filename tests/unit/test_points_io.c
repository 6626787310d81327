/* test_points_io.c — the io layer's lower modules: the coordinate buffer
 * and x/y parsing (points_buf.c), pass 1 of a small CSV file
 * (points_read.c), the writers' pass-2 loop (table_rows.c: every row once,
 * in order; a callback's error stops it; a file that changed between the
 * passes is an error), the mapped path and its checks (points_map.c),
 * and the output-fields check before any pixel work
 * (table_write.c / table_ogr.c's probe: lists to FlatGeobuf refused, to
 * GeoPackage and CSV taken, nothing left in /vsimem/). */
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>

#include "check.h"
#include "error.h"
#include "points_buf.h"
#include "points_map.h"
#include "points_read.h"
#include "table_rows.h"
#include "table_write.h"

static void write_text(const char *path, const char *mode, const char *text) {
    FILE *f = fopen(path, mode);
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* A new temporary file from template (mkstemps: `suffix` characters kept
 * after the XXXXXX), holding text. */
static void temp_file(char *template, int suffix, const char *text) {
    int fd = mkstemps(template, suffix);
    CHECK(fd >= 0);
    close(fd);
    write_text(template, "w", text);
}

static void xy_buffer(void) {
    rp_xy_buf a = {0}, b = {0};
    for (int i = 0; i < 10000; i++) /* past the first growth */
        CHECK_EQ_INT(rp_xy_buf_push(&a, i, -i, i % 7 == 0), 0);
    CHECK_EQ_INT(a.n, 10000);
    CHECK_EQ_INT(a.nbad, 1429);
    size_t wrong = 0;
    for (size_t i = 0; i < a.n; i++)
        wrong += a.x[i] != (double)i || a.y[i] != -(double)i || a.bad[i] != (i % 7 == 0);
    CHECK_EQ_INT(wrong, 0);
    CHECK_EQ_INT(rp_xy_buf_push(&b, 0.5, 1.5, false), 0);
    CHECK_EQ_INT(rp_xy_buf_append(&b, &a), 0);
    CHECK_EQ_INT(b.n, 10001);
    CHECK_EQ_INT(b.nbad, 1429);
    CHECK(b.x[0] == 0.5 && b.x[10000] == 9999 && b.bad[1] == 1);
    rp_points pts = {0};
    rp_xy_buf_move_to(&b, &pts);
    CHECK(b.x == NULL && b.n == 0);
    CHECK(pts.n == 10001 && pts.nbad == 1429 && pts.y[1] == 0);
    free(pts.x);
    free(pts.y);
    free(pts.bad);
    rp_xy_buf_free(&a);
    CHECK(a.x == NULL && a.cap == 0);
}

static void parse_xy(void) {
    const char *text = "1.5,2.5\nabc,2\n7\n\" 3 \",4e1\n";
    rp_csv_reader *r = rp_csv_reader_new_mem(text, strlen(text), ',', 1, 0);
    rp_points pts = {.x_field = 0, .y_field = 1};
    rp_csv_record rec;
    double x = 0, y = 0;
    char why[RP_POINTS_WHY];
    CHECK_EQ_INT(rp_csv_read(r, &rec), 1);
    CHECK(rp_points_parse_xy(&pts, &rec, &x, &y, why) && x == 1.5 && y == 2.5);
    CHECK_EQ_INT(rp_csv_read(r, &rec), 1);
    CHECK(!rp_points_parse_xy(&pts, &rec, &x, &y, why) && strstr(why, "not a number"));
    CHECK_EQ_INT(rp_csv_read(r, &rec), 1);
    CHECK(!rp_points_parse_xy(&pts, &rec, &x, &y, why) && strstr(why, "y coordinate missing"));
    CHECK_EQ_INT(rp_csv_read(r, &rec), 1);
    CHECK(rp_points_parse_xy(&pts, &rec, &x, &y, why) && x == 3 && y == 40);
    rp_csv_reader_free(r);
}

typedef struct seen {
    size_t calls, next;
    char ids[8][8];
    size_t fail_at; /* 0: never */
} seen;

static rp_status count_row(void *ctx, size_t i, const rp_csv_record *rec, OGRFeatureH feat,
                           rp_error *err) {
    seen *s = ctx;
    CHECK_EQ_INT(i, s->next);
    CHECK(rec != NULL && feat == NULL);
    s->next = i + 1;
    if (s->calls < 8 && rec)
        rp_csv_field_text(rec, 0, s->ids[s->calls], sizeof s->ids[0]);
    s->calls++;
    if (s->fail_at && s->calls == s->fail_at)
        return rp_error_set(err, RP_WRITE, "stop here");
    return RP_OK;
}

static void rows_loop(void) {
    char path[] = "/tmp/rp_test_points_XXXXXX.csv";
    temp_file(path, 4, "id,x,y\n1,1.5,2.5\n2,abc,3\n3,4,5\n");
    rp_points_options opts = {.path = path};
    rp_points pts;
    rp_error err = {0};
    CHECK_EQ_INT(rp_points_read(&opts, &pts, &err), RP_OK);
    CHECK(pts.is_csv && pts.n == 3 && pts.nbad == 1 && pts.bad[1] == 1 && pts.x[2] == 4);
    CHECK_EQ_INT(pts.nslices, 1);
    CHECK_EQ_STR(pts.header_names[2], "y");
    rp_table_spec spec = {.points = &pts};

    seen s = {0};
    CHECK_EQ_INT(rp_table_for_each_row(&spec, count_row, &s, &err), RP_OK);
    CHECK_EQ_INT(s.calls, 3);
    CHECK(strcmp(s.ids[0], "1") == 0 && strcmp(s.ids[2], "3") == 0);

    seen stop = {.fail_at = 2};
    rp_error_clear(&err);
    CHECK_EQ_INT(rp_table_for_each_row(&spec, count_row, &stop, &err), RP_WRITE);
    CHECK_EQ_INT(stop.calls, 2);
    CHECK_EQ_STR(err.message, "stop here");

    write_text(path, "a", "4,6,7\n"); /* a row more than pass 1 read */
    /* the file's size and time differ from pass 1's open: told before any row */
    seen early = {0};
    rp_error_clear(&err);
    CHECK_EQ_INT(rp_table_for_each_row(&spec, count_row, &early, &err), RP_READ);
    CHECK(strstr(err.message, "changed while being read (found before writing the output: now "
                              "37 bytes, was 31)") != NULL);
    CHECK_EQ_INT(early.calls, 0);

    /* a change the check cannot see (made after it, while the rows are read):
     * the rows themselves no longer match pass 1's count */
    pts.identity.known = false;
    seen more = {0};
    rp_error_clear(&err);
    CHECK_EQ_INT(rp_table_for_each_row(&spec, count_row, &more, &err), RP_READ);
    CHECK(strstr(err.message, "changed while being read") != NULL);
    CHECK_EQ_INT(more.calls, 3);

    write_text(path, "w", "id,x,y\n1,1.5,2.5\n"); /* rows fewer */
    seen fewer = {0};
    rp_error_clear(&err);
    CHECK_EQ_INT(rp_table_for_each_row(&spec, count_row, &fewer, &err), RP_READ);
    CHECK_EQ_INT(fewer.calls, 1);
    rp_points_free(&pts);
    unlink(path);
}

/* The mapped path (points_map.c): opted in, a regular file is mapped and
 * registered (rp_mapped_points_at names it inside its range and not past
 * it), parsed the same as with pread, and a file rewritten in place with
 * the same size, or truncated, fails the check naming it; not opted in,
 * nothing is mapped. */
static void mapped_file(void) {
    char path[] = "/tmp/rp_test_mapped_XXXXXX.csv";
    temp_file(path, 4, "id,x,y\n1,1.5,2.5\n2,abc,3\n3,4,5\n");
    rp_points_options opts = {.path = path};
    rp_points pts;
    rp_error err = {0};
    CHECK_EQ_INT(rp_points_read(&opts, &pts, &err), RP_OK);
    CHECK(pts.text == NULL); /* the library's default: pread */
    rp_points_free(&pts);

    rp_map_points_files(1);
    CHECK_EQ_INT(rp_points_read(&opts, &pts, &err), RP_OK);
    CHECK(pts.text != NULL && pts.text_len == 31);
    CHECK(pts.n == 3 && pts.nbad == 1 && pts.bad[1] == 1 && pts.x[2] == 4 && pts.y[0] == 2.5);
    CHECK(rp_mapped_points_at(pts.text) != NULL &&
          strcmp(rp_mapped_points_at(pts.text + 30), path) == 0);
    CHECK(rp_mapped_points_at(pts.text + 31) == NULL);
    CHECK_EQ_INT(rp_points_check_unchanged(&pts, "now", &err), RP_OK);

    /* the same size, other bytes, a later modification time */
    int wfd = open(path, O_WRONLY);
    CHECK(wfd >= 0 && pwrite(wfd, "9", 1, 7) == 1);
    struct timespec later[2] = {{0, UTIME_OMIT}, {time(NULL) + 5, 0}};
    CHECK_EQ_INT(futimens(wfd, later), 0);
    close(wfd);
    rp_error_clear(&err);
    CHECK_EQ_INT(rp_points_check_unchanged(&pts, "now", &err), RP_READ);
    CHECK(strstr(err.message, path) && strstr(err.message, "same size"));
    rp_points_free(&pts);
    CHECK(rp_mapped_points_at(pts.text) == NULL && pts.text == NULL);

    CHECK_EQ_INT(rp_points_read(&opts, &pts, &err), RP_OK);
    CHECK_EQ_INT(truncate(path, 10), 0);
    rp_error_clear(&err);
    CHECK_EQ_INT(rp_points_check_unchanged(&pts, "now", &err), RP_READ);
    CHECK(strstr(err.message, "now 10 bytes, was 31") != NULL);
    rp_points_free(&pts);
    rp_map_points_files(0);
    unlink(path);
}

static int probe_leftovers(void) {
    char **entries = VSIReadDir("/vsimem/");
    int n = 0;
    for (char **e = entries; e && *e; e++)
        n += strncmp(*e, "rasterpool-probe", 16) == 0;
    CSLDestroy(entries);
    return n;
}

static void output_fields(void) {
    GDALAllRegister();
    char path[] = "/tmp/rp_test_lists_XXXXXX.geojson";
    temp_file(path, 8,
              "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":"
              "{\"name\":\"a\",\"tags\":[\"x\",\"y\"]},\"geometry\":{\"type\":\"Point\","
              "\"coordinates\":[1,2]}}]}\n");
    rp_points_options opts = {.path = path};
    rp_points pts;
    rp_error err = {0};
    CHECK_EQ_INT(rp_points_read(&opts, &pts, &err), RP_OK);
    CHECK(!pts.is_csv && pts.n == 1);
    rp_value_column col = {.name = "b1", .status_name = "b1_status"};
    col.band.type = GDT_Int32;
    rp_error_clear(&err);
    CHECK_EQ_INT(rp_table_check_fields("/tmp/rp_test_never.fgb", &pts, &col, 1, true, &err),
                 RP_USAGE);
    CHECK(strstr(err.message, "tags") != NULL);
    rp_error_clear(&err);
    CHECK_EQ_INT(rp_table_check_fields("/tmp/rp_test_never.gpkg", &pts, &col, 1, true, &err),
                 RP_OK);
    CHECK_EQ_INT(rp_table_check_fields("/tmp/rp_test_never.csv", &pts, &col, 1, true, &err), RP_OK);
    CHECK_EQ_INT(rp_table_check_fields(NULL, &pts, &col, 1, true, &err), RP_OK);
    CHECK(access("/tmp/rp_test_never.fgb", F_OK) != 0); /* the probe writes in memory only */
    CHECK(access("/tmp/rp_test_never.gpkg", F_OK) != 0);
    CHECK_EQ_INT(probe_leftovers(), 0);
    rp_points_free(&pts);
    unlink(path);
}

int main(void) {
    xy_buffer();
    parse_xy();
    rows_loop();
    mapped_file();
    output_fields();
    return CHECK_DONE();
}
