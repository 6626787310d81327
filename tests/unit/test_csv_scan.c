/* test_csv_scan.c — the CSV writer's line scan (io/table_csv_scan.h), which
 * finds a line's end and counts its delimiters eight bytes at a time: on
 * random text of line ends, carriage returns, the three delimiters and
 * bytes that differ from '\n' or ',' only in their high bit (0x8a, 0xac),
 * at every start and length (so every alignment and every tail), the
 * length and count equal a plain byte loop's; split into lines the text
 * gives the lines and field counts of core/csv.c's rp_csv_lines_next. */
#include <stdint.h>

#include "check.h"
#include "csv.h"
#include "table_csv_scan.h"

/* The oracle: one byte at a time. */
static size_t naive_line(const char *s, size_t n, char d, size_t *ndelims) {
    size_t k = 0, count = 0;
    while (k < n && s[k] != '\n')
        count += s[k++] == d;
    *ndelims = count;
    return k;
}

static void random_text(char *t, size_t n, uint32_t *seed, int line_every) {
    static const char alphabet[] = {',',        ';',        '\t',       '\r',       'a', '7',
                                    (char)0x8a, (char)0xac, (char)0xff, (char)0x0b, '.', '-'};
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1103515245u + 12345u;
        unsigned r = (*seed >> 16) % 1000;
        t[i] = (int)r < line_every ? '\n' : alphabet[r % sizeof alphabet];
    }
}

static void against_naive(void) {
    enum { N = 200 };
    char text[N];
    uint32_t seed = 7;
    const char delims[] = {',', ';', '\t'};
    for (int round = 0; round < 60; round++) {
        random_text(text, N, &seed, round % 3 == 0 ? 0 : round % 3 == 1 ? 20 : 150);
        char d = delims[(round / 3) % 3];
        int bad = 0;
        for (size_t start = 0; start < N; start++)
            for (size_t n = 0; start + n <= N; n++) {
                size_t got_d, want_d;
                size_t got = rp_scan_line(text + start, n, d, &got_d);
                size_t want = naive_line(text + start, n, d, &want_d);
                bad += got != want || got_d != want_d;
            }
        CHECK_EQ_INT(bad, 0);
    }
}

/* Split as table_csv_slices.c's format_plain_rows does, against
 * rp_csv_lines_next on the same text. */
static void against_csv_lines(void) {
    enum { N = 5000 };
    static char text[N];
    uint32_t seed = 99;
    for (int round = 0; round < 20; round++) {
        random_text(text, N, &seed, 10 + round * 5);
        rp_csv_lines lines;
        rp_csv_lines_init(&lines, text, N, ',', 1, 0);
        rp_csv_record rec;
        size_t pos = 0, records = 0, mismatches = 0;
        while (pos < N) {
            size_t ndelims, n = rp_scan_line(text + pos, N - pos, ',', &ndelims);
            const char *raw = text + pos;
            size_t raw_len = n > 0 && raw[n - 1] == '\r' ? n - 1 : n;
            pos += n < N - pos ? n + 1 : n;
            if (raw_len == 0)
                continue;
            records++;
            if (rp_csv_lines_next(&lines, &rec) != 1 || rec.raw != raw || rec.raw_len != raw_len ||
                rec.nfields != ndelims + 1)
                mismatches++;
        }
        CHECK_EQ_INT(mismatches, 0);
        CHECK_EQ_INT(rp_csv_lines_next(&lines, &rec), 0);
        CHECK(records > 10);
    }
}

int main(void) {
    against_naive();
    against_csv_lines();
    return CHECK_DONE();
}
