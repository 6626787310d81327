/*
 * argv_util.c — helpers of the argv parsers (extract_options.c,
 * calc_options.c, batch_options.c): one way to read an option's value, an
 * integer, a string. Pure functions of their arguments; no threads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"

bool rp_argv_match_value(const char *arg, const char *shortname, const char *longname, int argc,
                         const char *const *argv, int *i, const char **value, rp_error *err,
                         bool *failed) {
    size_t n = strlen(longname);
    if (strncmp(arg, longname, n) == 0 && arg[n] == '=') {
        *value = arg + n + 1;
        return true;
    }
    if (strcmp(arg, longname) != 0 && !(shortname && strcmp(arg, shortname) == 0))
        return false;
    if (*i + 1 >= argc) {
        rp_error_set(err, RP_USAGE, "option %s needs a value", arg);
        *failed = true;
        return true;
    }
    *value = argv[++*i];
    return true;
}

bool rp_argv_parse_int(const char *s, int min, int max, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return false;
    *out = (int)v;
    return true;
}

int rp_argv_set_string(char **field, const char *s) {
    free(*field);
    *field = strdup(s);
    return *field ? 0 : -1;
}

int rp_argv_append(char ***list, int *count, const char *s) {
    char **grown = realloc(*list, (size_t)(*count + 2) * sizeof *grown);
    if (!grown)
        return -1;
    *list = grown;
    grown[*count] = strdup(s);
    if (!grown[*count])
        return -1;
    (*count)++;
    grown[*count] = NULL;
    return 0;
}
