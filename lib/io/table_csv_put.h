/*
 * table_csv_put.h — the CSV writer's hot path, inline: a CSV input row
 * without status columns or an open quote put into the row buffer with
 * one room check, its text copied, padded to the header's fields, and its
 * values formatted in place (a Float32 column straight through
 * rp_shortest_float_room). table_csv.c (row by row, and rows with status
 * columns) and table_csv_slices.c (pass 2's plain slices, a row per line)
 * both use it; inline because the call overhead of these few steps was a
 * fifth of a row's instructions.
 *
 * Threads: pure over the caller's buffer.
 */
#ifndef RP_TABLE_CSV_PUT_H
#define RP_TABLE_CSV_PUT_H
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <gdal.h>

#include "numtext.h"
#include "table_csv_rows.h"
#include "valfmt.h"

/* Grows b until n more bytes fit; false (and b->failed) when memory runs
 * out (table_csv.c). */
bool rp_csv_grow(rp_row_buffer *b, size_t n);

/* Room for n more bytes; false (and b->failed) when memory runs out. */
static inline bool rp_csv_reserve(rp_row_buffer *b, size_t n) {
    if (b->len + n <= b->cap)
        return !b->failed;
    return rp_csv_grow(b, n);
}

/* Room for a row's values without status columns: a delimiter and
 * RP_VALFMT_MAX bytes a value (the formatters may write that far), the
 * line end. */
static inline size_t rp_csv_values_room(const rp_table_spec *spec) {
    return (size_t)spec->ncolumns * (1 + RP_VALFMT_MAX) + 1;
}

/* Row i's values and the line end at p, which has rp_csv_values_room bytes
 * (no status columns); returns the end of the text. */
static inline char *rp_csv_put_values_at(char *p, const rp_table_spec *spec, size_t i, char d) {
    for (int c = 0; c < spec->ncolumns; c++) {
        const rp_value_column *col = &spec->columns[c];
        *p++ = d;
        if (col->status[i] != RP_POINT_OK)
            continue;
        const unsigned char *v = col->values + i * (size_t)col->band.type_size;
        if (col->band.value_type == GDT_Float32) { /* the common case, without valfmt's switch */
            float f;
            memcpy(&f, v, sizeof f);
            p += rp_shortest_float_room(p, f);
        } else {
            p += rp_format_value(p, col->band.value_type, v);
        }
    }
    *p++ = '\n';
    return p;
}

/* rp_csv_put_line for a row without an open quote when there are no
 * status columns: raw[0..raw_len) (nfields fields), padded with empty
 * fields to the header's, then row i's values and the line end. */
static inline void rp_csv_put_plain_line(rp_row_buffer *b, const rp_table_spec *spec,
                                         const char *raw, size_t raw_len, size_t nfields, size_t i,
                                         char d) {
    size_t header_fields = spec->points->header_fields;
    size_t pad = nfields < header_fields ? header_fields - nfields : 0;
    if (!rp_csv_reserve(b, raw_len + pad + rp_csv_values_room(spec)))
        return;
    char *p = b->data + b->len;
    memcpy(p, raw, raw_len);
    p += raw_len;
    for (size_t k = 0; k < pad; k++)
        *p++ = d;
    b->len = (size_t)(rp_csv_put_values_at(p, spec, i, d) - b->data);
}

#endif
