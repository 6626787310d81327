/*
 * cli_common.c — what every command of the program shares: the Ctrl-C
 * handler, the progress relay (bar + Ctrl-C) and the log callback that
 * prints the library's lines on stderr.
 *
 * Ctrl-C is honoured within about a second in every phase: the first
 * signal asks the job to stop (it stops at its own checks, removes its
 * staged output and returns RP_INTERRUPTED) and starts a watchdog; if the
 * job has not returned when it fires, or at the last signal counted, the
 * process removes every staged output of its own (rp_remove_staged_outputs,
 * async-signal-safe) and ends with _exit(130).
 *
 * Points files are mapped, not copied (cli_map_points): a SIGBUS from one
 * truncated underneath removes the staged outputs and ends the process
 * with RP_READ's exit code (3) and a message naming the file.
 *
 * Threads: the signal handlers only count, set a timer and may clean up and
 * _exit (async-signal-safe calls only); the progress
 * callback runs on the job's caller thread; the log callback may run on any
 * thread, one call at a time (the library serialises it), so cli_log needs
 * no lock.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

volatile sig_atomic_t cli_interrupted;
static volatile sig_atomic_t quit_signal = 2;
static volatile sig_atomic_t grace_ms;   /* 0: no watchdog */
static volatile sig_atomic_t arm_at = 1; /* the count of signals that starts it */
static volatile sig_atomic_t term_stops; /* SIGTERM counts as two signals */
static volatile sig_atomic_t armed;      /* the watchdog's timer runs */
static volatile sig_atomic_t waits;      /* 50 ms waits for a rename into place */
static volatile sig_atomic_t late;       /* the watchdog fired */

static void set_timer_ms(int ms) {
    struct itimerval t = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
    setitimer(ITIMER_REAL, &t, NULL); /* a plain system call on Linux */
}

static void say(const char *msg, size_t len) {
    ssize_t w = write(STDERR_FILENO, msg, len);
    (void)w;
}

/* Ends the process now, exit 130, leaving no staged output behind (the old
 * outputs stay as they were). An output being renamed into place (a few
 * renames) is let finish first: the timer brings us back in 50 ms, for at
 * most 2 s. Async-signal-safe: rp_remove_staged_outputs, write, setitimer,
 * _exit. */
static void quit_now(void) {
    if (rp_remove_staged_outputs() < 0 && waits < 40) {
        waits++;
        set_timer_ms(50);
        return;
    }
    static const char slow[] = "rasterpool: interrupted (the job did not stop within a second: "
                               "stopped at once, its unfinished outputs removed)\n";
    if (late)
        say(slow, sizeof slow - 1);
    _exit(130);
}

static void on_interrupt(int sig) {
    cli_interrupted += sig == SIGTERM && term_stops && cli_interrupted == 0 ? 2 : 1;
    if (cli_interrupted >= quit_signal) {
        quit_now();
        return;
    }
    if (cli_interrupted >= arm_at && grace_ms > 0 && !armed) {
        armed = 1;
        set_timer_ms(grace_ms);
    }
}

/* The watchdog: the job did not return within the grace after the signal
 * (a network read that cannot be cut short, a write blocked on a FIFO, a
 * kernel that never returns, a close waiting on a slow disk). */
static void on_grace_over(int sig) {
    (void)sig;
    if (!waits)
        late = 1;
    quit_now();
}

void cli_interrupt_grace(int ms, int after, bool sigterm_stops) {
    arm_at = after;
    term_stops = sigterm_stops;
    grace_ms = ms;
}

void cli_catch_interrupts(int quit_at) {
    quit_signal = quit_at;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_grace_over; /* also the 50 ms waits of quit_now */
    sigaction(SIGALRM, &sa, NULL);
}

/* SIGBUS: a mapped points file was truncated underneath (rp_map_points_files
 * in rasterpool.h). Async-signal-safe: rp_mapped_points_at,
 * rp_remove_staged_outputs, nanosleep, write, pause, _exit (one thread
 * only: a second faulting thread waits for the first to end the process).
 * A bus error that is
 * not a points file's still removes the staged outputs, then takes the
 * default action (a core dump, as without this handler). */
static volatile sig_atomic_t bus_exit = 3; /* RP_READ's */

static void on_bus_error(int sig, siginfo_t *info, void *context) {
    (void)context;
    static atomic_flag first = ATOMIC_FLAG_INIT;
    if (atomic_flag_test_and_set(&first))
        for (;;)
            pause(); /* another thread is ending the process */
    const char *name = rp_mapped_points_at(info->si_addr);
    for (int k = 0; rp_remove_staged_outputs() < 0 && k < 40; k++) {
        struct timespec wait = {0, 50 * 1000 * 1000}; /* a rename into place ends */
        nanosleep(&wait, NULL);
    }
    if (!name) {
        signal(sig, SIG_DFL);
        raise(sig); /* delivered on return, or the fault comes again */
        return;
    }
    static const char head[] = "rasterpool: points file ";
    static const char tail[] = " changed while being read (it was truncated: SIGBUS); stopped "
                               "at once, its unfinished outputs removed, the old outputs kept\n";
    say(head, sizeof head - 1);
    say(name, strlen(name));
    say(tail, sizeof tail - 1);
    _exit(bus_exit);
}

void cli_map_points(void) {
    const char *env = getenv("RASTERPOOL_MAP_POINTS");
    if (env && strcmp(env, "0") == 0)
        return; /* pread, as library callers get by default */
    bus_exit = rp_status_exit_code(RP_READ);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_bus_error;
    sa.sa_flags = SA_SIGINFO;
    if (sigaction(SIGBUS, &sa, NULL) == 0)
        rp_map_points_files(1);
}

int cli_on_progress(double fraction, const char *message, void *bar) {
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
