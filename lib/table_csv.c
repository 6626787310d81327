/*
 * table_csv.c — the output table as CSV text.
 *
 * A CSV input row is copied byte for byte, padded with empty fields when it
 * is shorter than the header (so values always land under their own
 * column names), and the values are appended with the input's delimiter. A
 * vector input row becomes x, y and its fields. Each output row is built in
 * one buffer and written with one fwrite.
 *
 * Threads: the caller's thread only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ogr_api.h>

#include "error_internal.h"
#include "table_internal.h"
#include "valfmt_internal.h"

enum { MAX_ROW_WARNINGS = 10 };

/* A growable byte buffer for one output row. */
typedef struct row_buffer {
    char *data;
    size_t len, cap;
    bool failed;
} row_buffer;

static void put_bytes(row_buffer *b, const char *s, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static void put_char(row_buffer *b, char c) {
    put_bytes(b, &c, 1);
}

static void put_string(row_buffer *b, const char *s) {
    put_bytes(b, s, strlen(s));
}

/* s as one CSV field, quoted when it holds the delimiter, a quote or a line
 * end. */
static void put_field(row_buffer *b, const char *s, char delimiter) {
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

static void put_header(row_buffer *b, const rp_table_spec *spec, char d) {
    const rp_points *pts = spec->points;
    if (pts->is_csv) {
        put_bytes(b, pts->header, pts->header_len);
    } else {
        OGRFeatureDefnH defn = OGR_L_GetLayerDefn(pts->layer);
        put_string(b, "x");
        put_char(b, d);
        put_string(b, "y");
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

static void put_vector_row(row_buffer *b, const rp_points *pts, OGRFeatureH feat, size_t i,
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

static void put_values(row_buffer *b, const rp_table_spec *spec, size_t i, char d) {
    char num[RP_VALFMT_MAX];
    for (int c = 0; c < spec->ncolumns; c++) {
        const rp_value_column *col = &spec->columns[c];
        put_char(b, d);
        if (col->status[i] == RP_POINT_OK)
            put_bytes(b, num,
                      rp_format_value(num, col->band.type,
                                      col->values + i * (size_t)col->band.type_size));
        if (spec->with_status) {
            put_char(b, d);
            put_string(b, rp_point_status_name((rp_point_status)col->status[i]));
        }
    }
    put_char(b, '\n');
}

/* Writes the whole buffer. A signal that interrupts a write to a pipe is
 * the caller's to judge (progress): stop with RP_INTERRUPTED, or go on. */
static rp_status write_all(FILE *out, const char *data, size_t len, const rp_table_spec *spec,
                           size_t row, rp_error *err) {
    while (len > 0) {
        errno = 0;
        size_t put = fwrite(data, 1, len, out);
        data += put;
        len -= put;
        if (len == 0)
            break;
        if (errno != EINTR)
            return rp_error_set(err, RP_WRITE, "cannot write the output (row %zu): %s", row,
                                strerror(errno));
        clearerr(out);
        if (spec->progress && spec->progress(0, "writing", spec->progress_user) != 0)
            return rp_error_set(err, RP_INTERRUPTED, "interrupted");
    }
    return RP_OK;
}

/* A row longer than the header: its values cannot line up with their
 * names. Said for the first few. */
static void warn_long_row(const rp_table_spec *spec, const rp_csv_record *rec, size_t *count) {
    const rp_points *pts = spec->points;
    if (spec->log && *count < MAX_ROW_WARNINGS)
        fprintf(spec->log,
                "rasterpool: %s:%llu: the row has %zu fields, the header %zu: its values "
                "follow its last field\n",
                pts->display_name, (unsigned long long)rec->line, rec->nfields,
                pts->header_fields);
    (*count)++;
}

rp_status rp_table_write_csv(FILE *out, const rp_table_spec *spec, rp_error *err) {
    rp_points *pts = spec->points;
    char d = pts->is_csv ? pts->delimiter : ',';
    row_buffer b = {0};
    put_header(&b, spec, d);
    rp_status hrc = b.failed ? rp_error_set(err, RP_NOMEM, "out of memory")
                             : write_all(out, b.data, b.len, spec, 0, err);
    if (hrc != RP_OK) {
        free(b.data);
        return hrc;
    }
    rp_points_rows *rows = rp_points_rows_begin(pts, err);
    if (!rows) {
        free(b.data);
        return err->code;
    }
    rp_status rc = RP_OK;
    const rp_csv_record *rec = NULL;
    OGRFeatureH feat = NULL;
    size_t i = 0, long_rows = 0;
    int got;
    while (rc == RP_OK && (got = rp_points_rows_next(rows, &rec, &feat)) == 1) {
        if (i >= pts->n) {
            got = -1;
            break;
        }
        b.len = 0;
        if (rec) {
            put_bytes(&b, rec->raw, rec->raw_len);
            if (rec->open_quote)
                put_char(&b, '"'); /* close it, or the values would sit inside it */
            for (size_t k = rec->nfields; k < pts->header_fields; k++)
                put_char(&b, d);
            if (rec->nfields > pts->header_fields)
                warn_long_row(spec, rec, &long_rows);
        } else {
            put_vector_row(&b, pts, feat, i, d);
        }
        put_values(&b, spec, i, d);
        if (b.failed)
            rc = rp_error_set(err, RP_NOMEM, "out of memory writing row %zu", i + 1);
        else
            rc = write_all(out, b.data, b.len, spec, i + 1, err);
        i++;
        if (rc == RP_OK)
            rc = rp_table_row_written(spec, i, err);
    }
    if (rc == RP_OK)
        rc = rp_table_rows_complete(spec, i, got, err);
    if (spec->log && long_rows > MAX_ROW_WARNINGS)
        fprintf(spec->log, "rasterpool: %s: %zu rows are longer than the header in all\n",
                pts->display_name, long_rows);
    rp_points_rows_end(rows);
    free(b.data);
    return rc;
}
