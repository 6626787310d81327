/*
 * zonal_sort.h — sorting a value list's (value, weight) pairs: the order
 * of qsort with the comparator "value, then weight" (glibc's qsort is a
 * stable merge sort, so ties keep their input order), only faster.
 */
#ifndef RP_ZONAL_SORT_H
#define RP_ZONAL_SORT_H

#include <stddef.h>

/* Sorts n pairs p[2i] (value), p[2i+1] (weight) by value, then weight,
 * stably (-0 and +0 compare equal). Lists with a NaN take qsort with the
 * same comparator (its order is then qsort's). */
void zonal_pairs_sort(double *p, size_t n);

#endif
