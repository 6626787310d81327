/*
 * cmd_extract.c — `rasterpool extract`: parses argv with the library's own
 * parser, adds a progress bar on a terminal and Ctrl-C handling, sends the
 * --plan text to stdout (the library itself never prints), runs the job and
 * turns its status into the exit code. Nothing else lives here.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct cli_progress {
    rp_progress_bar *bar;
} cli_progress;

/* Checks for Ctrl-C (the job then stops cleanly and removes its partial
 * output) and draws the bar. */
static int cli_on_progress(double fraction, const char *message, void *user) {
    cli_progress *p = user;
    if (cli_interrupted)
        return 1;
    return p->bar ? rp_progress_bar_update(fraction, message, p->bar) : 0;
}

int cmd_extract(int argc, const char *const *argv) {
    rp_error err;
    rp_error_clear(&err);
    rp_extract_options *opts = rp_extract_options_new(argc, argv, &err);
    if (!opts) {
        if (err.code == RP_OK) { /* --help */
            fputs(rp_extract_help(), stdout);
            return 0;
        }
        fprintf(stderr, "rasterpool: %s\n", err.message);
        return rp_status_exit_code(err.code);
    }
    cli_progress progress = {.bar = rp_extract_options_quiet(opts) ? NULL
                                                                   : rp_progress_bar_new(stderr)};
    rp_extract_options_set_progress(opts, cli_on_progress, &progress);
    rp_extract_options_set_plan_output(opts, stdout); /* --plan prints here */
    rp_extract_report report;
    rp_status rc = rp_extract_run(opts, &report, &err);
    rp_progress_bar_free(progress.bar);
    if (rc == RP_PARTIAL)
        fprintf(stderr, "rasterpool: warning: %s: their values are empty (status error)\n",
                err.message);
    else if (rc != RP_OK)
        fprintf(stderr, "rasterpool: %s\n", rc == RP_INTERRUPTED ? "interrupted" : err.message);
    rp_extract_options_free(opts);
    return rp_status_exit_code(rc);
}
