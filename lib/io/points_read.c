/*
 * points_read.c — points from a CSV file, standard input, or an OGR
 * dataset: the dispatcher of pass 1 and the row iterator of pass 2.
 *
 * Pass 1 (rp_points_read) keeps coordinates only. A path ending in
 * .csv/.tsv/.txt, or standard input, is CSV: its header is read here
 * (points_csv.c), then its data rows either row by row (points_csv.c) or,
 * for a large regular file and a pool of several threads, in parallel
 * pieces (points_csv_pieces.c). Anything else is opened with OGR
 * (points_ogr.c). Each reader fills an rp_xy_buf, moved into rp_points at
 * the end. The readers call only points_buf.c: the dependencies go one way.
 *
 * Pass 2 (rp_points_rows_*) reads the same rows again: the CSV file reopened
 * (or the spool of standard input), or the OGR layer reset.
 *
 * Threads: the caller's thread (pass 1 may use opts->pool's workers).
 * Ownership: rp_points owns everything it points to, including the OGR
 * dataset and the spool.
 */
#include "points_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cpl_string.h>
#include <ogr_srs_api.h>

#include "error.h"
#include "fileio.h"
#include "points_csv.h"
#include "points_csv_pieces.h"
#include "points_map.h"
#include "points_ogr.h"
#include "pool.h"

/* A CSV file this much larger than its header is read in parallel pieces
 * when the caller gives a pool of several threads. */
enum { PARALLEL_MIN_BYTES = 1 << 20 };

static bool has_csv_extension(const char *path) {
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash))
        return false;
    return strcasecmp(dot, ".csv") == 0 || strcasecmp(dot, ".tsv") == 0 ||
           strcasecmp(dot, ".txt") == 0;
}

/* The data rows of a mapped file, row by row, from byte data_at (line
 * `line`): the text is read in place, not copied. */
static rp_status read_mapped_rows(const rp_points_options *opts, rp_points *pts, uint64_t data_at,
                                  uint64_t line, rp_xy_buf *xy, rp_error *err) {
    rp_csv_reader *rows = rp_csv_reader_new_mem(pts->text + data_at, pts->text_len - data_at,
                                                pts->delimiter, line, data_at);
    if (!rows)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    rp_status rc = rp_points_csv_rows(opts, pts, rows, NULL, (off_t)pts->text_len, xy, err);
    rp_csv_reader_free(rows);
    return rc;
}

/* The header, then the data rows: in parallel pieces when the file is
 * large, regular, not standard input, and there are threads for it. */
static rp_status read_csv(const rp_points_options *opts, rp_points *pts, FILE *in, rp_xy_buf *xy,
                          rp_error *err) {
    rp_csv_reader *reader = rp_csv_reader_new(in, ',');
    if (!reader)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    rp_status rc = rp_points_csv_header(opts, pts, reader, err);
    off_t size = -1;
    if (rp_regular_file_size(fileno(in), &size) != 0)
        size = -1;
    uint64_t data_at = rp_csv_reader_offset(reader);
    if (rc == RP_OK && !pts->spool)
        rp_points_map_open(pts, fileno(in));
    if (pts->text && (uint64_t)size != pts->text_len) /* it changed since the header */
        rc = rp_points_check_unchanged(pts, "while reading its header", err);
    bool parallel = !pts->spool && opts->pool && rp_pool_threads(opts->pool) > 1 && size > 0 &&
                    (uint64_t)size > data_at + PARALLEL_MIN_BYTES;
    if (rc == RP_OK && parallel)
        rc = rp_points_csv_pieces(opts, pts, fileno(in), data_at, rp_csv_reader_line(reader),
                                  (uint64_t)size, xy, err);
    else if (rc == RP_OK && pts->text)
        rc = read_mapped_rows(opts, pts, data_at, rp_csv_reader_line(reader), xy, err);
    else if (rc == RP_OK)
        rc = rp_points_csv_rows(opts, pts, reader, in, size, xy, err);
    rp_csv_reader_free(reader);
    return rc;
}

/* The folder temporary files go to: $TMPDIR, else /tmp. */
static const char *temp_folder(void) {
    const char *t = getenv("TMPDIR");
    return t && *t ? t : "/tmp";
}

/* An unnamed temporary file in temp_folder() (tmpfile() ignores TMPDIR). */
static FILE *spool_file(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/rasterpool-stdin-XXXXXX", temp_folder());
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    unlink(path); /* gone with the process, whatever happens */
    FILE *f = fdopen(fd, "w+b");
    if (!f) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return f;
}

const char *rp_points_spool_folder(void) {
    return temp_folder();
}

/* Standard input is spooled for pass 2; a file is opened here. */
static rp_status read_csv_input(const rp_points_options *opts, rp_points *pts, bool from_stdin,
                                rp_xy_buf *xy, rp_error *err) {
    FILE *in = stdin;
    if (from_stdin) {
        pts->spool = spool_file();
        if (!pts->spool)
            return rp_error_set(err, RP_WRITE,
                                "cannot create a temporary file in %s to hold standard input: "
                                "%s (TMPDIR names the folder)",
                                temp_folder(), strerror(errno));
    } else {
        in = fopen(opts->path, "rb");
        if (!in)
            return rp_error_set(err, RP_OPEN, "%s: cannot open points: %s", opts->path,
                                strerror(errno));
        rp_points_note_identity(pts, fileno(in));
    }
    rp_status rc = read_csv(opts, pts, in, xy, err);
    if (in != stdin)
        fclose(in);
    if (rc == RP_OK && pts->spool && fflush(pts->spool) != 0)
        rc = rp_error_set(err, RP_WRITE,
                          "cannot spool standard input to a temporary file in %s: %s (TMPDIR "
                          "names the folder)",
                          temp_folder(), strerror(errno));
    return rc;
}

rp_status rp_points_read(const rp_points_options *opts, rp_points *pts, rp_error *err) {
    memset(pts, 0, sizeof *pts);
    bool from_stdin = !opts->path || strcmp(opts->path, "-") == 0;
    pts->display_name = strdup(from_stdin ? "<stdin>" : opts->path);
    pts->path = from_stdin ? NULL : strdup(opts->path);
    if (!pts->display_name || (!from_stdin && !pts->path))
        return rp_error_set(err, RP_NOMEM, "out of memory");
    pts->is_csv = from_stdin || has_csv_extension(opts->path);
    rp_xy_buf xy = {0};
    rp_status rc = pts->is_csv ? read_csv_input(opts, pts, from_stdin, &xy, err)
                               : rp_points_ogr_read(opts, pts, &xy, err);
    rp_xy_buf_move_to(&xy, pts); /* even on failure: rp_points_free frees them */
    if (rc == RP_OK && pts->text)
        rp_points_map_test_hook(pts, "pass1");
    if (rc == RP_OK)
        rc = rp_points_check_unchanged(pts, "after reading its points", err);
    return rc;
}

void rp_points_free(rp_points *pts) {
    if (!pts)
        return;
    rp_points_map_close(pts);
    free(pts->x);
    free(pts->y);
    free(pts->bad);
    free(pts->slices);
    free(pts->display_name);
    free(pts->path);
    free(pts->header);
    CSLDestroy(pts->header_names);
    if (pts->spool)
        fclose(pts->spool);
    if (pts->srs)
        OSRDestroySpatialReference(pts->srs);
    if (pts->vector)
        GDALClose(pts->vector);
    memset(pts, 0, sizeof *pts);
}

struct rp_points_rows {
    rp_points *points;
    FILE *in;
    bool own_in;
    rp_csv_reader *reader;
    rp_csv_record record;
    OGRFeatureH feature;
};

rp_points_rows *rp_points_rows_begin(rp_points *pts, rp_error *err) {
    rp_points_rows *rows = calloc(1, sizeof *rows);
    if (!rows) {
        rp_error_set(err, RP_NOMEM, "out of memory");
        return NULL;
    }
    rows->points = pts;
    if (!pts->is_csv) {
        OGR_L_ResetReading(pts->layer);
        return rows;
    }
    if (pts->spool) {
        rows->in = pts->spool;
        rewind(rows->in);
    } else {
        rows->in = fopen(pts->path, "rb");
        rows->own_in = true;
    }
    rows->reader = rows->in ? rp_csv_reader_new(rows->in, pts->delimiter) : NULL;
    rp_csv_record header;
    if (!rows->reader || rp_csv_read(rows->reader, &header) != 1) {
        rp_error_set(err, RP_READ, "%s: cannot read the points again", pts->display_name);
        rp_points_rows_end(rows);
        return NULL;
    }
    return rows;
}

int rp_points_rows_next(rp_points_rows *rows, const rp_csv_record **record, OGRFeatureH *feature) {
    if (rows->points->is_csv) {
        int got = rp_csv_read(rows->reader, &rows->record);
        *record = got == 1 ? &rows->record : NULL;
        return got;
    }
    if (rows->feature)
        OGR_F_Destroy(rows->feature);
    rows->feature = OGR_L_GetNextFeature(rows->points->layer);
    *feature = rows->feature;
    return rows->feature ? 1 : 0;
}

void rp_points_rows_end(rp_points_rows *rows) {
    if (!rows)
        return;
    rp_csv_reader_free(rows->reader);
    if (rows->own_in && rows->in)
        fclose(rows->in);
    if (rows->feature)
        OGR_F_Destroy(rows->feature);
    free(rows);
}
