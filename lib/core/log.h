/*
 * log.h — a job's log: the caller's rp_log_fn behind two stdio streams, one
 * per level, so that the jobs keep writing with fprintf(opts->log, ...).
 */
#ifndef RP_LOG_H
#define RP_LOG_H
#include <stdio.h>

#include "rasterpool.h"

typedef struct rp_log rp_log;

/* A log that hands each whole line written to its streams to fn(user,
 * level, line), the newline removed. fn must not be NULL. NULL when memory
 * or a stream cannot be had. */
rp_log *rp_log_new(rp_log_fn fn, void *user);
/* The stream of one level (RP_LOG_WARNING or RP_LOG_INFO); owned by the log.
 * Line-buffered: a line reaches fn when its newline is written; text after
 * the last newline reaches it when the log is freed. */
FILE *rp_log_stream(const rp_log *log, rp_log_level level);
/* Flushes both streams (a last line without newline is passed on whole),
 * closes them and frees the log. NULL is a no-op. */
void rp_log_free(rp_log *log);

/* Sets a job's two log streams from a caller's callback: *owned becomes a
 * new log for fn (the old one freed) and *warn and *info its streams; fn NULL
 * silences both (NULL streams). Returns RP_OK, or RP_NOMEM with nothing
 * changed. Every job's rp_<job>_options_set_log is this call. */
rp_status rp_log_replace(rp_log **owned, FILE **warn, FILE **info, rp_log_fn fn, void *user);

#endif
