/*
 * argv.h — the one command-line parser behind every rp_*_options_new
 * (extract, calc, batch): a table of options in curl's `aliases[]` shape
 * ({long, short, kind, offset, min, max, metavar, help}), common options
 * every command shares (RP_ARGV_COMMON_OPTIONS), and the small helpers the
 * commands' own option handlers use.
 *
 * Accepted spellings: `--name value`, `--name=value`, `-n value` and, when
 * the value is a number, `-nVALUE` (-j2, -b3: `-ofile` stays an unknown
 * option, so that a GDAL-style `-of`/`-ot` typo is reported, not read as
 * `-o f`); `--name`/`-n` for flags; `--config KEY VALUE`.
 * Arguments that do not start with '-' (and "-" itself) are positional.
 */
#ifndef RP_ARGV_H
#define RP_ARGV_H
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef enum rp_opt_kind {
    RP_OPT_FLAG,    /* sets the bool at offset */
    RP_OPT_INT,     /* the int at offset, a whole decimal number in [min, max] */
    RP_OPT_STRING,  /* replaces the char * at offset with a copy of the value */
    RP_OPT_CALL,    /* hands the value to the option's handler */
    RP_OPT_PAIRS,   /* KEY VALUE (two arguments) appended to the char ** list
                       at offset, whose int count of pairs is at count_offset */
    RP_OPT_QUIET,   /* rp_cli_flags.quiet */
    RP_OPT_VERBOSE, /* rp_cli_flags.verbose */
    RP_OPT_HELP     /* rp_cli_flags.help; parsing stops with RP_ARGV_HELP */
} rp_opt_kind;

/* A handler of RP_OPT_CALL options and of positional arguments: target is
 * the options being filled, ctx the parser's ctx. Returns RP_OK, or an error
 * it has set in err (its text names the option). */
typedef rp_status (*rp_argv_handler)(void *target, void *ctx, const char *value, rp_error *err);

typedef struct rp_opt {
    const char *long_name;  /* "--threads"; NULL ends a table */
    const char *short_name; /* "-j" (a dash and one letter), or NULL */
    rp_opt_kind kind;
    size_t offset; /* offsetof(the job's options, field) */
    size_t count_offset;
    int min, max;           /* RP_OPT_INT */
    const char *metavar;    /* "N", "FILE", ...; NULL for flags */
    const char *help;       /* one line */
    rp_argv_handler handle; /* RP_OPT_CALL */
} rp_opt;

/* The options every command takes. TYPE is the job's options struct, with
 * `char **config; int nconfig;` fields; THREADS_FIELD the int that -j fills,
 * THREADS_LONG its long name ("--threads", or batch's "--jobs"),
 * THREADS_MAX its largest value. */
#define RP_ARGV_COMMON_OPTIONS(TYPE, THREADS_LONG, THREADS_FIELD, THREADS_MAX)                     \
    {.long_name = THREADS_LONG,                                                                    \
     .short_name = "-j",                                                                           \
     .kind = RP_OPT_INT,                                                                           \
     .offset = offsetof(TYPE, THREADS_FIELD),                                                      \
     .min = 1,                                                                                     \
     .max = THREADS_MAX,                                                                           \
     .metavar = "N",                                                                               \
     .help = "worker threads (default: the CPUs this process may use)"},                           \
        {.long_name = "--config",                                                                  \
         .kind = RP_OPT_PAIRS,                                                                     \
         .offset = offsetof(TYPE, config),                                                         \
         .count_offset = offsetof(TYPE, nconfig),                                                  \
         .metavar = "KEY VALUE",                                                                   \
         .help = "set a GDAL configuration option (repeatable)"},                                  \
        {.long_name = "--verbose", .short_name = "-v", .kind = RP_OPT_VERBOSE, .help = "verbose"}, \
        {.long_name = "--quiet", .short_name = "-q", .kind = RP_OPT_QUIET, .help = "quiet"}, {     \
        .long_name = "--help", .short_name = "-h", .kind = RP_OPT_HELP, .help = "this help"        \
    }

/* What "--" does. */
typedef enum rp_argv_dashdash {
    RP_ARGV_DASHDASH_UNKNOWN,    /* nothing special: an unknown option */
    RP_ARGV_DASHDASH_POSITIONAL, /* every later argument is positional */
    RP_ARGV_DASHDASH_STOP        /* parsing stops; *next is the index after it */
} rp_argv_dashdash;

typedef struct rp_argv_parser {
    const char *command;   /* "extract": errors say "see rasterpool extract --help" */
    const rp_opt *options; /* ends with a NULL long_name */
    void *target;          /* the options the offsets point into */
    void *ctx;             /* handed to the handlers */
    rp_cli_flags *cli;     /* filled by -q/-v/-h; NULL: those are ignored */
    /* called with each positional argument; NULL: one is an error */
    rp_argv_handler positional;
    rp_argv_dashdash dashdash;
} rp_argv_parser;

typedef enum rp_argv_result {
    RP_ARGV_DONE,  /* all parsed */
    RP_ARGV_HELP,  /* -h/--help: stopped there, err untouched */
    RP_ARGV_FAILED /* a usage error (RP_USAGE) or RP_NOMEM in err */
} rp_argv_result;

/* Parses argv[first] .. argv[argc - 1] in order. next, when not NULL, gets
 * the index of the first argument not parsed (after "--" with
 * RP_ARGV_DASHDASH_STOP; else argc). */
rp_argv_result rp_argv_parse(const rp_argv_parser *parser, int argc, const char *const *argv,
                             int first, int *next, rp_error *err);

/* Zeroes *cli when not NULL: every parser starts with it. */
void rp_argv_cli_clear(rp_cli_flags *cli);
/* s as a whole decimal integer in [min, max]. */
bool rp_argv_parse_int(const char *s, int min, int max, int *out);
/* Replaces *field with a copy of s. 0, or -1 when memory runs out. */
int rp_argv_set_string(char **field, const char *s);
/* Appends a copy of s to the NULL-terminated *list of *count strings. 0, or
 * -1 when memory runs out. */
int rp_argv_append(char ***list, int *count, const char *s);
/* Frees the n strings of list and list itself. */
void rp_argv_free_list(char **list, int n);

#endif
