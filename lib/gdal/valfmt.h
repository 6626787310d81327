/*
 * valfmt.h — pixel values as exact text: integers as integers,
 * floats as the shortest text that reads back to the same value.
 */
#ifndef RP_VALFMT_H
#define RP_VALFMT_H
#include <stddef.h>
#include <stdint.h>

/* Enough for any value, complex ones included. Every formatter here takes
 * a buffer of this size: the float ones write in place and may overwrite
 * bytes past the text's NUL (numtext.h's RP_SHORTEST_ROOM). */
#define RP_VALFMT_MAX 64

size_t rp_format_int64(char *buf, int64_t v);
size_t rp_format_uint64(char *buf, uint64_t v);
/* Shortest decimal text (up to 9 digits) that strtof reads back as v. */
size_t rp_format_float(char *buf, float v);
/* Shortest decimal text (up to 17 digits) that strtod reads back as v. */
size_t rp_format_double(char *buf, double v);
/* A value of GDAL data type gdal_type stored at p (native layout). Complex
 * values print as "re+imi" / "re-imi" (1-2i), as R and GDAL write them. Returns 0 for an unknown
 * type. */
size_t rp_format_value(char *buf, int gdal_type, const void *p);

#endif
