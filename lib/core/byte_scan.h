/*
 * byte_scan.h — finding bytes eight at a time in an integer word, exactly:
 * the masks the CSV line scanners use (core/csv.c for pass 1,
 * io/table_csv_scan.h for pass 2).
 *
 * Threads: pure functions.
 */
#ifndef RP_BYTE_SCAN_H
#define RP_BYTE_SCAN_H
#include <stddef.h>
#include <stdint.h>

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

#endif
