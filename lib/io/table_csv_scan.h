/*
 * table_csv_scan.h — one pass over a line of CSV text without quotes:
 * where it ends and how many delimiters it holds, eight bytes at a time.
 *
 * Pass 2 of the CSV writer (table_csv_slices.c) splits a slice with no
 * quote into lines exactly as rp_csv_lines_next (core/csv.c) does, but
 * needs only each line's length and field count; finding the line end
 * (memchr) and then counting the delimiters byte by byte took a third of
 * the write phase's instructions. Here both come from one scan of 8-byte
 * words: an exact byte-equality mask (no false hits from borrows) for the
 * line end and for the delimiter, the delimiters before the line end
 * counted with one multiply. Bytes are read only inside s[0..n).
 *
 * Threads: pure functions. Header-only so that the unit test checks these
 * very functions (tests/unit/test_csv_scan.c).
 */
#ifndef RP_TABLE_CSV_SCAN_H
#define RP_TABLE_CSV_SCAN_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define RP_SCAN_ONES 0x0101010101010101ULL
#define RP_SCAN_HIGHS 0x8080808080808080ULL

/* 0x80 in each byte of w that equals the byte of pattern (a byte repeated
 * 8 times), 0 in the others: exact for every byte. */
static inline uint64_t rp_scan_equal_bytes(uint64_t w, uint64_t pattern) {
    uint64_t x = w ^ pattern;                             /* zero bytes where equal */
    uint64_t low = (x & ~RP_SCAN_HIGHS) + ~RP_SCAN_HIGHS; /* high bit: low 7 bits non-zero */
    return ~(low | x | ~RP_SCAN_HIGHS);
}

/* The number of bytes marked in a mask of rp_scan_equal_bytes. */
static inline size_t rp_scan_count_marks(uint64_t marks) {
    return (size_t)(((marks >> 7) * RP_SCAN_ONES) >> 56);
}

/* The line at s[0..n): returns its length up to its '\n' (n when it has
 * none); *ndelims is the number of bytes equal to delimiter before that. */
static inline size_t rp_scan_line(const char *s, size_t n, char delimiter, size_t *ndelims) {
    size_t k = 0, count = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t line_end = RP_SCAN_ONES * (unsigned char)'\n';
    const uint64_t delim = RP_SCAN_ONES * (unsigned char)delimiter;
    for (; k + 8 <= n; k += 8) {
        uint64_t w;
        memcpy(&w, s + k, 8);
        uint64_t ends = rp_scan_equal_bytes(w, line_end);
        uint64_t delims = rp_scan_equal_bytes(w, delim);
        if (ends) {
            uint64_t first = ends & (~ends + 1); /* the lowest: the first byte in memory */
            *ndelims = count + rp_scan_count_marks(delims & (first - 1));
            return k + (size_t)(__builtin_ctzll(first) >> 3);
        }
        count += rp_scan_count_marks(delims);
    }
#endif
    for (; k < n && s[k] != '\n'; k++)
        count += s[k] == delimiter;
    *ndelims = count;
    return k;
}

#endif
