/* test_csv.c — CSV records: quoting, embedded delimiters, quotes and line
 * ends, CRLF, blank lines, BOM, line numbers, records longer than the
 * reader's buffer, delimiter detection, and pass 1's plain lines scanned
 * until a quote then read on by the reader. */
#include <unistd.h>

#include "check.h"
#include "csv.h"

static FILE *from_string(const char *s) {
    FILE *f = tmpfile();
    fwrite(s, 1, strlen(s), f);
    rewind(f);
    return f;
}

static void field_is(const rp_csv_record *r, size_t i, const char *want) {
    char buf[256];
    rp_csv_field_text(r, i, buf, sizeof buf);
    CHECK_EQ_STR(buf, want);
}

static void quoting(void) {
    FILE *f = from_string("\xEF\xBB\xBFid,x,y,name\r\n"
                          "1,2.5,3,\"a, b\"\r\n"
                          "\r\n"
                          "2,4,5,\"say \"\"hi\"\"\"\n"
                          "3,6,7,\"two\nlines\"\n"
                          "4,,8,plain");
    rp_csv_reader *r = rp_csv_reader_new(f, ',');
    rp_csv_record rec;
    CHECK_EQ_INT(rp_csv_read(r, &rec), 1);
    CHECK_EQ_INT(rec.line, 1);
    CHECK_EQ_INT(rec.nfields, 4);
    field_is(&rec, 0, "id");
    CHECK_EQ_INT(rec.raw_len, 11); /* no BOM, no CR */
    CHECK_EQ_INT(rp_csv_read(r, &rec), 1);
    CHECK_EQ_INT(rec.line, 2);
    CHECK_EQ_INT(rec.nfields, 4);
    field_is(&rec, 3, "a, b");
    CHECK(rec.raw_len == strlen("1,2.5,3,\"a, b\"") &&
          memcmp(rec.raw, "1,2.5,3,\"a, b\"", rec.raw_len) == 0);
    CHECK_EQ_INT(rp_csv_read(r, &rec), 1); /* blank line 3 skipped */
    CHECK_EQ_INT(rec.line, 4);
    field_is(&rec, 3, "say \"hi\"");
    CHECK_EQ_INT(rp_csv_read(r, &rec), 1);
    CHECK_EQ_INT(rec.line, 5);
    field_is(&rec, 3, "two\nlines");
    CHECK_EQ_INT(rp_csv_read(r, &rec), 1);
    CHECK_EQ_INT(rec.line, 7);
    field_is(&rec, 1, "");
    field_is(&rec, 3, "plain");
    CHECK_EQ_INT(rp_csv_read(r, &rec), 0);
    rp_csv_reader_free(r);
    fclose(f);
}

static void long_records(void) {
    /* a record far longer than the initial 64 KiB buffer, and many records */
    size_t big = 200000;
    char *s = malloc(big + 100);
    strcpy(s, "a,b\n\"");
    size_t n = strlen(s);
    memset(s + n, 'q', big);
    n += big;
    strcpy(s + n, "\",2\n");
    FILE *f = from_string(s);
    fseek(f, 0, SEEK_END);
    for (int i = 0; i < 30000; i++)
        fprintf(f, "%d,%d\n", i, -i);
    rewind(f);
    rp_csv_reader *r = rp_csv_reader_new(f, ',');
    rp_csv_record rec;
    CHECK_EQ_INT(rp_csv_read(r, &rec), 1);
    CHECK_EQ_INT(rp_csv_read(r, &rec), 1);
    CHECK_EQ_INT(rec.fields[0].length, big);
    field_is(&rec, 1, "2");
    int ok = 0;
    for (int i = 0; i < 30000; i++) {
        char want[32];
        snprintf(want, sizeof want, "%d", -i);
        char got[32];
        if (rp_csv_read(r, &rec) == 1 && rec.nfields == 2) {
            rp_csv_field_text(&rec, 1, got, sizeof got);
            ok += strcmp(got, want) == 0 && rec.line == (uint64_t)i + 3;
        }
    }
    CHECK_EQ_INT(ok, 30000);
    CHECK_EQ_INT(rp_csv_read(r, &rec), 0);
    rp_csv_reader_free(r);
    fclose(f);
    free(s);
}

static void unterminated_quote(void) {
    FILE *f = from_string("x,y\n1,\"2\n");
    rp_csv_reader *r = rp_csv_reader_new(f, ',');
    rp_csv_record rec;
    CHECK_EQ_INT(rp_csv_read(r, &rec), 1);
    CHECK_EQ_INT(rp_csv_read(r, &rec), 1);
    CHECK(rec.open_quote);
    CHECK_EQ_INT(rp_csv_read(r, &rec), 0);
    rp_csv_reader_free(r);
    fclose(f);
}

static void delimiters(void) {
    CHECK_EQ_INT(rp_csv_detect_delimiter("a;b;c", 5), ';');
    CHECK_EQ_INT(rp_csv_detect_delimiter("a\tb", 3), '\t');
    CHECK_EQ_INT(rp_csv_detect_delimiter("a,b", 3), ',');
    CHECK_EQ_INT(rp_csv_detect_delimiter("\"a;b\",c", 7), ',');
    CHECK_EQ_INT(rp_csv_detect_delimiter("x", 1), ',');
    FILE *f = from_string("x;y\n1,5;2\n");
    rp_csv_reader *r = rp_csv_reader_new(f, ';');
    rp_csv_record rec;
    CHECK_EQ_INT(rp_csv_read(r, &rec), 1);
    CHECK_EQ_INT(rp_csv_read(r, &rec), 1);
    field_is(&rec, 0, "1,5");
    rp_csv_reader_free(r);
    fclose(f);
}

static void unread_with_another_delimiter(void) {
    FILE *f = from_string("\xEF\xBB\xBFid;x;y\n1;2,5;3\n");
    rp_csv_reader *r = rp_csv_reader_new(f, ',');
    rp_csv_record rec;
    CHECK_EQ_INT(rp_csv_read(r, &rec), 1);
    CHECK_EQ_INT(rec.nfields, 1);
    rp_csv_reader_set_delimiter(r, ';');
    rp_csv_unread(r);
    CHECK_EQ_INT(rp_csv_read(r, &rec), 1);
    CHECK_EQ_INT(rec.nfields, 3);
    CHECK_EQ_INT(rec.line, 1);
    field_is(&rec, 0, "id");
    CHECK_EQ_INT(rp_csv_read(r, &rec), 1);
    CHECK_EQ_INT(rec.line, 2);
    field_is(&rec, 1, "2,5");
    CHECK_EQ_INT(rp_csv_read(r, &rec), 0);
    rp_csv_reader_free(r);
    fclose(f);
}

/* Offsets of records in a stream (across refills: a small buffer would
 * hide nothing, so records straddle the 64 KiB first read), and a memory
 * reader started at one of them sees the same records from there. */
static void offsets_and_memory_slices(void) {
    enum { ROWS = 20000 };
    size_t cap = ROWS * 32 + 64, len = 0;
    char *text = malloc(cap);
    CHECK(text != NULL);
    uint64_t *offsets = malloc(ROWS * sizeof *offsets);
    len += (size_t)snprintf(text + len, cap - len, "\xEF\xBB\xBFid,name\n");
    for (int i = 0; i < ROWS; i++) {
        if (i % 7 == 0)
            len += (size_t)snprintf(text + len, cap - len, "\r\n"); /* blank */
        offsets[i] = len;
        len +=
            (size_t)snprintf(text + len, cap - len, i % 5 ? "%d,n%d\n" : "%d,\"a\nb%d\"\r\n", i, i);
    }
    FILE *f = fmemopen(text, len, "r");
    rp_csv_reader *r = rp_csv_reader_new(f, ',');
    rp_csv_record rec;
    CHECK_EQ_INT(rp_csv_read(r, &rec), 1);
    CHECK_EQ_INT(rec.offset, 3); /* after the byte order mark */
    uint64_t line_of_12345 = 0;
    for (int i = 0; i < ROWS; i++) {
        CHECK_EQ_INT(rp_csv_read(r, &rec), 1);
        CHECK_EQ_INT(rec.offset, offsets[i]);
        if (i == 12345)
            line_of_12345 = rec.line;
    }
    rp_csv_reader_free(r);
    fclose(f);

    rp_csv_reader *m = rp_csv_reader_new_mem(text + offsets[12345], len - offsets[12345], ',',
                                             line_of_12345, offsets[12345]);
    CHECK_EQ_INT(rp_csv_read(m, &rec), 1);
    CHECK_EQ_INT(rec.line, line_of_12345);
    CHECK_EQ_INT(rec.offset, offsets[12345]);
    field_is(&rec, 0, "12345");
    int rows = 1;
    while (rp_csv_read(m, &rec) == 1)
        rows++;
    CHECK_EQ_INT(rows, ROWS - 12345);
    field_is(&rec, 0, "19999");
    rp_csv_reader_free(m);
    free(offsets);
    free(text);
}

/* An idle pipe: the reader comes back with -3 (so its caller can look at
 * a stop flag) instead of blocking, keeps what it had, and goes on when
 * more arrives. */
static void idle_pipe(void) {
    int fds[2];
    CHECK(pipe(fds) == 0);
    FILE *in = fdopen(fds[0], "rb");
    CHECK(in != NULL);
    CHECK(write(fds[1], "x,y\n1,", 6) == 6);
    rp_csv_reader *r = rp_csv_reader_new(in, ',');
    rp_csv_record rec;
    CHECK_EQ_INT(rp_csv_read(r, &rec), 1);  /* the header */
    CHECK_EQ_INT(rp_csv_read(r, &rec), -3); /* "1," so far, then nothing */
    CHECK_EQ_INT(rp_csv_read(r, &rec), -3);
    CHECK(write(fds[1], "2\n", 2) == 2);
    close(fds[1]);
    int got;
    while ((got = rp_csv_read(r, &rec)) == -3)
        ;
    CHECK_EQ_INT(got, 1);
    field_is(&rec, 0, "1");
    field_is(&rec, 1, "2");
    CHECK_EQ_INT(rp_csv_read(r, &rec), 0);
    rp_csv_reader_free(r);
    fclose(in);
}

/* Unquoted fields of every length 0..40 at every alignment (the reader
 * scans them eight bytes a step), with ';' and '"' inside (plain bytes
 * there), CRLF and LF ends, a last record with and without its '\n':
 * every field as written. */
static void unquoted_fields_every_length(void) {
    enum { ROWS = 300, FIELDS = 3 };
    static char text[ROWS * FIELDS * 48];
    static char want[ROWS][FIELDS][48];
    size_t len = 0;
    unsigned seed = 12345;
    for (int r = 0; r < ROWS; r++)
        for (int f = 0; f < FIELDS; f++) {
            seed = seed * 1103515245u + 12345u;
            int n = (int)((seed >> 16) % 41);
            for (int k = 0; k < n; k++) {
                seed = seed * 1103515245u + 12345u;
                const char pool[] = "0123456789.-e;x\"";
                /* a field never starts with '"' (that would quote it) */
                char c = pool[(seed >> 16) % (k ? sizeof pool - 1 : sizeof pool - 2)];
                want[r][f][k] = c;
                text[len++] = c;
            }
            want[r][f][n] = '\0';
            if (f + 1 < FIELDS)
                text[len++] = ',';
            else if (r + 1 < ROWS || r % 2) {
                if (r % 3 == 0)
                    text[len++] = '\r';
                text[len++] = '\n';
            }
        }
    for (int mem = 0; mem < 2; mem++) {
        FILE *f = mem ? NULL : tmpfile();
        if (f) {
            fwrite(text, 1, len, f);
            rewind(f);
        }
        rp_csv_reader *rd =
            mem ? rp_csv_reader_new_mem(text, len, ',', 1, 0) : rp_csv_reader_new(f, ',');
        rp_csv_record rec;
        int rows = 0;
        while (rp_csv_read(rd, &rec) == 1) {
            CHECK_EQ_INT((int)rec.nfields, FIELDS);
            for (int k = 0; k < FIELDS && rows < ROWS; k++)
                field_is(&rec, (size_t)k, want[rows][k]);
            rows++;
        }
        CHECK_EQ_INT(rows, ROWS);
        rp_csv_reader_free(rd);
        if (f)
            fclose(f);
    }
}

/* Plain lines (pass 2's reader of quote-free slices) give the memory
 * reader's records: raw text, line, offset, field count; blank lines and
 * '\r' skipped alike. */
static void plain_lines_match_reader(void) {
    const char *texts[] = {"a,b,c\n1,2,3\n",   "x\r\n\r\n\n1,,\r\n,\n\n2\r3,4",
                           "\n\n\n",           "last line without end",
                           ",\n;\t,\r\r\n \n", ""};
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        for (int d = 0; d < 3; d++) {
            char delim = ",;\t"[d];
            size_t len = strlen(texts[t]);
            rp_csv_reader *m = rp_csv_reader_new_mem(texts[t], len, delim, 7, 100);
            rp_csv_lines lines;
            rp_csv_lines_init(&lines, texts[t], len, delim, 7, 100);
            rp_csv_field spans[2];
            if (d == 0)
                rp_csv_lines_set_fields(&lines, spans, 2); /* one delimiter with spans */
            rp_csv_record a, b;
            int got_a, got_b, n = 0;
            do {
                got_a = rp_csv_read(m, &a);
                got_b = rp_csv_lines_next(&lines, &b);
                CHECK_EQ_INT(got_a, got_b);
                if (got_a == 1 && got_b == 1) {
                    n++;
                    CHECK(a.raw == b.raw && a.raw_len == b.raw_len);
                    CHECK_EQ_INT(a.line, b.line);
                    CHECK_EQ_INT(a.offset, b.offset);
                    CHECK_EQ_INT(a.nfields, b.nfields);
                    for (size_t f = 0; d == 0 && f < a.nfields && f < 2; f++) {
                        CHECK_EQ_INT(a.fields[f].offset, b.fields[f].offset);
                        CHECK_EQ_INT(a.fields[f].length, b.fields[f].length);
                    }
                }
            } while (got_a == 1 && got_b == 1);
            rp_csv_reader_free(m);
            if (t == 1 && d == 0)
                CHECK_EQ_INT(n, 4); /* x, "1,,", ",", "2\r3,4" */
        }
    }
}

/* Pass 1's reading of a piece: plain lines scanned once each until one holds
 * a quote, then the quoted reader from that line; it must give every record
 * the memory reader gives over the whole text: raw text, line, offset,
 * field count, the first two fields' spans, an open quote. */
static int hybrid_next(rp_csv_lines *lines, rp_csv_reader **reader, rp_csv_record *rec) {
    if (!*reader) {
        int got = rp_csv_lines_next_unquoted(lines, rec);
        if (got != RP_CSV_LINES_QUOTE)
            return got;
        *reader = rp_csv_reader_new_mem(lines->text + lines->pos, lines->len - lines->pos,
                                        lines->delimiter, lines->line, lines->base + lines->pos);
    }
    return rp_csv_read(*reader, rec);
}

static size_t hybrid_matches_reader(const char *text, size_t len, char delim) {
    rp_csv_reader *whole = rp_csv_reader_new_mem(text, len, delim, 3, 50), *rest = NULL;
    rp_csv_lines lines;
    rp_csv_lines_init(&lines, text, len, delim, 3, 50);
    rp_csv_field spans[2];
    rp_csv_lines_set_fields(&lines, spans, 2);
    rp_csv_record a, b;
    int got_a, got_b;
    size_t n = 0;
    do {
        got_a = rp_csv_read(whole, &a);
        got_b = hybrid_next(&lines, &rest, &b);
        CHECK_EQ_INT(got_a, got_b);
        if (got_a != 1 || got_b != 1)
            break;
        n++;
        CHECK(a.raw == b.raw && a.raw_len == b.raw_len);
        CHECK_EQ_INT(a.line, b.line);
        CHECK_EQ_INT(a.offset, b.offset);
        CHECK_EQ_INT(a.nfields, b.nfields);
        CHECK_EQ_INT(a.open_quote, b.open_quote);
        for (size_t f = 0; f < a.nfields && f < 2; f++) {
            CHECK_EQ_INT(a.fields[f].offset, b.fields[f].offset);
            CHECK_EQ_INT(a.fields[f].length, b.fields[f].length);
            CHECK_EQ_INT(a.fields[f].quoted, b.fields[f].quoted);
        }
    } while (1);
    rp_csv_reader_free(whole);
    rp_csv_reader_free(rest);
    return n;
}

static void one_pass_lines_then_reader(void) {
    const char *texts[] = {
        "id,x,y\n1,541928.43,5982476.76\n2,577861.99,5930523.21\n",
        "a,b\r\n\r\n\n1,2\r\n\"q\nuoted\",3\n4,5\n", /* quote at a line's start */
        "12345678,1234567,123456789012345,1\n,,,,,,,,,,,,,,,,\n9,\"x\"\"y\",z\n", /* later field */
        "1234567\n12345678\n123456789\n1234567,\n12345678,\n\"open to the end\n1,2",
        "no line end at all,1,2",
        "\n\n\n",
        "",
        "\r",
        "a\rb,c\r\r\n;\t,\n",
        "1,2\n3,\"4\"\"\",5\n\"\"\n6,7"};
    const size_t want[] = {3, 4, 3, 6, 1, 0, 0, 0, 2, 4};
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++)
        for (int d = 0; d < 3; d++) {
            size_t n = hybrid_matches_reader(texts[t], strlen(texts[t]), ",;\t"[d]);
            if (d == 0)
                CHECK_EQ_INT(n, want[t]);
        }
    /* random text over the bytes that matter, at every alignment */
    const char alphabet[] = "1a ,;\t\n\r\"";
    uint64_t state = 0x9e3779b97f4a7c15ull;
    char text[300];
    for (int round = 0; round < 20000; round++) {
        size_t len = 0, want_len = (size_t)(state % 290);
        for (; len < want_len; len++) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            /* mostly digits, so that words without any special byte occur */
            text[len] = state % 4 ? '1' : alphabet[(state >> 8) % (sizeof alphabet - 1)];
        }
        state += (uint64_t)round;
        /* half the texts without any quote: plain lines to the end */
        for (size_t k = 0; round % 2 && k < len; k++)
            if (text[k] == '"')
                text[k] = '2';
        hybrid_matches_reader(text, len, ",;\t"[round % 3]);
    }
}

int main(void) {
    one_pass_lines_then_reader();
    unquoted_fields_every_length();
    quoting();
    idle_pipe();
    offsets_and_memory_slices();
    unread_with_another_delimiter();
    long_records();
    unterminated_quote();
    delimiters();
    plain_lines_match_reader();
    return CHECK_DONE();
}
