/* test_argv.c — core's table-driven option parser (argv.c) on a table of its
 * own: every accepted spelling of a value (-j2, -j 2, --threads=2,
 * --threads 2), unknown options, missing values, out-of-range integers,
 * --config pairs, the -q/-v/-h program flags, positional arguments and the
 * three meanings of "--". Links core alone (no GDAL). */
#include <stddef.h>

#include "argv.h"
#include "check.h"

typedef struct opts {
    int threads;
    char **config;
    int nconfig;
    bool flag;
    char *name;
    char **pos;
    int npos;
} opts;

static rp_status add_pos(void *target, void *ctx, const char *arg, rp_error *err) {
    (void)ctx;
    opts *o = target;
    return rp_argv_append(&o->pos, &o->npos, arg) == 0 ? RP_OK : rp_error_set(err, RP_NOMEM, "oom");
}

static const rp_opt table[] = {
    RP_ARGV_COMMON_OPTIONS(opts, "--threads", threads, 64),
    {.long_name = "--flag", .kind = RP_OPT_FLAG, .offset = offsetof(opts, flag)},
    {.long_name = "--name",
     .short_name = "-n",
     .kind = RP_OPT_STRING,
     .offset = offsetof(opts, name)},
    {.long_name = NULL},
};

static void opts_free(opts *o) {
    rp_argv_free_list(o->config, o->nconfig * 2);
    rp_argv_free_list(o->pos, o->npos);
    free(o->name);
    memset(o, 0, sizeof *o);
}

/* Parses argv (NULL-terminated, argv[0] a program name) into *o. */
static rp_argv_result parse(opts *o, rp_cli_flags *cli, rp_argv_dashdash dd, int *next,
                            rp_error *err, const char *const *argv) {
    int argc = 0;
    while (argv[argc])
        argc++;
    memset(o, 0, sizeof *o);
    rp_argv_cli_clear(cli);
    rp_error_clear(err);
    rp_argv_parser p = {.command = "test",
                        .options = table,
                        .target = o,
                        .cli = cli,
                        .positional = add_pos,
                        .dashdash = dd};
    return rp_argv_parse(&p, argc, argv, 1, next, err);
}

#define ARGS(...) ((const char *const[]){"prog", __VA_ARGS__, NULL})

static void test_values(void) {
    opts o;
    rp_error err;
    const char *const *spellings[] = {ARGS("-j2"), ARGS("-j", "2"), ARGS("--threads=2"),
                                      ARGS("--threads", "2")};
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        CHECK_EQ_INT(parse(&o, NULL, RP_ARGV_DASHDASH_UNKNOWN, NULL, &err, spellings[i]),
                     RP_ARGV_DONE);
        CHECK_EQ_INT(o.threads, 2);
        opts_free(&o);
    }
    CHECK_EQ_INT(parse(&o, NULL, RP_ARGV_DASHDASH_UNKNOWN, NULL, &err, ARGS("-n7")), RP_ARGV_DONE);
    CHECK_EQ_STR(o.name, "7");
    opts_free(&o);
    CHECK_EQ_INT(parse(&o, NULL, RP_ARGV_DASHDASH_UNKNOWN, NULL, &err,
                       ARGS("-n", "a", "--name=x=y", "--flag")),
                 RP_ARGV_DONE);
    CHECK_EQ_STR(o.name, "x=y"); /* the last one wins; '=' inside the value stays */
    CHECK(o.flag);
    opts_free(&o);
    /* a value that starts with '-' is still the option's value */
    CHECK_EQ_INT(parse(&o, NULL, RP_ARGV_DASHDASH_UNKNOWN, NULL, &err, ARGS("-n", "-5")),
                 RP_ARGV_DONE);
    CHECK_EQ_STR(o.name, "-5");
    opts_free(&o);
}

static void test_errors(void) {
    opts o;
    rp_error err;
    CHECK_EQ_INT(parse(&o, NULL, RP_ARGV_DASHDASH_UNKNOWN, NULL, &err, ARGS("a", "--frobnicate")),
                 RP_ARGV_FAILED);
    CHECK_EQ_INT(err.code, RP_USAGE);
    CHECK_EQ_STR(err.message, "unknown option '--frobnicate' (see rasterpool test --help)");
    opts_free(&o);
    CHECK_EQ_INT(parse(&o, NULL, RP_ARGV_DASHDASH_UNKNOWN, NULL, &err, ARGS("-qv")),
                 RP_ARGV_FAILED); /* no bundling of flags */
    CHECK_EQ_STR(err.message, "unknown option '-qv' (see rasterpool test --help)");
    opts_free(&o);
    /* a text glued to a short option is not its value: -nfoo is a typo of
     * --nfoo or of a GDAL-style -nf, not -n foo */
    CHECK_EQ_INT(parse(&o, NULL, RP_ARGV_DASHDASH_UNKNOWN, NULL, &err, ARGS("-nfoo")),
                 RP_ARGV_FAILED);
    CHECK_EQ_STR(err.message, "unknown option '-nfoo' (see rasterpool test --help)");
    opts_free(&o);
    CHECK_EQ_INT(parse(&o, NULL, RP_ARGV_DASHDASH_UNKNOWN, NULL, &err, ARGS("-j")), RP_ARGV_FAILED);
    CHECK_EQ_STR(err.message, "option -j needs a value");
    opts_free(&o);
    CHECK_EQ_INT(parse(&o, NULL, RP_ARGV_DASHDASH_UNKNOWN, NULL, &err, ARGS("--name")),
                 RP_ARGV_FAILED);
    CHECK_EQ_STR(err.message, "option --name needs a value");
    opts_free(&o);
    const char *bad_threads[] = {"0", "65", "-1", "abc", "2x", "", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad_threads / sizeof bad_threads[0]; i++) {
        char want[128];
        snprintf(want, sizeof want, "-j/--threads: '%s' is not a number from 1 to 64",
                 bad_threads[i]);
        CHECK_EQ_INT(parse(&o, NULL, RP_ARGV_DASHDASH_UNKNOWN, NULL, &err,
                           ARGS("--threads", bad_threads[i])),
                     RP_ARGV_FAILED);
        CHECK_EQ_INT(err.code, RP_USAGE);
        CHECK_EQ_STR(err.message, want);
        opts_free(&o);
    }
    CHECK_EQ_INT(parse(&o, NULL, RP_ARGV_DASHDASH_UNKNOWN, NULL, &err, ARGS("-j64")),
                 RP_ARGV_DONE); /* the upper bound itself is fine */
    CHECK_EQ_INT(o.threads, 64);
    opts_free(&o);
    CHECK_EQ_INT(parse(&o, NULL, RP_ARGV_DASHDASH_UNKNOWN, NULL, &err, ARGS("--flag=1")),
                 RP_ARGV_FAILED);
    CHECK_EQ_STR(err.message, "option --flag takes no value");
    opts_free(&o);
}

static void test_config(void) {
    opts o;
    rp_error err;
    CHECK_EQ_INT(parse(&o, NULL, RP_ARGV_DASHDASH_UNKNOWN, NULL, &err,
                       ARGS("--config", "A", "1", "x", "--config", "B", "--two words")),
                 RP_ARGV_DONE);
    CHECK_EQ_INT(o.nconfig, 2);
    CHECK_EQ_STR(o.config[0], "A");
    CHECK_EQ_STR(o.config[1], "1");
    CHECK_EQ_STR(o.config[2], "B");
    CHECK_EQ_STR(o.config[3], "--two words"); /* a value may look like an option */
    CHECK(o.config[4] == NULL);
    CHECK_EQ_INT(o.npos, 1);
    CHECK_EQ_STR(o.pos[0], "x");
    opts_free(&o);
    CHECK_EQ_INT(parse(&o, NULL, RP_ARGV_DASHDASH_UNKNOWN, NULL, &err, ARGS("--config", "A")),
                 RP_ARGV_FAILED);
    CHECK_EQ_INT(err.code, RP_USAGE);
    CHECK_EQ_STR(err.message, "--config needs a KEY and a VALUE");
    opts_free(&o);
    CHECK_EQ_INT(parse(&o, NULL, RP_ARGV_DASHDASH_UNKNOWN, NULL, &err, ARGS("--config=A", "1")),
                 RP_ARGV_FAILED);
    CHECK_EQ_STR(err.message, "--config needs a KEY and a VALUE");
    opts_free(&o);
}

static void test_program_flags(void) {
    opts o;
    rp_error err;
    rp_cli_flags cli;
    CHECK_EQ_INT(parse(&o, &cli, RP_ARGV_DASHDASH_UNKNOWN, NULL, &err, ARGS("-q", "--verbose")),
                 RP_ARGV_DONE);
    CHECK(cli.quiet && cli.verbose && !cli.help);
    opts_free(&o);
    /* -h stops at once: what follows is not even looked at */
    CHECK_EQ_INT(parse(&o, &cli, RP_ARGV_DASHDASH_UNKNOWN, NULL, &err, ARGS("-h", "--bad")),
                 RP_ARGV_HELP);
    CHECK(cli.help && !cli.quiet);
    CHECK_EQ_INT(err.code, RP_OK);
    opts_free(&o);
    /* C callers pass no flags: -q and -v are accepted and ignored */
    CHECK_EQ_INT(parse(&o, NULL, RP_ARGV_DASHDASH_UNKNOWN, NULL, &err, ARGS("-q", "-v")),
                 RP_ARGV_DONE);
    CHECK_EQ_INT(parse(&o, NULL, RP_ARGV_DASHDASH_UNKNOWN, NULL, &err, ARGS("--help")),
                 RP_ARGV_HELP);
    opts_free(&o);
}

static void test_dashdash(void) {
    opts o;
    rp_error err;
    int next = -1;
    CHECK_EQ_INT(parse(&o, NULL, RP_ARGV_DASHDASH_POSITIONAL, &next, &err,
                       ARGS("a", "-", "--", "-j", "--x")),
                 RP_ARGV_DONE);
    CHECK_EQ_INT(o.npos, 4);
    CHECK_EQ_STR(o.pos[1], "-");
    CHECK_EQ_STR(o.pos[2], "-j");
    CHECK_EQ_INT(o.threads, 0);
    CHECK_EQ_INT(next, 6);
    opts_free(&o);
    CHECK_EQ_INT(
        parse(&o, NULL, RP_ARGV_DASHDASH_STOP, &next, &err, ARGS("a", "-j3", "--", "-j", "--x")),
        RP_ARGV_DONE);
    CHECK_EQ_INT(o.npos, 1);
    CHECK_EQ_INT(o.threads, 3);
    CHECK_EQ_INT(next, 4); /* argv[4] is the first argument after "--" */
    opts_free(&o);
    CHECK_EQ_INT(parse(&o, NULL, RP_ARGV_DASHDASH_UNKNOWN, &next, &err, ARGS("--")),
                 RP_ARGV_FAILED);
    CHECK_EQ_STR(err.message, "unknown option '--' (see rasterpool test --help)");
    opts_free(&o);
}

int main(void) {
    test_values();
    test_errors();
    test_config();
    test_program_flags();
    test_dashdash();
    return CHECK_DONE();
}
