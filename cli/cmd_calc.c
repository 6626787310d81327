/*
 * cmd_calc.c — `rasterpool calc`: parses argv with the library's own parser,
 * adds a progress bar on a terminal, Ctrl-C handling and the log on stderr
 * (cli_common.c), runs the job and turns its status into the exit code.
 * Nothing else lives here.
 */
#include <stdio.h>

#include "cli.h"

int cmd_calc(int argc, const char *const *argv) {
    rp_error err;
    rp_error_clear(&err);
    rp_cli_flags flags;
    rp_calc_options *opts = rp_calc_options_new(argc, argv, &flags, &err);
    if (!opts)
        return cli_options_failed(&err, rp_calc_help());
    cli_log log;
    cli_log_init(&log, flags.verbose, false);
    if (rp_calc_options_set_log(opts, cli_log_line, &log) != RP_OK) {
        rp_calc_options_free(opts);
        return cli_out_of_memory();
    }
    rp_progress_bar *bar = flags.quiet ? NULL : rp_progress_bar_new(stderr);
    rp_calc_options_set_progress(opts, cli_on_progress, bar);
    cli_interrupt_grace(1000, 1, false); /* within a second, in every phase */
    rp_calc_report report;
    rp_status rc = rp_calc_run(opts, &report, &err);
    rp_progress_bar_free(bar);
    if (rc != RP_OK)
        fprintf(stderr, "rasterpool: %s\n", rc == RP_INTERRUPTED ? "interrupted" : err.message);
    rp_calc_options_free(opts); /* passes on a last unfinished log line */
    cli_log_release(&log);
    return rp_status_exit_code(rc);
}
