/*
 * numparse.h — fast, locale-independent parsing of plain decimal
 * text (numparse.cc).
 */
#ifndef RP_NUMPARSE_H
#define RP_NUMPARSE_H
#include <stdbool.h>
#include <stddef.h>

/* s[0..len) as a double: true when it is a plain finite decimal (optional
 * sign, digits, point, exponent, spaces around), correctly rounded. False
 * for anything else, including empty text, nan, inf and overflow: the
 * caller then uses strtod's grammar and reports the error. */
bool rp_parse_decimal(const char *s, size_t len, double *out);

#endif
