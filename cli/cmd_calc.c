/*
 * cmd_calc.c — `rasterpool calc`: parses argv with the library's own parser,
 * adds a progress bar on a terminal and Ctrl-C handling, runs the job and
 * turns its status into the exit code. Nothing else lives here.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct calc_progress {
    rp_progress_bar *bar;
} calc_progress;

/* Checks for Ctrl-C (the job then stops and removes its temporary output)
 * and draws the bar. */
static int calc_on_progress(double fraction, const char *message, void *user) {
    calc_progress *p = user;
    if (cli_interrupted)
        return 1;
    return p->bar ? rp_progress_bar_update(fraction, message, p->bar) : 0;
}

int cmd_calc(int argc, const char *const *argv) {
    rp_error err;
    rp_error_clear(&err);
    rp_calc_options *opts = rp_calc_options_new(argc, argv, &err);
    if (!opts) {
        if (err.code == RP_OK) { /* --help */
            fputs(rp_calc_help(), stdout);
            return 0;
        }
        fprintf(stderr, "rasterpool: %s\n", err.message);
        return rp_status_exit_code(err.code);
    }
    calc_progress progress = {.bar =
                                  rp_calc_options_quiet(opts) ? NULL : rp_progress_bar_new(stderr)};
    rp_calc_options_set_progress(opts, calc_on_progress, &progress);
    rp_calc_report report;
    rp_status rc = rp_calc_run(opts, &report, &err);
    rp_progress_bar_free(progress.bar);
    if (rc != RP_OK)
        fprintf(stderr, "rasterpool: %s\n", rc == RP_INTERRUPTED ? "interrupted" : err.message);
    rp_calc_options_free(opts);
    return rp_status_exit_code(rc);
}
