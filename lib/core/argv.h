/*
 * argv.h — the small pieces every rp_*_options_new argv parser
 * shares (extract, calc, batch): options with values, integers in range,
 * owned strings and NULL-terminated string lists.
 */
#ifndef RP_ARGV_H
#define RP_ARGV_H
#include <stdbool.h>

#include "error.h"

/* Matches arg (argv[*i]) against an option that takes a value: accepts
 * "--name value", "--name=value" and, when shortname is not NULL,
 * "SHORT value". Returns true when it matched; then *value is set, or, when
 * the value is missing, a usage error is in err and *failed is true. */
bool rp_argv_match_value(const char *arg, const char *shortname, const char *longname, int argc,
                         const char *const *argv, int *i, const char **value, rp_error *err,
                         bool *failed);
/* s as a whole decimal integer in [min, max]. */
bool rp_argv_parse_int(const char *s, int min, int max, int *out);
/* Replaces *field with a copy of s. 0, or -1 when memory runs out. */
int rp_argv_set_string(char **field, const char *s);
/* Appends a copy of s to the NULL-terminated *list of *count strings. 0, or
 * -1 when memory runs out. */
int rp_argv_append(char ***list, int *count, const char *s);

#endif
