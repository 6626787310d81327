/*
 * table_csv.c — the output table as CSV text.
 *
 * A CSV input row is copied byte for byte, padded with empty fields when it
 * is shorter than the header (so values always land under their own
 * column names), and the values are appended with the input's delimiter. A
 * vector input row becomes x, y and its fields.
 *
 * CSV input is read again in slices that the pool's workers format in
 * parallel and write in order themselves (table_csv_slices.c, with the
 * row formatting of this file: table_csv_rows.h), so the writing overlaps
 * the formatting. Vector input, and CSV that cannot be read again by
 * offset, go row by row on the caller's thread, through table_rows.c's
 * loop.
 *
 * Threads: the row formatters are pure over the caller's buffer (the
 * slices' workers call them in parallel); the row-by-row path runs on the
 * caller's thread.
 */
#include "table_csv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gdal.h>
#include <ogr_api.h>

#include "error.h"
#include "fileio.h"
#include "numtext.h"
#include "table_csv_put.h"
#include "table_csv_rows.h"
#include "table_rows.h"
#include "valfmt.h"

/* The row buffer's growth (table_csv_put.h's reserve): doubles the
 * capacity until n more bytes fit. */
bool rp_csv_grow(rp_row_buffer *b, size_t n) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n)
        cap *= 2;
    char *grown = realloc(b->data, cap);
    if (!grown) {
        b->failed = true;
        return false;
    }
    b->data = grown;
    b->cap = cap;
    return !b->failed;
}

static bool reserve(rp_row_buffer *b, size_t n) {
    return rp_csv_reserve(b, n);
}

static void put_bytes(rp_row_buffer *b, const char *s, size_t n) {
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static void put_char(rp_row_buffer *b, char c) {
    put_bytes(b, &c, 1);
}

static void put_string(rp_row_buffer *b, const char *s) {
    put_bytes(b, s, strlen(s));
}

/* s as one CSV field, quoted when it holds the delimiter, a quote or a line
 * end. */
static void put_field(rp_row_buffer *b, const char *s, char delimiter) {
    if (!strchr(s, delimiter) && !strpbrk(s, "\"\n\r")) {
        put_string(b, s);
        return;
    }
    put_char(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            put_char(b, '"');
        put_char(b, *s);
    }
    put_char(b, '"');
}

/* Whether name is a field of the vector input or a value/status column. */
static bool csv_name_taken(const rp_table_spec *spec, const char *name) {
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(spec->points->layer);
    for (int f = 0; f < OGR_FD_GetFieldCount(defn); f++)
        if (strcasecmp(OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, f)), name) == 0)
            return true;
    for (int c = 0; c < spec->ncolumns; c++)
        if (strcasecmp(spec->columns[c].name, name) == 0 ||
            (spec->with_status && strcasecmp(spec->columns[c].status_name, name) == 0))
            return true;
    return false;
}

/* The name of a vector input's point column (base "x" or "y") in CSV
 * output: base, or base_2, base_3, ... when the layer has a field of that
 * name (a layer with x and y fields), with a note, as value columns are
 * renamed. */
static void point_column_name(const rp_table_spec *spec, const char *base, char *out, size_t cap) {
    snprintf(out, cap, "%s", base);
    for (int k = 2; csv_name_taken(spec, out); k++)
        snprintf(out, cap, "%s_%d", base, k);
    if (strcmp(out, base) != 0 && spec->log)
        fprintf(spec->log,
                "rasterpool: the input already has a field '%s': the point's %s column is "
                "'%s'\n",
                base, base, out);
}

static void put_header(rp_row_buffer *b, const rp_table_spec *spec, char d) {
    const rp_points *pts = spec->points;
    if (pts->is_csv) {
        put_bytes(b, pts->header, pts->header_len);
    } else {
        OGRFeatureDefnH defn = OGR_L_GetLayerDefn(pts->layer);
        char name[64];
        point_column_name(spec, "x", name, sizeof name);
        put_field(b, name, d);
        put_char(b, d);
        point_column_name(spec, "y", name, sizeof name);
        put_field(b, name, d);
        for (int f = 0; f < OGR_FD_GetFieldCount(defn); f++) {
            put_char(b, d);
            put_field(b, OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, f)), d);
        }
    }
    for (int c = 0; c < spec->ncolumns; c++) {
        put_char(b, d);
        put_field(b, spec->columns[c].name, d);
        if (spec->with_status) {
            put_char(b, d);
            put_field(b, spec->columns[c].status_name, d);
        }
    }
    put_char(b, '\n');
}

static void put_vector_row(rp_row_buffer *b, const rp_points *pts, OGRFeatureH feat, size_t i,
                           char d) {
    char num[RP_VALFMT_MAX];
    if (!pts->bad[i]) {
        put_bytes(b, num, rp_format_double(num, pts->x[i]));
        put_char(b, d);
        put_bytes(b, num, rp_format_double(num, pts->y[i]));
    } else {
        put_char(b, d);
    }
    OGRFeatureDefnH defn = OGR_F_GetDefnRef(feat);
    for (int f = 0; f < OGR_FD_GetFieldCount(defn); f++) {
        put_char(b, d);
        if (OGR_F_IsFieldSetAndNotNull(feat, f))
            put_field(b, OGR_F_GetFieldAsString(feat, f), d);
    }
}

/* The row's values, each formatted straight into the buffer (room for
 * RP_VALFMT_MAX bytes is made first: the formatters may write that far).
 * Without status columns, the room for the whole row's values is made
 * once and the bytes are put without further checks. */
static void put_values(rp_row_buffer *b, const rp_table_spec *spec, size_t i, char d) {
    if (!spec->with_status) {
        if (reserve(b, rp_csv_values_room(spec)))
            b->len = (size_t)(rp_csv_put_values_at(b->data + b->len, spec, i, d) - b->data);
        return;
    }
    for (int c = 0; c < spec->ncolumns; c++) {
        const rp_value_column *col = &spec->columns[c];
        if (!reserve(b, 1 + RP_VALFMT_MAX))
            return;
        b->data[b->len++] = d;
        if (col->status[i] == RP_POINT_OK)
            b->len += rp_format_value(b->data + b->len, col->band.value_type,
                                      col->values + i * (size_t)col->band.type_size);
        put_char(b, d);
        put_string(b, rp_point_status_name((rp_point_status)col->status[i]));
    }
    put_char(b, '\n');
}

/* After a signal interrupted a write: go on unless the caller's progress
 * function says stop. */
int rp_csv_keep_writing(void *vspec) {
    const rp_table_spec *spec = vspec;
    return !spec->progress || spec->progress(0, "writing", spec->progress_user) == 0;
}

/* RP_WRITE: the output cannot be written (errno says why) near row. */
rp_status rp_csv_write_error(const rp_table_spec *spec, size_t row, rp_error *err) {
    /* direct output reports a chunk's failure at the next hand-over or at
     * the end (direct_out.c): the row is where it was found, at or after
     * the failure */
    return rp_error_set(err, RP_WRITE, "%s: cannot write the output (found at row %zu): %s",
                        spec->name ? spec->name : "standard output", row, strerror(errno));
}

/* Writes the whole buffer. A signal that interrupts a write to a pipe is
 * the caller's to judge (progress): stop with RP_INTERRUPTED, or go on. */
static rp_status write_all(FILE *out, const char *data, size_t len, const rp_table_spec *spec,
                           size_t row, rp_error *err) {
    int put = rp_fwrite_full(out, data, len, rp_csv_keep_writing, (void *)spec);
    if (put > 0)
        return rp_error_set(err, RP_INTERRUPTED, "interrupted");
    return put < 0 ? rp_csv_write_error(spec, row, err) : RP_OK;
}

/* A row longer than the header: its values cannot line up with their
 * names. Said for the first few (in row order). */
void rp_csv_warn_long_row(const rp_table_spec *spec, uint64_t line, size_t nfields, size_t *count) {
    const rp_points *pts = spec->points;
    if (spec->log && *count < RP_CSV_MAX_ROW_WARNINGS)
        fprintf(spec->log,
                "rasterpool: %s:%llu: the row has %zu fields, the header %zu: its values "
                "follow its last field\n",
                pts->display_name, (unsigned long long)line, nfields, pts->header_fields);
    (*count)++;
}

/* After the last row: the total, when there were more than were shown. */
void rp_csv_total_long_rows(const rp_table_spec *spec, size_t count) {
    if (spec->log && count > RP_CSV_MAX_ROW_WARNINGS)
        fprintf(spec->log, "rasterpool: %s: %zu rows are longer than the header in all\n",
                spec->points->display_name, count);
}

/* A CSV input row byte for byte, then its values. */
void rp_csv_put_row(rp_row_buffer *b, const rp_table_spec *spec, const rp_csv_record *rec, size_t i,
                    char d) {
    rp_csv_put_line(b, spec, rec->raw, rec->raw_len, rec->nfields, rec->open_quote, i, d);
}

void rp_csv_put_line(rp_row_buffer *b, const rp_table_spec *spec, const char *raw, size_t raw_len,
                     size_t nfields, bool open_quote, size_t i, char d) {
    if (!spec->with_status && !open_quote) {
        rp_csv_put_plain_line(b, spec, raw, raw_len, nfields, i, d);
        return;
    }
    size_t header_fields = spec->points->header_fields;
    size_t pad = nfields < header_fields ? header_fields - nfields : 0;
    if (!reserve(b, raw_len + 1 + pad))
        return;
    char *p = b->data + b->len;
    memcpy(p, raw, raw_len);
    p += raw_len;
    if (open_quote)
        *p++ = '"'; /* close it, or the values would sit inside it */
    for (size_t k = 0; k < pad; k++)
        *p++ = d;
    b->len = (size_t)(p - b->data);
    put_values(b, spec, i, d);
}

/* The descriptor pass 2 reads: the spool, or the file opened again;
 * INT_MAX when the file is mapped (nothing to read). -1 when the points are
 * not a regular file that can be read again by offset. */
static int open_text(const rp_points *pts, uint64_t *text_end, bool *own) {
    off_t size;
    int fd = -1;
    *own = false;
    if (pts->text) { /* mapped: the slices are read in place */
        *text_end = pts->text_len;
        return INT_MAX;
    }
    if (pts->spool) {
        if (fflush(pts->spool) != 0)
            return -1;
        fd = fileno(pts->spool);
        *text_end = pts->spool_len;
        return fd;
    }
    fd = open(pts->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (rp_regular_file_size(fd, &size) != 0) {
        close(fd);
        return -1;
    }
    *own = true;
    *text_end = (uint64_t)size;
    return fd;
}

/* ---------------------------------------------------------------------------
 * Row by row: vector input, or CSV that cannot be read again by offset. */
typedef struct row_writer {
    FILE *out;
    const rp_table_spec *spec;
    char delimiter;
    rp_row_buffer b;  /* reused from row to row */
    size_t long_rows; /* rows longer than the header */
} row_writer;

static rp_status write_row(void *vw, size_t i, const rp_csv_record *rec, OGRFeatureH feat,
                           rp_error *err) {
    row_writer *w = vw;
    const rp_table_spec *spec = w->spec;
    w->b.len = 0;
    if (rec) {
        rp_csv_put_row(&w->b, spec, rec, i, w->delimiter);
        if (rec->nfields > spec->points->header_fields)
            rp_csv_warn_long_row(spec, rec->line, rec->nfields, &w->long_rows);
    } else {
        put_vector_row(&w->b, spec->points, feat, i, w->delimiter);
        put_values(&w->b, spec, i, w->delimiter);
    }
    if (w->b.failed)
        return rp_error_set(err, RP_NOMEM, "out of memory writing row %zu", i + 1);
    return write_all(w->out, w->b.data, w->b.len, spec, i + 1, err);
}

static rp_status write_rows(FILE *out, const rp_table_spec *spec, char delimiter, rp_error *err) {
    row_writer w = {.out = out, .spec = spec, .delimiter = delimiter};
    rp_status rc = rp_table_for_each_row(spec, write_row, &w, err);
    rp_csv_total_long_rows(spec, w.long_rows);
    free(w.b.data);
    return rc;
}

rp_status rp_table_write_csv(FILE *out, const rp_table_spec *spec, bool staged, rp_error *err) {
    rp_points *pts = spec->points;
    char d = pts->is_csv ? pts->delimiter : ',';
    uint64_t text_end = 0;
    bool own_fd = false;
    int fd = pts->is_csv && spec->pool ? open_text(pts, &text_end, &own_fd) : -1;
    rp_row_buffer b = {0};
    if (!pts->write_no_header)
        put_header(&b, spec, d);
    rp_status rc = b.failed ? rp_error_set(err, RP_NOMEM, "out of memory") : RP_OK;
    if (rc == RP_OK && fd < 0) /* row by row: the header first */
        rc = write_all(out, b.data, b.len, spec, 0, err);
    if (rc == RP_OK)
        rc = fd < 0 ? write_rows(out, spec, d, err)
                    : rp_csv_write_slices(out, spec, &b, fd == INT_MAX ? -1 : fd, text_end, staged,
                                          err);
    free(b.data);
    if (own_fd)
        close(fd);
    return rc;
}
