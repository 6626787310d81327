/*
 * argv.c — the table-driven command-line parser of every rp_*_options_new
 * (after curl's tool_getparam.c: one table of {long, short, kind, offset,
 * min, max, metavar, help}, one loop). A command gives its table, with the
 * common options (-j, --config, -q, -v, -h) first, and handlers for the
 * values that need checks of their own; the loop matches each argument,
 * reads its value in any of the accepted spellings and fills the field.
 * Every error names the option as the user typed it.
 *
 * Threads: none; pure functions of their arguments and the target.
 * Ownership: strings stored in the target are copies, the target's to free.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"

/* An argument matched against the table. */
typedef struct matched {
    const rp_opt *opt;
    const char *attached; /* the value inside the argument (--x=V, -xV), or NULL */
} matched;

static bool takes_value(rp_opt_kind kind) {
    return kind == RP_OPT_INT || kind == RP_OPT_STRING || kind == RP_OPT_CALL;
}

static matched find_option(const rp_opt *table, const char *arg) {
    matched m = {NULL, NULL};
    if (arg[1] == '-') { /* --name or --name=value */
        const char *eq = strchr(arg, '=');
        size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
        for (const rp_opt *o = table; o->long_name; o++) {
            if (strlen(o->long_name) == n && strncmp(arg, o->long_name, n) == 0) {
                m.opt = o;
                m.attached = eq ? eq + 1 : NULL;
                return m;
            }
        }
        return m;
    }
    /* -n, or -nVALUE when VALUE is a number (-j2, -b3): GDAL-style typos
     * such as calc's -of or -ot must stay unknown options, not become -o f */
    bool number_attached = arg[2] >= '0' && arg[2] <= '9';
    for (const rp_opt *o = table; o->long_name; o++) {
        if (!o->short_name || strncmp(arg, o->short_name, 2) != 0)
            continue;
        if (arg[2] == '\0' || (number_attached && takes_value(o->kind))) {
            m.opt = o;
            m.attached = arg[2] ? arg + 2 : NULL;
            return m;
        }
    }
    return m;
}

/* "-j/--threads" or "--max-open": how errors name an option. */
static const char *option_label(const rp_opt *o, char *buf, size_t cap) {
    if (!o->short_name)
        return o->long_name;
    snprintf(buf, cap, "%s/%s", o->short_name, o->long_name);
    return buf;
}

static rp_status set_int(const rp_opt *o, void *field, const char *v, rp_error *err) {
    if (rp_argv_parse_int(v, o->min, o->max, field))
        return RP_OK;
    char label[64];
    const char *name = option_label(o, label, sizeof label);
    if (o->max == INT_MAX && o->min == 1)
        return rp_error_set(err, RP_USAGE, "%s: '%s' is not a positive number", name, v);
    return rp_error_set(err, RP_USAGE, "%s: '%s' is not a number from %d to %d", name, v, o->min,
                        o->max);
}

static rp_status set_pair(const rp_opt *o, void *target, const char *key, const char *value,
                          rp_error *err) {
    char ***list = (char ***)((char *)target + o->offset);
    int *npairs = (int *)((char *)target + o->count_offset);
    int n = *npairs * 2;
    bool ok = rp_argv_append(list, &n, key) == 0 && rp_argv_append(list, &n, value) == 0;
    if (n % 2) { /* the key went in, the value did not: take the key back out */
        free((*list)[--n]);
        (*list)[n] = NULL;
    }
    *npairs = n / 2;
    return ok ? RP_OK : rp_error_set(err, RP_NOMEM, "out of memory");
}

static void set_cli(const rp_argv_parser *p, rp_opt_kind kind) {
    if (!p->cli)
        return;
    if (kind == RP_OPT_QUIET)
        p->cli->quiet = 1;
    else if (kind == RP_OPT_VERBOSE)
        p->cli->verbose = 1;
    else
        p->cli->help = 1;
}

/* Applies the matched option at argv[*i], taking its value(s) from the
 * argument itself or the next one(s). */
static rp_argv_result apply_option(const rp_argv_parser *p, matched m, int argc,
                                   const char *const *argv, int *i, rp_error *err) {
    const rp_opt *o = m.opt;
    const char *arg = argv[*i];
    void *field = (char *)p->target + o->offset;
    if (o->kind == RP_OPT_PAIRS) {
        if (m.attached || *i + 2 >= argc) {
            rp_error_set(err, RP_USAGE, "%s needs a KEY and a VALUE", o->long_name);
            return RP_ARGV_FAILED;
        }
        *i += 2;
        return set_pair(o, p->target, argv[*i - 1], argv[*i], err) == RP_OK ? RP_ARGV_DONE
                                                                            : RP_ARGV_FAILED;
    }
    if (!takes_value(o->kind)) {
        if (m.attached) {
            rp_error_set(err, RP_USAGE, "option %s takes no value", o->long_name);
            return RP_ARGV_FAILED;
        }
        if (o->kind == RP_OPT_FLAG)
            *(bool *)field = true;
        else
            set_cli(p, o->kind);
        return o->kind == RP_OPT_HELP ? RP_ARGV_HELP : RP_ARGV_DONE;
    }
    const char *v = m.attached;
    if (!v) {
        if (*i + 1 >= argc) {
            rp_error_set(err, RP_USAGE, "option %s needs a value", arg);
            return RP_ARGV_FAILED;
        }
        v = argv[++*i];
    }
    rp_status rc = RP_OK;
    if (o->kind == RP_OPT_INT)
        rc = set_int(o, field, v, err);
    else if (o->kind == RP_OPT_STRING)
        rc = rp_argv_set_string(field, v) == 0 ? RP_OK
                                               : rp_error_set(err, RP_NOMEM, "out of memory");
    else
        rc = o->handle(p->target, p->ctx, v, err);
    return rc == RP_OK ? RP_ARGV_DONE : RP_ARGV_FAILED;
}

static rp_argv_result take_positional(const rp_argv_parser *p, const char *arg, rp_error *err) {
    if (!p->positional) {
        rp_error_set(err, RP_USAGE, "unexpected argument '%s' (see rasterpool %s --help)", arg,
                     p->command);
        return RP_ARGV_FAILED;
    }
    return p->positional(p->target, p->ctx, arg, err) == RP_OK ? RP_ARGV_DONE : RP_ARGV_FAILED;
}

rp_argv_result rp_argv_parse(const rp_argv_parser *p, int argc, const char *const *argv, int first,
                             int *next, rp_error *err) {
    bool only_positional = false;
    int i = first;
    rp_argv_result r = RP_ARGV_DONE;
    for (; i < argc && r == RP_ARGV_DONE; i++) {
        const char *a = argv[i];
        if (only_positional || a[0] != '-' || strcmp(a, "-") == 0) {
            r = take_positional(p, a, err);
            continue;
        }
        if (strcmp(a, "--") == 0 && p->dashdash != RP_ARGV_DASHDASH_UNKNOWN) {
            only_positional = true;
            if (p->dashdash == RP_ARGV_DASHDASH_STOP) {
                i++;
                break;
            }
            continue;
        }
        matched m = find_option(p->options, a);
        if (!m.opt) {
            rp_error_set(err, RP_USAGE, "unknown option '%s' (see rasterpool %s --help)", a,
                         p->command);
            r = RP_ARGV_FAILED;
            break;
        }
        r = apply_option(p, m, argc, argv, &i, err);
    }
    if (next)
        *next = i < argc ? i : argc;
    return r;
}

void rp_argv_cli_clear(rp_cli_flags *cli) {
    if (cli)
        memset(cli, 0, sizeof *cli);
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
    char *copy = strdup(s);
    if (!copy)
        return -1;
    free(*field);
    *field = copy;
    return 0;
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

void rp_argv_free_list(char **list, int n) {
    for (int i = 0; list && i < n; i++)
        free(list[i]);
    free(list);
}
