/*
 * cmd_batch.c — `rasterpool batch`: parses argv with the library's parser,
 * adds the progress bar, the two-step Ctrl-C and the log on stderr
 * (cli_common.c), runs the batch and turns its status into the exit code.
 * Also the hidden `__batch-worker` entry that the batch's worker processes
 * run.
 *
 * Ctrl-C: the first SIGINT lets running tasks finish and starts no new ones
 * (RP_PROGRESS_DRAIN); the second, or a SIGTERM, kills the workers and
 * removes their temporaries (RP_PROGRESS_ABORT) within about a second (a
 * watchdog ends the process, staged outputs removed, if the loop does not
 * return by then); one more quits at once, also removing them.
 */
#include <stdbool.h>
#include <stdio.h>

#include "cli.h"
#ifdef RP_HAVE_MPI
#include "rasterpool_mpi.h" /* under mpirun: the tasks farmed over the ranks */
#define cli_batch_run rp_mpi_batch_run
#define cli_reports_errors() (rp_mpi_rank() == 0)
#else
#define cli_batch_run rp_batch_run
#define cli_reports_errors() 1
#endif

int cmd_batch(int argc, const char *const *argv) {
    cli_catch_interrupts(3);
    rp_error err;
    rp_error_clear(&err);
    rp_cli_flags flags;
    rp_batch_options *opts = rp_batch_options_new(argc, argv, &flags, &err);
    if (!opts) /* every rank parsed the same words: one message, rank 0's */
        return cli_reports_errors() ? cli_options_failed(&err, rp_batch_help())
                                    : rp_status_exit_code(err.code);
    /* -v prints a line per task: no bar then. With a bar, the summary and the
     * failed list wait in memory until the bar is erased, or the bar's last
     * erase would wipe them from the terminal. */
    bool bar_wanted = !flags.quiet && !flags.verbose;
    rp_progress_bar *bar = bar_wanted ? rp_progress_bar_new(stderr) : NULL;
    cli_log log;
    cli_log_init(&log, flags.verbose, bar != NULL);
    if (rp_batch_options_set_log(opts, cli_log_line, &log) != RP_OK) {
        rp_progress_bar_free(bar);
        rp_batch_options_free(opts);
        cli_log_release(&log);
        return cli_out_of_memory();
    }
    rp_batch_options_set_progress(opts, cli_on_progress, bar);
    /* the signal that stops running tasks (a second Ctrl-C, or SIGTERM)
     * ends the batch within a second, even with hung workers */
    cli_interrupt_grace(1000, 2, true);
    rp_batch_report report;
    rp_status rc = cli_batch_run(opts, &report, &err);
    rp_progress_bar_free(bar);
    rp_batch_options_free(opts); /* passes on a last unfinished log line */
    cli_log_release(&log);
    if (rc != RP_OK && rc != RP_PARTIAL && rc != RP_INTERRUPTED && cli_reports_errors())
        fprintf(stderr, "rasterpool: %s\n", err.message);
    return rp_status_exit_code(rc);
}

int cmd_batch_worker(int argc, const char *const *argv) {
    return rp_batch_worker_main(argc, argv);
}
