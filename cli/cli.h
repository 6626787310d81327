/* cli.h — the subcommands of the rasterpool program and what they share
 * (cli_common.c: Ctrl-C, the progress relay, the log callback). The program
 * reaches the library through rasterpool.h only. */
#ifndef RP_CLI_H
#define RP_CLI_H
#include "rasterpool.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

/* How many SIGINT/SIGTERM have arrived. Commands poll it through their
 * progress callback (cli_on_progress) and stop cleanly. */
extern volatile sig_atomic_t cli_interrupted;
/* Installs the handler for SIGINT and SIGTERM: each signal counts, and the
 * signal number quit_at ends the process at once (exit 130). No
 * SA_RESTART: a read blocked on a pipe returns EINTR and the job checks. */
void cli_catch_interrupts(int quit_at);
/* Maps points files instead of copying them (rp_map_points_files), with a
 * SIGBUS handler that names a points file truncated underneath, removes the
 * staged outputs and exits 3 (RP_READ). RASTERPOOL_MAP_POINTS=0 keeps pread. */
void cli_map_points(void);
/* Once `after` SIGINT/SIGTERM have arrived (1: the first; batch: 2, the one
 * that stops running tasks), the process ends with exit 130 if the job has
 * not returned within ms milliseconds (a read blocked on the network, a
 * write blocked on a FIFO, a kernel that never returns, a slow close): its
 * staged outputs are removed first (rp_remove_staged_outputs), so nothing
 * is left behind and old outputs stay. The last signal counted by
 * cli_catch_interrupts does the same at once. With sigterm_stops, a first
 * SIGTERM counts as two signals (batch: stop running tasks now, as a
 * supervisor's SIGTERM means). */
void cli_interrupt_grace(int ms, int after, bool sigterm_stops);

/* The progress callback of every command: draws bar (may be NULL) and turns
 * Ctrl-C into the library's answer: one signal RP_PROGRESS_DRAIN (batch lets
 * running tasks finish; extract and calc stop), two RP_PROGRESS_ABORT. The
 * user pointer is the rp_progress_bar, or NULL. */
int cli_on_progress(double fraction, const char *message, void *bar);

/* The log callback of every command: RP_LOG_WARNING lines always, RP_LOG_INFO
 * lines with -v, each to stderr, or into memory while held. */
typedef struct cli_log {
    bool verbose;
    FILE *hold; /* not NULL: lines wait here until cli_log_release */
    char *held;
    size_t held_size;
} cli_log;
/* Starts a log; with hold, lines wait in memory (so that a progress bar's
 * last erase does not wipe them) until cli_log_release. */
void cli_log_init(cli_log *log, bool verbose, bool hold);
void cli_log_line(void *log, int level, const char *line);
/* Writes the held lines to stderr and frees them. */
void cli_log_release(cli_log *log);

/* Prints the outcome of options_new when it returned NULL: the help text on
 * stdout for --help (exit 0), else the error (its exit code). */
int cli_options_failed(const rp_error *err, const char *help);

/* Prints "rasterpool: out of memory" and returns its exit code. */
int cli_out_of_memory(void);

int cmd_extract(int argc, const char *const *argv);
int cmd_calc(int argc, const char *const *argv);
int cmd_batch(int argc, const char *const *argv);
int cmd_zonal(int argc, const char *const *argv);
/* The hidden entry of batch worker processes (not in the command table). */
int cmd_batch_worker(int argc, const char *const *argv);

#endif
