/*
 * cmd_zonal.c — `rasterpool zonal`: parses argv with the library's own
 * parser, adds a progress bar on a terminal, Ctrl-C handling and the log on
 * stderr (cli_common.c), sends the --plan text to stdout (the library
 * itself never prints), runs the job and turns its status into the exit
 * code. Nothing else lives here.
 */
#include <stdio.h>

#include "cli.h"
#ifdef RP_HAVE_MPI
#include "rasterpool_mpi.h" /* under mpirun: the plan's blocks farmed out to the ranks */
#define cli_zonal_run rp_mpi_zonal_run
#define cli_reports_errors() (rp_mpi_rank() == 0)
#else
#define cli_zonal_run rp_zonal_run
#define cli_reports_errors() 1
#endif

int cmd_zonal(int argc, const char *const *argv) {
    rp_error err;
    rp_error_clear(&err);
    rp_cli_flags flags;
    rp_zonal_options *opts = rp_zonal_options_new(argc, argv, &flags, &err);
    if (!opts)
        return cli_reports_errors() ? cli_options_failed(&err, rp_zonal_help())
                                    : rp_status_exit_code(err.code);
    cli_log log;
    cli_log_init(&log, flags.verbose, false);
    if (rp_zonal_options_set_log(opts, cli_log_line, &log) != RP_OK) {
        rp_zonal_options_free(opts);
        return cli_out_of_memory();
    }
    rp_progress_bar *bar = flags.quiet ? NULL : rp_progress_bar_new(stderr);
    rp_zonal_options_set_progress(opts, cli_on_progress, bar);
    rp_zonal_options_set_plan_output(opts, stdout); /* --plan prints here */
    cli_interrupt_grace(1000, 1, false);            /* within a second, in every phase */
    rp_zonal_report report;
    rp_status rc = cli_zonal_run(opts, &report, &err);
    rp_progress_bar_free(bar);
    if (!cli_reports_errors()) /* rank 0 reports the job's outcome */
        ;
    else if (rc == RP_PARTIAL)
        fprintf(stderr, "rasterpool: warning: %s\n", err.message);
    else if (rc != RP_OK)
        fprintf(stderr, "rasterpool: %s\n", rc == RP_INTERRUPTED ? "interrupted" : err.message);
    rp_zonal_options_free(opts); /* passes on a last unfinished log line */
    cli_log_release(&log);
    return rp_status_exit_code(rc);
}
