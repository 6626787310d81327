/* fuzz_csv.c — the CSV record reader on arbitrary bytes: every record's
 * fields must lie inside its raw text, and field text copies must stay in
 * bounds. A memory reader started at any record's offset (as the parallel
 * slices of pass 2 are) must see the same records from there. Text with no
 * quote character read as plain lines (rp_csv_lines, pass 2's fast path)
 * must give the very records the reader gives, and any text read as pass 1
 * reads a piece (plain lines until one holds a quote, the memory reader from
 * there) too. The first byte picks the delimiter. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Quote-free text: plain lines and the memory reader agree record by record. */
static void lines_agree(const char *text, size_t len, char delim) {
    if (memchr(text, '"', len))
        return;
    rp_csv_reader *m = rp_csv_reader_new_mem(text, len, delim, 1, 0);
    if (!m)
        return;
    rp_csv_lines lines;
    rp_csv_lines_init(&lines, text, len, delim, 1, 0);
    rp_csv_field spans[3]; /* the first three fields' spans, as pass 1 asks */
    rp_csv_lines_set_fields(&lines, spans, 3);
    rp_csv_record a, b;
    int got_a, got_b;
    do {
        got_a = rp_csv_read(m, &a);
        got_b = rp_csv_lines_next(&lines, &b);
        if (got_a != got_b)
            abort();
        if (got_a == 1 && (a.raw != b.raw || a.raw_len != b.raw_len || a.line != b.line ||
                           a.offset != b.offset || a.nfields != b.nfields || b.open_quote))
            abort();
        for (size_t i = 0; got_a == 1 && i < a.nfields && i < 3; i++)
            if (a.fields[i].offset != b.fields[i].offset ||
                a.fields[i].length != b.fields[i].length || b.fields[i].quoted)
                abort();
    } while (got_a == 1);
    rp_csv_reader_free(m);
}

/* Any text: plain lines up to the first line with a quote, then the memory
 * reader from that line, give the whole-text memory reader's records. */
static void hybrid_agrees(const char *text, size_t len, char delim) {
    rp_csv_reader *m = rp_csv_reader_new_mem(text, len, delim, 1, 0), *rest = NULL;
    if (!m)
        return;
    rp_csv_lines lines;
    rp_csv_lines_init(&lines, text, len, delim, 1, 0);
    rp_csv_field spans[3];
    rp_csv_lines_set_fields(&lines, spans, 3);
    rp_csv_record a, b;
    int got_a, got_b;
    do {
        got_a = rp_csv_read(m, &a);
        got_b = rest ? rp_csv_read(rest, &b) : rp_csv_lines_next_unquoted(&lines, &b);
        if (!rest && got_b == RP_CSV_LINES_QUOTE) {
            rest = rp_csv_reader_new_mem(text + lines.pos, len - lines.pos, delim, lines.line,
                                         lines.pos);
            if (!rest)
                break;
            got_b = rp_csv_read(rest, &b);
        }
        if (got_a != got_b)
            abort();
        if (got_a == 1 &&
            (a.raw != b.raw || a.raw_len != b.raw_len || a.line != b.line || a.offset != b.offset ||
             a.nfields != b.nfields || a.open_quote != b.open_quote))
            abort();
        for (size_t i = 0; got_a == 1 && i < a.nfields && i < 3; i++)
            if (a.fields[i].offset != b.fields[i].offset ||
                a.fields[i].length != b.fields[i].length ||
                a.fields[i].quoted != b.fields[i].quoted)
                abort();
    } while (got_a == 1);
    rp_csv_reader_free(m);
    rp_csv_reader_free(rest);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    const char delims[] = {',', ';', '\t'};
    char delim = delims[data[0] % 3];
    FILE *f = fmemopen((void *)(data + 1), size - 1 ? size - 1 : 1, "rb");
    if (!f)
        return 0;
    if (size == 1)
        fseek(f, 0, SEEK_END);
    rp_csv_reader *r = rp_csv_reader_new(f, delim);
    rp_csv_record rec;
    char buf[64];
    uint64_t last_line = 0;
    const char *text = (const char *)data + 1;
    size_t text_len = size - 1;
    uint64_t slice_offset = 0, slice_line = 0;
    size_t records = 0, slice_records = 0;
    while (r && rp_csv_read(r, &rec) == 1) {
        if (rec.offset > text_len || memcmp(text + rec.offset, rec.raw, rec.raw_len) != 0)
            abort();
        records++;
        if (records == 2) { /* a slice from the second record on */
            slice_offset = rec.offset;
            slice_line = rec.line;
        }
        if (records >= 2)
            slice_records++;
        if (rec.line <= last_line && last_line)
            abort();
        last_line = rec.line;
        for (size_t i = 0; i < rec.nfields; i++) {
            const rp_csv_field *fl = &rec.fields[i];
            if (fl->offset > rec.raw_len + 1 || fl->offset + fl->length > rec.raw_len + 1)
                abort();
            size_t n = rp_csv_field_text(&rec, i, buf, sizeof buf);
            if (n > fl->length || strlen(buf) >= sizeof buf)
                abort();
        }
        (void)rp_csv_detect_delimiter(rec.raw, rec.raw_len);
    }
    rp_csv_reader_free(r);
    fclose(f);
    lines_agree(text, text_len, delim);
    hybrid_agrees(text, text_len, delim);
    if (slice_records) {
        rp_csv_reader *m = rp_csv_reader_new_mem(text + slice_offset, text_len - slice_offset,
                                                 delim, slice_line, slice_offset);
        size_t seen = 0;
        while (m && rp_csv_read(m, &rec) == 1)
            seen++;
        if (m && seen != slice_records)
            abort();
        rp_csv_reader_free(m);
    }
    return 0;
}
