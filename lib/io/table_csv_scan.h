/*
 * table_csv_scan.h — one pass over a line of CSV text without quotes:
 * where it ends and how many delimiters it holds, eight bytes at a time.
 *
 * Pass 2 of the CSV writer (table_csv_slices.c) splits a slice with no
 * quote into lines exactly as rp_csv_lines_next (core/csv.c) does, but
 * needs only each line's length and field count; finding the line end
 * (memchr) and then counting the delimiters byte by byte took a third of
 * the write phase's instructions. Here both come from one scan: 16 bytes
 * at a time with SSE2 (two byte compares, two bit masks), the rest 8 at a
 * time with exact byte-equality masks in integer words (core/byte_scan.h),
 * the last bytes one by one. Bytes are read only inside s[0..n).
 *
 * Threads: pure functions. Header-only so that the unit test checks these
 * very functions (tests/unit/test_csv_scan.c).
 */
#ifndef RP_TABLE_CSV_SCAN_H
#define RP_TABLE_CSV_SCAN_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "byte_scan.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The number of bits set in a 16-bit mask (x86-64's baseline has no
 * popcnt instruction). */
static inline size_t rp_scan_bits16(unsigned x) {
    x = x - ((x >> 1) & 0x5555u);
    x = (x & 0x3333u) + ((x >> 2) & 0x3333u);
    x = (x + (x >> 4)) & 0x0F0Fu;
    return (size_t)((x + (x >> 8)) & 0x1Fu);
}

/* The line at s[0..n): returns its length up to its '\n' (n when it has
 * none); *ndelims is the number of bytes equal to delimiter before that.
 * 16 bytes at a time with SSE2 (every x86-64), then 8 with integer masks,
 * then one by one. */
static inline size_t rp_scan_line(const char *s, size_t n, char delimiter, size_t *ndelims) {
    size_t k = 0, count = 0;
#if defined(__SSE2__)
    const __m128i line_end16 = _mm_set1_epi8('\n');
    const __m128i delim16 = _mm_set1_epi8(delimiter);
    for (; k + 16 <= n; k += 16) {
        __m128i w = _mm_loadu_si128((const __m128i *)(const void *)(s + k));
        unsigned ends = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(w, line_end16));
        unsigned delims = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(w, delim16));
        if (ends) {
            unsigned at = (unsigned)__builtin_ctz(ends);
            *ndelims = count + rp_scan_bits16(delims & ((1u << at) - 1));
            return k + at;
        }
        count += rp_scan_bits16(delims);
    }
#endif
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
