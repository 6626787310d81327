/*
 * progress.c — a one-line progress bar on a terminal.
 *
 * Drawn only when the stream is a terminal and the job has already run for a
 * second (short jobs stay silent), redrawn at most ten times a second, and
 * erased at the end so the terminal is left clean. Called from the job's
 * caller thread only (rp_progress_fn contract), so it holds no lock.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "rasterpool.h"

struct rp_progress_bar {
    FILE *stream;
    bool tty;
    bool drawn;
    double start;
    double last_draw;
};

RP_API rp_progress_bar *rp_progress_bar_new(FILE *stream) {
    rp_progress_bar *bar = calloc(1, sizeof *bar);
    if (!bar)
        return NULL;
    bar->stream = stream;
    bar->tty = stream && isatty(fileno(stream));
    bar->start = rp_monotonic_seconds();
    return bar;
}

static void format_eta(char *buf, size_t cap, double seconds) {
    if (seconds < 0 || seconds > 99 * 3600)
        snprintf(buf, cap, "--:--");
    else if (seconds >= 3600)
        snprintf(buf, cap, "%d:%02d:%02d", (int)seconds / 3600, ((int)seconds / 60) % 60,
                 (int)seconds % 60);
    else
        snprintf(buf, cap, "%02d:%02d", (int)seconds / 60, (int)seconds % 60);
}

RP_API int rp_progress_bar_update(double fraction, const char *message, void *user) {
    rp_progress_bar *bar = user;
    if (!bar || !bar->tty)
        return RP_PROGRESS_CONTINUE;
    double now = rp_monotonic_seconds();
    double elapsed = now - bar->start;
    if (elapsed < 1.0 || (now - bar->last_draw < 0.1 && fraction < 1.0))
        return RP_PROGRESS_CONTINUE;
    bar->last_draw = now;
    if (fraction < 0)
        fraction = 0;
    if (fraction > 1)
        fraction = 1;
    enum { WIDTH = 30 };
    char cells[WIDTH + 1];
    int filled = (int)(fraction * WIDTH);
    for (int i = 0; i < WIDTH; i++)
        cells[i] = i < filled ? '#' : '.';
    cells[WIDTH] = '\0';
    char eta[32];
    format_eta(eta, sizeof eta, fraction > 0.001 ? elapsed * (1 - fraction) / fraction : -1);
    fprintf(bar->stream, "\r%-24.24s [%s] %5.1f%% ETA %s ", message ? message : "", cells,
            fraction * 100.0, eta);
    fflush(bar->stream);
    bar->drawn = true;
    return RP_PROGRESS_CONTINUE;
}

RP_API void rp_progress_bar_free(rp_progress_bar *bar) {
    if (!bar)
        return;
    if (bar->drawn) {
        fprintf(bar->stream, "\r%80s\r", "");
        fflush(bar->stream);
    }
    free(bar);
}
