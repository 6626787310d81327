/*
 * cmd_batch.c — `rasterpool batch`: parses argv with the library's parser,
 * adds the progress bar and the two-step Ctrl-C, runs the batch and turns
 * its status into the exit code. Also the hidden `__batch-worker` entry that
 * the batch's worker processes run.
 *
 * Ctrl-C: the first SIGINT/SIGTERM lets running tasks finish and starts no
 * new ones; the second kills the workers and removes their temporaries (the
 * library does both when the progress callback says so); a third quits at
 * once.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void on_batch_interrupt(int sig) {
    (void)sig;
    if (cli_interrupted >= 2)
        _exit(130);
    cli_interrupted++;
}

typedef struct batch_progress {
    rp_progress_bar *bar;
} batch_progress;

static int on_progress(double fraction, const char *message, void *user) {
    batch_progress *p = user;
    if (cli_interrupted)
        return (int)cli_interrupted; /* 1: finish running tasks; 2: abort */
    return p->bar ? rp_progress_bar_update(fraction, message, p->bar) : 0;
}

int cmd_batch(int argc, const char *const *argv) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_batch_interrupt; /* no SA_RESTART: poll() wakes up */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    rp_error err;
    rp_error_clear(&err);
    rp_batch_options *opts = rp_batch_options_new(argc, argv, &err);
    if (!opts) {
        if (err.code == RP_OK) {
            fputs(rp_batch_help(), stdout);
            return 0;
        }
        fprintf(stderr, "rasterpool: %s\n", err.message);
        return rp_status_exit_code(err.code);
    }
    /* -v prints a line per task: no bar then. With a bar, the summary and the
     * failed list wait in memory until the bar is erased, or the bar's last
     * erase would wipe them from the terminal. */
    bool bar_wanted = !rp_batch_options_quiet(opts) && !rp_batch_options_verbose(opts);
    batch_progress progress = {.bar = bar_wanted ? rp_progress_bar_new(stderr) : NULL};
    char *held = NULL;
    size_t held_size = 0;
    FILE *hold = progress.bar ? open_memstream(&held, &held_size) : NULL;
    if (hold)
        rp_batch_options_set_log(opts, hold);
    rp_batch_options_set_progress(opts, on_progress, &progress);
    rp_batch_report report;
    rp_status rc = rp_batch_run(opts, &report, &err);
    rp_progress_bar_free(progress.bar);
    if (hold) {
        fclose(hold);
        if (held)
            fputs(held, stderr);
        free(held);
    }
    if (rc != RP_OK && rc != RP_PARTIAL && rc != RP_INTERRUPTED)
        fprintf(stderr, "rasterpool: %s\n", err.message);
    rp_batch_options_free(opts);
    return rp_status_exit_code(rc);
}

int cmd_batch_worker(int argc, const char *const *argv) {
    return rp_batch_worker_main(argc, argv);
}
