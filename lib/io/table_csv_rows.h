/*
 * table_csv_rows.h — what table_csv.c (the rows as CSV text) shares with
 * table_csv_slices.c (pass 2 in parallel slices): the row buffer, one CSV
 * input row with its values, the warnings about long rows, write errors.
 */
#ifndef RP_TABLE_CSV_ROWS_H
#define RP_TABLE_CSV_ROWS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "csv.h"
#include "table_internal.h"

/* Rows longer than the header are named one by one up to this many. */
#define RP_CSV_MAX_ROW_WARNINGS 10

/* A growable byte buffer for output rows. */
typedef struct rp_row_buffer {
    char *data;
    size_t len, cap;
    bool failed; /* memory ran out: the bytes are incomplete */
} rp_row_buffer;

/* A CSV input row byte for byte (padded to the header's fields, an open
 * quote closed), then row i's values and the line end. */
void rp_csv_put_row(rp_row_buffer *b, const rp_table_spec *spec, const rp_csv_record *rec, size_t i,
                    char d);
/* The same from the row's parts: raw[0..raw_len) with nfields fields,
 * open_quote when it ends inside a quoted field. */
void rp_csv_put_line(rp_row_buffer *b, const rp_table_spec *spec, const char *raw, size_t raw_len,
                     size_t nfields, bool open_quote, size_t i, char d);

/* A row longer than the header: named while *count is under
 * RP_CSV_MAX_ROW_WARNINGS; *count grows by one. */
void rp_csv_warn_long_row(const rp_table_spec *spec, uint64_t line, size_t nfields, size_t *count);

/* After the last row: the total, when there were more than were named. */
void rp_csv_total_long_rows(const rp_table_spec *spec, size_t count);

/* RP_WRITE: the output cannot be written (errno says why) near row. */
rp_status rp_csv_write_error(const rp_table_spec *spec, size_t row, rp_error *err);

/* After a signal interrupted a write: non-zero goes on (the caller's
 * progress function, spec, says whether to stop). */
int rp_csv_keep_writing(void *spec);

/* Pass 2 of a CSV input in slices (table_csv_slices.c): head (the header
 * line, or nothing), then every slice's rows, to out. fd: the points read
 * with pread (-1 when they are mapped); text_end: where the last slice
 * ends; staged: out is a staged file of the program's own (written direct
 * where io/direct_out.c can). */
rp_status rp_csv_write_slices(FILE *out, const rp_table_spec *spec, const rp_row_buffer *head,
                              int fd, uint64_t text_end, bool staged, rp_error *err);

#endif
