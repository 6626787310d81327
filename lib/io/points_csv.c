/*
 * points_csv.c — pass 1 of CSV points, row by row: the header (delimiter,
 * x/y columns found by name — x/y, lon/lat, longitude/latitude,
 * easting/northing, any case — unless named), then each record through the
 * streaming reader (csv.c) and numparse.cc. A row whose coordinates cannot
 * be parsed is kept as a point with NaN coordinates and flagged bad, and a
 * warning names FILE:LINE. Slices for pass 2 are at most 65,536 rows or
 * 8 MiB of text. Standard input is copied to the spool as it is
 * read, for pass 2.
 *
 * Threads: the caller's thread only. Ownership: the header text and names
 * go into rp_points; coordinates into the caller's rp_xy_buf.
 */
#include "points_csv.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cpl_string.h>

#include "error.h"
#include "points_map.h"

static const char *const xy_names[][2] = {
    {"x", "y"},
    {"lon", "lat"},
    {"longitude", "latitude"},
    {"easting", "northing"},
    {"lng", "lat"},
    {"long", "lat"},
    {"point_x", "point_y"}, /* ArcGIS (Add XY Coordinates) */
    {"xcoord", "ycoord"},
    {"x_coord", "y_coord"},
};

/* A WKT geometry column, as ogr2ogr -lco GEOMETRY=AS_WKT writes it. */
static const char *const wkt_names[] = {"wkt", "geometry", "geom", "the_geom", "wkt_geom"};

static bool field_is(const rp_csv_record *rec, size_t i, const char *name) {
    char buf[256];
    size_t n = rp_csv_field_text(rec, i, buf, sizeof buf);
    if (n >= sizeof buf)
        return false;
    /* tolerate spaces around header names */
    char *s = buf;
    while (*s == ' ')
        s++;
    size_t len = strlen(s);
    while (len > 0 && s[len - 1] == ' ')
        s[--len] = '\0';
    return strcasecmp(s, name) == 0;
}

static long find_field(const rp_csv_record *rec, const char *name) {
    for (size_t i = 0; i < rec->nfields; i++)
        if (field_is(rec, i, name))
            return (long)i;
    return -1;
}

/* The header's names, quoted and comma-separated, for messages. */
static void list_names(const rp_csv_record *header, char *out, size_t cap) {
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < header->nfields && used + 8 < cap; i++) {
        char name[128];
        rp_csv_field_text(header, i, name, sizeof name);
        int w = snprintf(out + used, cap - used, "%s'%s'", i ? ", " : "", name);
        if (w < 0 || (size_t)w >= cap - used) {
            snprintf(out + (cap > 4 ? cap - 4 : 0), cap > 4 ? 4 : cap, "...");
            return;
        }
        used += (size_t)w;
    }
}

static rp_status find_xy_columns(const rp_points_options *opts, rp_points *pts,
                                 const rp_csv_record *header, rp_error *err) {
    if (opts->x_col || opts->y_col) {
        const char *xn = opts->x_col ? opts->x_col : "x";
        const char *yn = opts->y_col ? opts->y_col : "y";
        long xi = find_field(header, xn), yi = find_field(header, yn);
        if (xi < 0 || yi < 0) {
            char names[512];
            list_names(header, names, sizeof names);
            return rp_error_set(err, RP_USAGE,
                                "%s: no column named '%s' in the header; its columns are: %s",
                                pts->display_name, xi < 0 ? xn : yn, names);
        }
        pts->x_field = (size_t)xi;
        pts->y_field = (size_t)yi;
        return RP_OK;
    }
    for (size_t k = 0; k < sizeof xy_names / sizeof xy_names[0]; k++) {
        long xi = find_field(header, xy_names[k][0]), yi = find_field(header, xy_names[k][1]);
        if (xi >= 0 && yi >= 0) {
            pts->x_field = (size_t)xi;
            pts->y_field = (size_t)yi;
            return RP_OK;
        }
    }
    for (size_t k = 0; k < sizeof wkt_names / sizeof wkt_names[0]; k++) {
        long wi = find_field(header, wkt_names[k]);
        if (wi >= 0) {
            pts->x_field = pts->y_field = (size_t)wi;
            pts->wkt = true;
            return RP_OK;
        }
    }
    char names[512];
    list_names(header, names, sizeof names);
    return rp_error_set(err, RP_USAGE,
                        "%s: no x/y columns in the header (looked for x,y / lon,lat / "
                        "longitude,latitude / easting,northing / POINT_X,POINT_Y / "
                        "xcoord,ycoord, or a WKT column); its columns are: %s; name them with "
                        "--x-col and --y-col",
                        pts->display_name, names);
}

/* The header's field names, unquoted. */
static char **header_names(const rp_csv_record *header) {
    char **names = NULL;
    for (size_t i = 0; i < header->nfields; i++) {
        size_t n = rp_csv_field_text(header, i, NULL, 0);
        char *name = malloc(n + 1);
        if (!name)
            break;
        rp_csv_field_text(header, i, name, n + 1);
        names = CSLAddString(names, name);
        free(name);
    }
    return names;
}

/* rp_csv_read that goes on after a signal interrupted a read, unless the
 * caller's progress function says stop: then -4. */
static int next_record(rp_csv_reader *reader, rp_csv_record *rec, const rp_points_options *opts) {
    int got;
    while ((got = rp_csv_read(reader, rec)) == -3)
        if (opts->progress && opts->progress(0, "reading points", opts->progress_user))
            return -4;
    return got;
}

/* Standard input's copy, for the second pass. */
static rp_status spool_record(rp_points *pts, const rp_csv_record *rec, rp_error *err) {
    if (!pts->spool)
        return RP_OK;
    if (fwrite(rec->raw, 1, rec->raw_len, pts->spool) != rec->raw_len ||
        fputc('\n', pts->spool) == EOF)
        return rp_error_set(err, RP_WRITE,
                            "cannot spool standard input to a temporary file in %s: %s (TMPDIR "
                            "names the folder)",
                            rp_points_spool_folder(), strerror(errno));
    pts->spool_len += rec->raw_len + 1;
    return RP_OK;
}

rp_status rp_points_csv_header(const rp_points_options *opts, rp_points *pts, rp_csv_reader *reader,
                               rp_error *err) {
    rp_csv_record rec;
    int got = next_record(reader, &rec, opts);
    if (got == -4)
        return rp_error_set(err, RP_INTERRUPTED, "interrupted");
    if (got <= 0)
        return rp_error_set(err, RP_OPEN, "%s: %s", pts->display_name,
                            got < 0 ? "cannot read" : "empty file: no header line");
    pts->delimiter = rp_csv_detect_delimiter(rec.raw, rec.raw_len);
    if (pts->delimiter != ',') {
        rp_csv_reader_set_delimiter(reader, pts->delimiter);
        rp_csv_unread(reader);
        if (rp_csv_read(reader, &rec) != 1)
            return rp_error_set(err, RP_READ, "%s: cannot read the header", pts->display_name);
    }
    rp_status rc = find_xy_columns(opts, pts, &rec, err);
    if (rc != RP_OK)
        return rc;
    pts->header_names = header_names(&rec);
    pts->header_fields = rec.nfields;
    pts->header = malloc(rec.raw_len + 1);
    if (!pts->header || !pts->header_names)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    memcpy(pts->header, rec.raw, rec.raw_len);
    pts->header[rec.raw_len] = '\0';
    pts->header_len = rec.raw_len;
    return spool_record(pts, &rec, err);
}

/* Whether a new slice starts with the row at text offset `at`, index
 * `row`: the first row, or the open slice holds RP_POINTS_SLICE_ROWS rows
 * or RP_POINTS_SLICE_BYTES of text (pass 2 holds a slice's text and its
 * formatted rows in memory, so long rows must not make a slice large). */
static bool slice_starts_at(const rp_points *pts, uint64_t at, size_t row) {
    if (pts->nslices == 0)
        return true;
    const rp_points_slice *open = &pts->slices[pts->nslices - 1];
    return row - open->first_row >= RP_POINTS_SLICE_ROWS ||
           at - open->offset >= RP_POINTS_SLICE_BYTES;
}

/* One data record: a slice mark when one starts here (where pass 2 finds
 * it), the point (or a bad one, warned about), the spool. */
static rp_status take_record(const rp_points_options *opts, rp_points *pts,
                             const rp_csv_record *rec, rp_xy_buf *xy, rp_error *err) {
    double x = NAN, y = NAN;
    char why[RP_POINTS_WHY];
    bool ok = rp_points_parse_xy(pts, rec, &x, &y, why);
    uint64_t at = pts->spool ? pts->spool_len : rec->offset;
    bool starts = slice_starts_at(pts, at, xy->n);
    if (starts && pts->nslices > 0) /* a mapped file: the slice read leaves memory */
        rp_points_map_release(pts, pts->slices[pts->nslices - 1].offset, at);
    if ((starts && rp_points_add_slice(pts, at, rec->line, xy->n, false) != 0) ||
        rp_xy_buf_push(xy, ok ? x : NAN, ok ? y : NAN, !ok) != 0)
        return rp_error_set(err, RP_NOMEM, "out of memory reading points");
    if (!ok) {
        char where[32];
        snprintf(where, sizeof where, "%llu", (unsigned long long)rec->line);
        rp_points_warn_bad(opts, pts, xy->nbad, where, why);
    }
    return spool_record(pts, rec, err);
}

/* After the first ESTIMATE_ROWS rows of a file of known size: room for the
 * rows the whole file likely holds at their bytes a row (plus 1/16), so
 * the arrays are not copied into fresh pages again and again as they
 * double (as the parallel pieces do). A low estimate only means doubling
 * from there; untouched room costs no memory. */
enum { ESTIMATE_ROWS = 16384 };
static void reserve_estimate(rp_xy_buf *xy, uint64_t first, uint64_t at, off_t size) {
    if (size <= 0 || at <= first || (uint64_t)size <= at)
        return;
    double per_row = (double)(at - first) / (double)xy->n;
    double rows = (double)((uint64_t)size - first) / per_row;
    (void)rp_xy_buf_reserve(xy, (size_t)(rows + rows / 16) + 1024);
}

rp_status rp_points_csv_rows(const rp_points_options *opts, rp_points *pts, rp_csv_reader *reader,
                             FILE *in, off_t size, rp_xy_buf *xy, rp_error *err) {
    uint64_t last_line = 1, first = UINT64_MAX;
    rp_status rc = RP_OK;
    rp_csv_record rec;
    int got = 0;
    while (rc == RP_OK && (got = next_record(reader, &rec, opts)) == 1) {
        if (rec.raw_len >= RP_CSV_MAX_RECORD) { /* a memory reader (a mapped file) */
            got = -2;                           /* has no limit: the stream's */
            break;
        }
        last_line = rec.line;
        if (first == UINT64_MAX)
            first = rec.offset;
        if (xy->n == ESTIMATE_ROWS && !pts->spool)
            reserve_estimate(xy, first, rec.offset, size);
        off_t at = size > 0 && (xy->n & 0xfff) == 0 ? (in ? ftello(in) : (off_t)rec.offset) : 0;
        if (rp_points_should_stop(opts, xy->n, at > 0 ? (double)at / (double)size : 0)) {
            rc = rp_error_set(err, RP_INTERRUPTED, "interrupted");
            break;
        }
        rc = take_record(opts, pts, &rec, xy, err);
    }
    if (rc != RP_OK)
        return rc;
    if (got == -4)
        return rp_error_set(err, RP_INTERRUPTED, "interrupted");
    if (got == -2)
        return rp_error_set(err, RP_READ,
                            "%s: a record after line %llu is longer than %zu MiB (an unclosed "
                            "quote?)",
                            pts->display_name, (unsigned long long)last_line,
                            RP_CSV_MAX_RECORD >> 20);
    if (got < 0)
        return rp_error_set(err, RP_READ, "%s: read error after line %llu: %s", pts->display_name,
                            (unsigned long long)last_line, strerror(errno));
    return RP_OK;
}
