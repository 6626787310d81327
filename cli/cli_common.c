/*
 * cli_common.c — what every command of the program shares: the Ctrl-C
 * handler, the progress relay (bar + Ctrl-C) and the log callback that
 * prints the library's lines on stderr.
 *
 * Threads: the signal handler only counts (and may _exit); the progress
 * callback runs on the job's caller thread; the log callback may run on any
 * thread, one call at a time (the library serialises it), so cli_log needs
 * no lock.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "cli.h"

volatile sig_atomic_t cli_interrupted;
static volatile sig_atomic_t quit_signal = 2;
static volatile sig_atomic_t grace_ms; /* 0: no watchdog */
static volatile sig_atomic_t writing;  /* the job's last progress report was its writer's */
static volatile sig_atomic_t armed;    /* the watchdog's timer runs */

static void on_interrupt(int sig) {
    (void)sig;
    if (cli_interrupted + 1 >= quit_signal)
        _exit(130);
    if (cli_interrupted == 0 && grace_ms > 0 && !writing) {
        struct itimerval t = {{0, 0}, {grace_ms / 1000, (grace_ms % 1000) * 1000}};
        setitimer(ITIMER_REAL, &t, NULL); /* a plain system call on Linux */
        armed = 1;
    }
    cli_interrupted++;
}

/* The job did not stop within the grace after Ctrl-C (a network read that
 * cannot be cut short): quit, as a second Ctrl-C would. */
static void on_grace_over(int sig) {
    (void)sig;
    static const char msg[] = "rasterpool: interrupted (reads still in flight abandoned)\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
    _exit(130);
}

void cli_interrupt_grace(int ms) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_grace_over;
    sigaction(SIGALRM, &sa, NULL);
    grace_ms = ms;
}

void cli_catch_interrupts(int quit_at) {
    quit_signal = quit_at;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cli_on_progress(double fraction, const char *message, void *bar) {
    /* the writer stops cleanly at Ctrl-C (local writes): no watchdog then,
     * so that its staged output is removed, not abandoned */
    writing = message && (strncmp(message, "writ", 4) == 0 || strncmp(message, "opening", 7) == 0);
    if (writing && armed) {
        /* Ctrl-C came while reading and the job reached its writer: the
         * writer stops cleanly and removes its stage; a watchdog firing in
         * the middle of that would abandon it */
        struct itimerval off = {{0, 0}, {0, 0}};
        setitimer(ITIMER_REAL, &off, NULL);
        armed = 0;
    }
    if (cli_interrupted)
        return cli_interrupted == 1 ? RP_PROGRESS_DRAIN : RP_PROGRESS_ABORT;
    return bar ? rp_progress_bar_update(fraction, message, bar) : RP_PROGRESS_CONTINUE;
}

void cli_log_init(cli_log *log, bool verbose, bool hold) {
    memset(log, 0, sizeof *log);
    log->verbose = verbose;
    if (hold)
        log->hold = open_memstream(&log->held, &log->held_size); /* NULL: print at once */
}

void cli_log_line(void *user, int level, const char *line) {
    cli_log *log = user;
    if (level == RP_LOG_INFO && !log->verbose)
        return;
    FILE *out = log->hold ? log->hold : stderr;
    fprintf(out, "%s\n", line);
}

void cli_log_release(cli_log *log) {
    if (log->hold) {
        fclose(log->hold);
        log->hold = NULL;
    }
    if (log->held)
        fputs(log->held, stderr);
    free(log->held);
    log->held = NULL;
}

int cli_options_failed(const rp_error *err, const char *help) {
    if (err->code == RP_OK) { /* --help */
        fputs(help, stdout);
        return 0;
    }
    fprintf(stderr, "rasterpool: %s\n", err->message);
    return rp_status_exit_code(err->code);
}

int cli_out_of_memory(void) {
    fputs("rasterpool: out of memory\n", stderr);
    return rp_status_exit_code(RP_NOMEM);
}
