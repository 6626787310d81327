/*
 * csv.h — a streaming RFC 4180 record reader. It yields each
 * record's raw text (so rows can be copied to the output byte for byte) and
 * the spans of its fields. Fuzzed by tests/fuzz/fuzz_csv.c.
 */
#ifndef RP_CSV_H
#define RP_CSV_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A field's span in the record's raw text. For a quoted field the span is
 * inside the quotes (doubled quotes not yet collapsed). */
typedef struct rp_csv_field {
    size_t offset, length;
    bool quoted;
} rp_csv_field;

typedef struct rp_csv_record {
    const char *raw; /* the record without its line end; valid until the next read */
    size_t raw_len;
    uint64_t line;   /* 1-based physical line where the record starts */
    uint64_t offset; /* byte offset of the record's start in the input */
    size_t nfields;
    const rp_csv_field *fields;
    bool open_quote; /* the input ended inside a quoted field */
} rp_csv_record;

typedef struct rp_csv_reader rp_csv_reader;

/* Reads records from `in` (not closed by the reader). A UTF-8 byte order mark
 * at the very start is skipped. */
rp_csv_reader *rp_csv_reader_new(FILE *in, char delimiter);
/* Reads records from data[0..len), which must stay valid and unchanged while
 * the reader is used (it is not copied). The text is taken to start at a
 * record boundary on physical line first_line, at byte first_offset of the
 * whole input (for the records' line and offset); no byte order mark is
 * looked for. For reading one slice of a larger input in parallel. */
rp_csv_reader *rp_csv_reader_new_mem(const char *data, size_t len, char delimiter,
                                     uint64_t first_line, uint64_t first_offset);
void rp_csv_reader_free(rp_csv_reader *reader);
void rp_csv_reader_set_delimiter(rp_csv_reader *reader, char delimiter);
/* Steps back so that the next read returns the last record again (for
 * example split with another delimiter). Only right after a read of 1. */
void rp_csv_unread(rp_csv_reader *reader);

/* Where the next read starts: its byte offset in the input and its line. */
uint64_t rp_csv_reader_offset(const rp_csv_reader *reader);
uint64_t rp_csv_reader_line(const rp_csv_reader *reader);

/* Text without any quote character, read faster: its records are its
 * lines (without the line end and a '\r' before it), blank lines skipped,
 * a field between every two delimiters: exactly what rp_csv_read makes of
 * the same text (tests/fuzz/fuzz_csv.c compares them). Field spans are
 * filled only for the first fields_cap fields, in the caller's array (none
 * when it gives none: record->fields is then NULL); nfields counts them
 * all. The caller checks that the text holds no '"', or reads with
 * rp_csv_lines_next_unquoted, which stops before the first line holding
 * one (pass 1's parallel pieces do; pass 2 splits its quote-free slices
 * with io/table_csv_scan.h, whose lines must be these: test_csv_scan
 * compares the two). */
typedef struct rp_csv_lines {
    const char *text;
    size_t len, pos;
    uint64_t line, base; /* the next record's physical line; text[0]'s offset */
    char delimiter;
    rp_csv_field *fields; /* the caller's, or NULL */
    size_t fields_cap;
} rp_csv_lines;

void rp_csv_lines_init(rp_csv_lines *lines, const char *text, size_t len, char delimiter,
                       uint64_t first_line, uint64_t first_offset);
/* Field spans of the first cap fields of each record into fields[]. */
void rp_csv_lines_set_fields(rp_csv_lines *lines, rp_csv_field *fields, size_t cap);
/* The next non-blank record: 1, or 0 at the end of the text. */
int rp_csv_lines_next(rp_csv_lines *lines, rp_csv_record *record);
/* The same for text that may hold quotes, in one pass over each line's
 * bytes: 1 and the record, 0 at the end, or RP_CSV_LINES_QUOTE when the next
 * non-blank line holds a '"' (its quoted fields may span lines): nothing of
 * it is consumed, and lines->pos and lines->line say where it starts, a true
 * record start, from which rp_csv_reader_new_mem reads on (the records
 * before are exactly the reader's). */
#define RP_CSV_LINES_QUOTE 2
int rp_csv_lines_next_unquoted(rp_csv_lines *lines, rp_csv_record *record);

/* Records longer than this are refused (an unterminated quote would
 * otherwise pull the rest of a file into one record). */
#define RP_CSV_MAX_RECORD ((size_t)64 << 20)

/* The next non-blank record: 1, 0 at the end of input, -1 on a read error or
 * when memory runs out, -2 when a record exceeds RP_CSV_MAX_RECORD, -3 when
 * a signal interrupted a read, or a pipe had nothing for 100 ms (check for
 * a stop request, then call again to go on). */
int rp_csv_read(rp_csv_reader *reader, rp_csv_record *record);

/* The delimiter a header line most likely uses: ',' ';' or '\t' (the most
 * frequent outside quotes; ',' when none occurs). */
char rp_csv_detect_delimiter(const char *line, size_t len);

/* Copies field i unquoted (doubled quotes collapsed), NUL-terminated and
 * truncated to cap - 1 bytes. Returns the full unquoted length. */
size_t rp_csv_field_text(const rp_csv_record *record, size_t i, char *buf, size_t cap);

#endif
