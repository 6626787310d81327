/*
 * numtext.h — numbers to and from text, exactly and fast: parsing plain
 * decimals (numparse.cc: fast_float, then double-conversion) and the
 * shortest text that reads back to the same float or double
 * (valfmt_shortest.cc: Dragonbox digits from {fmt}, laid out as
 * double-conversion lays them out).
 * Both are C++ files behind this C interface.
 */
#ifndef RP_NUMTEXT_H
#define RP_NUMTEXT_H
#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* s[0..len) as a double: true when it is a plain finite decimal (optional
 * sign, digits, point, exponent, spaces around), correctly rounded. False
 * for anything else, including empty text, nan, inf and overflow: the
 * caller then uses strtod's grammar and reports the error. */
bool rp_parse_decimal(const char *s, size_t len, double *out);
/* The same by double-conversion alone (no fast path): what the fast path
 * must agree with, for the tests. */
bool rp_parse_decimal_reference(const char *s, size_t len, double *out);

/* The shortest decimal text that strtod (strtof) reads back as v, written
 * into buf[0..cap) with a terminating NUL; returns its length. Exponents
 * appear below 1e-6 and from 1e17; nan, inf, -inf as such. */
size_t rp_shortest_double(char *buf, size_t cap, double v);
size_t rp_shortest_float(char *buf, size_t cap, float v);
/* The same into a buffer of RP_SHORTEST_ROOM bytes, written in place
 * (no copy through a local buffer): the valfmt fast path for pixel
 * values. Bytes past the text's NUL may be overwritten. */
#define RP_SHORTEST_ROOM 64
size_t rp_shortest_float_room(char *buf, float v);
size_t rp_shortest_double_room(char *buf, double v);
/* The same by double-conversion's ToShortest / ToShortestSingle: the
 * reference the fast formatter (Dragonbox, from {fmt}) must agree with byte
 * for byte, for the tests. */
size_t rp_shortest_double_reference(char *buf, size_t cap, double v);
size_t rp_shortest_float_reference(char *buf, size_t cap, float v);

#ifdef __cplusplus
}
#endif
#endif
