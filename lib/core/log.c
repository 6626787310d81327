/*
 * log.c — a job's log: the caller's rp_log_fn behind stdio streams.
 *
 * The jobs write warnings with fprintf(opts->log, ...) from any thread and
 * notes with fprintf(opts->info, ...). Each of those FILEs is a glibc
 * fopencookie stream whose write function cuts the text into lines and calls
 * the callback once per whole line, without its newline.
 *
 * Threads: the callback runs on whichever thread writes the line (a worker
 * for a bad block, the caller for a summary). glibc holds the FILE's lock
 * while it calls the write function, which keeps one stream's partial-line
 * buffer consistent; a mutex shared by the log's two streams then serialises
 * the callback across both, so a caller never sees two calls at once. Lock
 * order: a FILE lock, then the log's mutex, never the other way round (the
 * callback cannot reach the streams).
 *
 * Ownership: the log owns its streams and buffers; the user pointer is the
 * caller's.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "log.h"

typedef struct log_stream {
    struct rp_log *log;
    rp_log_level level;
    char *pending; /* text after the last newline, not yet passed on */
    size_t npending, cap;
    FILE *file;
} log_stream;

struct rp_log {
    rp_log_fn fn;
    void *user;
    pthread_mutex_t lock; /* serialises fn across the two streams */
    log_stream warn, info;
};

static void emit(log_stream *s, const char *line) {
    pthread_mutex_lock(&s->log->lock);
    s->log->fn(s->log->user, (int)s->level, line);
    pthread_mutex_unlock(&s->log->lock);
}

/* Appends n bytes to the pending text; false when memory runs out. */
static bool pending_append(log_stream *s, const char *text, size_t n) {
    if (s->npending + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (cap < s->npending + n + 1)
            cap *= 2;
        char *grown = realloc(s->pending, cap);
        if (!grown)
            return false;
        s->pending = grown;
        s->cap = cap;
    }
    memcpy(s->pending + s->npending, text, n);
    s->npending += n;
    s->pending[s->npending] = '\0';
    return true;
}

/* fopencookie's write: passes every completed line on, keeps the rest. On
 * memory exhaustion the text is dropped (a log line is not worth failing a
 * job for) but reported as written, so the job's stdio does not loop. */
static ssize_t log_write(void *cookie, const char *buf, size_t size) {
    log_stream *s = cookie;
    size_t start = 0;
    for (size_t i = 0; i < size; i++) {
        if (buf[i] != '\n')
            continue;
        /* the line's start may be pending from an earlier write */
        if (pending_append(s, buf + start, i - start))
            emit(s, s->pending);
        s->npending = 0;
        start = i + 1;
    }
    if (start < size)
        pending_append(s, buf + start, size - start);
    return (ssize_t)size;
}

static int log_close(void *cookie) {
    log_stream *s = cookie;
    if (s->npending)
        emit(s, s->pending);
    free(s->pending);
    s->pending = NULL;
    s->npending = s->cap = 0;
    return 0;
}

static bool stream_open(rp_log *log, log_stream *s, rp_log_level level) {
    s->log = log;
    s->level = level;
    cookie_io_functions_t io = {.write = log_write, .close = log_close};
    s->file = fopencookie(s, "w", io);
    if (!s->file)
        return false;
    setvbuf(s->file, NULL, _IOLBF, 0);
    return true;
}

rp_log *rp_log_new(rp_log_fn fn, void *user) {
    rp_log *log = calloc(1, sizeof *log);
    if (!log)
        return NULL;
    log->fn = fn;
    log->user = user;
    pthread_mutex_init(&log->lock, NULL);
    if (!stream_open(log, &log->warn, RP_LOG_WARNING) ||
        !stream_open(log, &log->info, RP_LOG_INFO)) {
        rp_log_free(log);
        return NULL;
    }
    return log;
}

FILE *rp_log_stream(const rp_log *log, rp_log_level level) {
    if (!log)
        return NULL;
    return level == RP_LOG_INFO ? log->info.file : log->warn.file;
}

void rp_log_free(rp_log *log) {
    if (!log)
        return;
    if (log->warn.file)
        fclose(log->warn.file);
    if (log->info.file)
        fclose(log->info.file);
    pthread_mutex_destroy(&log->lock);
    free(log);
}

rp_status rp_log_replace(rp_log **owned, FILE **warn, FILE **info, rp_log_fn fn, void *user) {
    rp_log *log = NULL;
    if (fn && !(log = rp_log_new(fn, user)))
        return RP_NOMEM;
    rp_log_free(*owned);
    *owned = log;
    *warn = rp_log_stream(log, RP_LOG_WARNING);
    *info = rp_log_stream(log, RP_LOG_INFO);
    return RP_OK;
}
