/*
 * zonal_sort.c — the value lists' sort (median, quantile, majority,
 * minority, variety, frac, values, unique...): a stable LSD radix sort on
 * the value's order-preserving bit pattern (-0 folded into +0, so values
 * equal under == share a key), 11 bits a pass from the lowest bit that
 * differs between keys, passes whose digit is the same for every item
 * skipped (a Float32 DEM's doubles vary in about 25 bits: 3 passes);
 * then each run of equal values is stably merge-sorted by weight when it
 * is not already in order. The result is the stable sort by (value,
 * weight) — the order glibc's qsort (a merge sort) gave with the same
 * comparator, byte for byte, ties included. Short lists take the merge
 * sort alone; lists with a NaN (only a NaN default_value= can bring one)
 * take qsort itself, whose order is then the reference.
 *
 * Threads: none; reentrant. Memory: a temporary copy of the list (16
 * bytes per pair) and 6 x 2048 counters, freed before returning; when they
 * cannot be had, qsort (which then sorts in place).
 */
#include "zonal_sort.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { DIGIT_BITS = 11, NDIGITS = 6, RADIX = 1 << DIGIT_BITS, SHORT_LIST = 256, SMALL_RUN = 16 };

static int cmp_pair(const void *pa, const void *pb) {
    const double *x = pa, *y = pb;
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

static inline bool pair_less(const double *a, const double *b) {
    return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]);
}

/* Stable insertion sort, for short stretches. */
static void insertion_sort(double *p, size_t n) {
    for (size_t i = 1; i < n; i++) {
        double v = p[2 * i], w = p[2 * i + 1];
        size_t j = i;
        while (j > 0 && pair_less((const double[2]){v, w}, &p[2 * (j - 1)])) {
            p[2 * j] = p[2 * (j - 1)];
            p[2 * j + 1] = p[2 * (j - 1) + 1];
            j--;
        }
        p[2 * j] = v;
        p[2 * j + 1] = w;
    }
}

/* Stable top-down merge sort; tmp holds at least n / 2 + 1 pairs. */
static void merge_sort(double *p, size_t n, double *tmp) {
    if (n <= SMALL_RUN) {
        insertion_sort(p, n);
        return;
    }
    size_t h = n / 2;
    merge_sort(p, h, tmp);
    merge_sort(p + 2 * h, n - h, tmp);
    if (!pair_less(&p[2 * h], &p[2 * (h - 1)]))
        return; /* already in order */
    memcpy(tmp, p, h * 2 * sizeof *p);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) { /* k <= j: the right half is read before written */
        const double *src = pair_less(&p[2 * j], &tmp[2 * i]) ? &p[2 * j++] : &tmp[2 * i++];
        p[2 * k] = src[0];
        p[2 * k + 1] = src[1];
        k++;
    }
    memcpy(&p[2 * k], &tmp[2 * i], (h - i) * 2 * sizeof *p);
}

static bool has_nan(const double *p, size_t n) {
    for (size_t i = 0; i < 2 * n; i++)
        if (isnan(p[i]))
            return true;
    return false;
}

/* The value's bits, mapped so that unsigned order is numeric order. */
static inline uint64_t value_key(double v) {
    if (v == 0)
        v = 0; /* -0 sorts with +0, as under == */
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return (u >> 63) ? ~u : u | (UINT64_C(1) << 63);
}

/* The lowest key bit that differs between two items (64: all keys equal);
 * -1 when a value or weight is NaN. */
static int lowest_varying_bit(const double *p, size_t n) {
    uint64_t k0 = value_key(p[0]), vary = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(p[2 * i]) || isnan(p[2 * i + 1]))
            return -1;
        vary |= value_key(p[2 * i]) ^ k0;
    }
    return vary ? __builtin_ctzll(vary) : 64;
}

/* Counts every digit (from bit lo up) of every key. */
static void count_digits(const double *p, size_t n, int lo, size_t (*count)[RADIX]) {
    for (size_t i = 0; i < n; i++) {
        uint64_t k = value_key(p[2 * i]);
        for (int d = 0; d < NDIGITS && lo + d * DIGIT_BITS < 64; d++)
            count[d][(k >> (lo + d * DIGIT_BITS)) & (RADIX - 1)]++;
    }
}

/* One stable counting pass of the digit at bit shift from src into dst. */
static void radix_pass(const double *src, double *dst, size_t n, int shift, size_t *count) {
    size_t sum = 0;
    for (size_t b = 0; b < RADIX; b++) {
        size_t c = count[b];
        count[b] = sum;
        sum += c;
    }
    for (size_t i = 0; i < n; i++) {
        size_t at = count[(value_key(src[2 * i]) >> shift) & (RADIX - 1)]++;
        dst[2 * at] = src[2 * i];
        dst[2 * at + 1] = src[2 * i + 1];
    }
}

/* Runs of equal values, sorted by weight (stably) where out of order. */
static void sort_runs_by_weight(double *p, size_t n, double *tmp) {
    size_t s = 0;
    while (s < n) {
        size_t e = s + 1;
        bool ordered = true;
        while (e < n && p[2 * e] == p[2 * s]) {
            if (p[2 * e + 1] < p[2 * (e - 1) + 1])
                ordered = false;
            e++;
        }
        if (!ordered)
            merge_sort(&p[2 * s], e - s, tmp);
        s = e;
    }
}

void zonal_pairs_sort(double *p, size_t n) {
    if (n < 2)
        return;
    double *tmp = malloc((n > SHORT_LIST ? n : n / 2 + 1) * 2 * sizeof *tmp);
    size_t(*count)[RADIX] = n > SHORT_LIST ? calloc(NDIGITS, sizeof *count) : NULL;
    int lo;
    if (!tmp || (n > SHORT_LIST && !count)) {
        qsort(p, n, 2 * sizeof *p, cmp_pair);
    } else if (n <= SHORT_LIST) {
        if (has_nan(p, n))
            qsort(p, n, 2 * sizeof *p, cmp_pair);
        else
            merge_sort(p, n, tmp);
    } else if ((lo = lowest_varying_bit(p, n)) < 0) {
        qsort(p, n, 2 * sizeof *p, cmp_pair);
    } else {
        count_digits(p, n, lo, count);
        double *src = p, *dst = tmp;
        for (int d = 0; d < NDIGITS && lo + d * DIGIT_BITS < 64; d++) {
            int shift = lo + d * DIGIT_BITS;
            if (count[d][(value_key(p[0]) >> shift) & (RADIX - 1)] == n)
                continue; /* every key has this digit: the pass would not move anything */
            radix_pass(src, dst, n, shift, count[d]);
            double *t = src;
            src = dst;
            dst = t;
        }
        if (src != p)
            memcpy(p, src, n * 2 * sizeof *p);
        sort_runs_by_weight(p, n, tmp);
    }
    free(tmp);
    free(count);
}
