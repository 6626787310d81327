/*
 * batch_slots.c — one worker slot of a batch: start its process, hand it a
 * task, take the result or the death, put the output in place, journal the
 * attempt.
 *
 * Each task attempt's output is staged in --out-dir (core/staged_output:
 * ".<name>.rp-tmp-<parent pid>-XXXXXX/<name>", its folder made before the
 * worker hears of it). The worker writes that temporary path; the parent
 * alone decides its fate:
 *   - a result that says ok: the stage is committed (every file fsynced,
 *     sidecars such as .aux.xml, .prj or .tfw renamed with it, the folder
 *     fsynced), then the attempt's record is appended and fsynced, and only
 *     then does the task count as done;
 *   - a result that says failed: the stage is aborted and the task failed
 *     with GDAL's text (GDAL errors are not retried: the same input fails the
 *     same way);
 *   - end-of-file or a kill (timeout, abort): the worker is reaped, the stage
 *     aborted, and the task retried after a backoff (0.5 s, 1 s, 2 s, ... at
 *     most 30 s) up to --retries times; an interrupted task is not retried.
 * A worker that dies before it said READY failed to start: that is not the
 * task's attempt, and the task goes back to the queue; the next worker
 * starts after a backoff (0.1 s, doubling, at most 2 s).
 *
 * Threads: none; the caller's thread. Ownership: the slot owns its process
 * and its stage while a task is in flight.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch_run.h"
#include "clock.h"
#include "fileio.h"

static double wall_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void rp_batch_log(const batch_run *r, const char *fmt, ...) {
    if (r->o->info) {
        va_list ap;
        va_start(ap, fmt);
        vfprintf(r->o->info, fmt, ap);
        va_end(ap);
        fflush(r->o->info);
    }
}

/* Appends the attempt's record, durably. A lost record would make --resume
 * lie, so failing to write it is fatal. */
static bool journal_attempt(batch_run *r, size_t t, const batch_slot *s, rp_attempt_outcome outcome,
                            const char *error, const rp_proc_exit *how) {
    rp_journal_record rec = {
        .input = r->plan.inputs[t],
        .output = r->plan.outputs[t],
        .attempt = r->tasks[t].attempts,
        .pid = (long)s->proc.pid,
        .start_unix = s->started_wall,
        .seconds = rp_monotonic_seconds() - s->started_mono,
        .outcome = outcome,
        .error = error && *error ? error : NULL,
        .signal = how ? how->signal : 0,
        .exit_code = how && !how->signal ? how->exit_code : -1,
        .kind = r->o->kind->name,
        .options = r->o->tool_args,
        .input_fp = r->tasks[t].input_fp,
        .redo = r->tasks[t].redo,
    };
    rp_error local = {0};
    rp_status st = r->farm && r->farm->journal
                       ? r->farm->journal(r->farm->ctx, r, &rec, &local)
                       : rp_journal_append(r->journal, r->journal_path, &rec, &local);
    if (st != RP_OK && r->fatal == RP_OK)
        r->fatal = rp_error_set(r->err, st, "%s", local.message);
    return st == RP_OK;
}

static void set_task_error(batch_task *t, const char *text) {
    free(t->error);
    t->error = strdup(text);
}

static void finish_task(batch_run *r, size_t t, bool ok) {
    r->tasks[t].state = ok ? TASK_DONE : TASK_FAILED;
    if (ok)
        r->done++;
    else
        r->failed++;
    if (r->farm && r->farm->finished)
        r->farm->finished(r->farm->ctx, r, t, ok);
}

/* Puts task t back in the queue, first in line. */
static void requeue(batch_run *r, size_t t) {
    r->tasks[t].state = TASK_PENDING;
    if (t < r->next)
        r->next = t;
}

rp_status rp_batch_slot_start(batch_run *r, batch_slot *s) {
    s->ready = false;
    s->task = -1;
    return rp_proc_spawn(&s->proc, r->program, r->worker_argv, r->err);
}

/* The text a task fails or is retried with when its worker ended. */
static void gone_text(const batch_run *r, rp_attempt_outcome outcome, const char *why, char *text,
                      size_t cap) {
    switch (outcome) {
    case RP_ATTEMPT_TIMEOUT:
        snprintf(text, cap, "timed out after %g s (worker killed)", r->o->timeout);
        break;
    case RP_ATTEMPT_INTERRUPTED: snprintf(text, cap, "interrupted (worker killed)"); break;
    case RP_ATTEMPT_CRASHED:
    case RP_ATTEMPT_DONE:
    case RP_ATTEMPT_ERROR: snprintf(text, cap, "worker died: %s", why); break;
    }
}

/* The attempt of task t on a worker that ended: journaled, then retried
 * after a backoff or failed. */
static void attempt_lost(batch_run *r, batch_slot *s, size_t t, rp_attempt_outcome outcome,
                         const rp_proc_exit *how, const char *why) {
    batch_task *tk = &r->tasks[t];
    char text[RP_BATCH_ERROR_MAX];
    gone_text(r, outcome, why, text, sizeof text);
    journal_attempt(r, t, s, outcome, text, how);
    set_task_error(tk, text);
    r->running--;
    if (outcome != RP_ATTEMPT_INTERRUPTED && tk->attempts <= r->o->retries) {
        double backoff = 0.5 * pow(2.0, tk->attempts - 1);
        tk->not_before = rp_monotonic_seconds() + (backoff > 30 ? 30 : backoff);
        requeue(r, t);
        r->retried++;
        rp_batch_log(r, "rasterpool: retrying %s: %s\n", r->plan.inputs[t], text);
    } else {
        finish_task(r, t, false);
        rp_batch_log(r, "rasterpool: failed: %s: %s\n", r->plan.inputs[t], text);
    }
}

/* A worker died before it said READY (killed from outside, out of memory,
 * or not a worker program at all): the next start waits 0.1 s, doubling up
 * to 2 s, so a passing cause (an OOM kill) can pass; the event loop gives
 * up after a run of them (batch_exec.c). */
static void start_failed(batch_run *r, const rp_proc_exit *how, const char *why) {
    r->start_failures++;
    r->start_failure_signal = how->signal != 0;
    snprintf(r->last_start_failure, sizeof r->last_start_failure, "%s", why);
    double wait = 0.1 * pow(2.0, r->start_failures - 1);
    if (wait > 2.0)
        wait = 2.0;
    r->start_not_before = rp_monotonic_seconds() + wait;
    if (r->o->log)
        fprintf(r->o->log,
                "rasterpool: warning: a worker died before it was ready (%s); starting another "
                "in %.1f s\n",
                why, wait);
}

void rp_batch_slot_gone(batch_run *r, batch_slot *s, rp_attempt_outcome outcome, int grace_ms) {
    rp_proc_exit how;
    pid_t pid = s->proc.pid;
    rp_proc_stop(&s->proc, grace_ms, &how);
    s->proc.pid = pid;       /* for the journal record */
    rp_stage_free(s->stage); /* aborts: the worker may have written part of it */
    s->stage = NULL;
    long t = s->task;
    char why[160];
    rp_proc_exit_text(&how, why, sizeof why);
    if (!s->ready && outcome == RP_ATTEMPT_CRASHED) {
        /* died before it could take any task: a start failure, not the task's */
        start_failed(r, &how, why);
        if (t >= 0) {
            r->tasks[t].attempts--;
            r->attempts--;
            requeue(r, (size_t)t);
            r->running--;
        }
    } else if (t >= 0) {
        attempt_lost(r, s, (size_t)t, outcome, &how, why);
    }
    s->proc.pid = 0;
    s->task = -1;
    s->ready = false;
}

static void begin_attempt(batch_run *r, batch_slot *s, size_t t) {
    r->tasks[t].attempts++;
    r->attempts++;
    r->tasks[t].state = TASK_RUNNING;
    r->running++;
    s->task = (long)t;
    s->started_mono = rp_monotonic_seconds();
    s->started_wall = wall_now();
    s->deadline = r->o->timeout > 0 ? s->started_mono + r->o->timeout : INFINITY;
}

/* An attempt that ended in the parent (its output could not be staged or put
 * in place): journaled as an error, the task failed. */
static void attempt_failed(batch_run *r, batch_slot *s, size_t t, const char *text) {
    journal_attempt(r, t, s, RP_ATTEMPT_ERROR, text, NULL);
    set_task_error(&r->tasks[t], text[0] ? text : "failed");
    finish_task(r, t, false);
    r->running--;
    s->task = -1;
    rp_batch_log(r, "rasterpool: failed: %s: %s\n", r->plan.inputs[t], text);
}

void rp_batch_slot_dispatch(batch_run *r, batch_slot *s, size_t t) {
    begin_attempt(r, s, t);
    rp_error staged = {0};
    if (rp_stage_open(r->plan.outputs[t], 0, &s->stage, &staged) != RP_OK) {
        if (staged.code == RP_NOMEM)
            r->fatal = rp_error_set(r->err, RP_NOMEM, "out of memory");
        else
            attempt_failed(r, s, t, staged.message);
        return;
    }
    rp_batch_task_msg *m = calloc(1, sizeof *m);
    if (!m) {
        r->fatal = rp_error_set(r->err, RP_NOMEM, "out of memory");
        return;
    }
    m->magic = RP_BATCH_MAGIC;
    m->type = RP_MSG_TASK;
    m->task = t;
    snprintf(m->input, sizeof m->input, "%s", r->plan.inputs[t]);
    snprintf(m->output, sizeof m->output, "%s", rp_stage_path(s->stage));
    bool sent = rp_proc_send(&s->proc, m, sizeof *m);
    free(m);
    if (!sent) /* it died while idle: handled like any death, and retried */
        rp_batch_slot_gone(r, s, RP_ATTEMPT_CRASHED, 2000);
}

/* A task whose GDAL call failed while writing (a full disk: GTiff says
 * "_tiffWriteProc:No space left on device", ENVI "I/O error", XYZ "Write
 * failed, disk full?"): the message names the output and says the file
 * system's reason first (rp_write_failure_reason, asked while the partial
 * output still takes its space). Failures that do not look like a write's
 * (a corrupt input) are left as they are. */
static void explain_write_failure(const batch_run *r, const batch_slot *s, size_t t, char *error,
                                  size_t cap) {
    static const char *const write_words[] = {"rit", "I/O", "disk", "space", "too large"};
    bool writing = false;
    for (size_t i = 0; i < sizeof write_words / sizeof *write_words; i++)
        writing = writing || strstr(error, write_words[i]);
    if (!writing || !s->stage)
        return;
    int hint = strstr(error, "No space") || strstr(error, "disk full") ? ENOSPC
               : strstr(error, "I/O error")                            ? EIO
                                                                       : 0;
    char reason[256];
    if (!rp_write_failure_reason(rp_stage_path(s->stage), hint, reason, sizeof reason))
        return;
    char *said = strdup(error);
    if (said)
        snprintf(error, cap, "%s: %s; GDAL said: %s", r->plan.outputs[t], reason, said);
    free(said);
}

/* Task t's result came back: its output is put in place (or removed), the
 * attempt journaled, the task done or failed. */
static void take_result(batch_run *r, batch_slot *s, size_t t, rp_batch_result_msg *m) {
    m->error[sizeof m->error - 1] = '\0';
    bool ok = m->ok != 0;
    rp_error placed = {0};
    if (!ok)
        explain_write_failure(r, s, t, m->error, sizeof m->error);
    if (ok && rp_stage_commit(s->stage, &placed) != RP_OK) {
        ok = false;
        snprintf(m->error, sizeof m->error, "%s", placed.message);
    }
    rp_stage_free(s->stage); /* after a failure: removes what is left */
    s->stage = NULL;
    if (!ok) {
        attempt_failed(r, s, t, m->error);
        return;
    }
    if (!journal_attempt(r, t, s, RP_ATTEMPT_DONE, NULL, NULL)) {
        /* the output is in place, but no record says so: not done */
        set_task_error(&r->tasks[t], "the journal could not be written");
        finish_task(r, t, false);
    } else {
        finish_task(r, t, true);
        rp_batch_log(r, "rasterpool: done: %s -> %s\n", r->plan.inputs[t], r->plan.outputs[t]);
    }
    r->running--;
    s->task = -1;
}

void rp_batch_slot_receive(batch_run *r, batch_slot *s) {
    rp_batch_result_msg *m = calloc(1, sizeof *m);
    if (!m) {
        r->fatal = rp_error_set(r->err, RP_NOMEM, "out of memory");
        return;
    }
    int got = rp_proc_recv(&s->proc, m, sizeof *m);
    bool ours = got == RP_PROC_MESSAGE && m->magic == RP_BATCH_MAGIC;
    if (got == RP_PROC_NOTHING) {
        /* woken, but the message is not there yet: poll again */
    } else if (ours && m->type == RP_MSG_READY) {
        s->ready = true;
        r->start_failures = 0;
    } else if (ours && m->type == RP_MSG_RESULT && s->task >= 0 && m->task == (uint64_t)s->task) {
        take_result(r, s, (size_t)s->task, m);
    } else {
        /* end-of-file, or a message that is not ours: the worker is gone or
         * broken; either way it is replaced */
        rp_batch_slot_gone(r, s, RP_ATTEMPT_CRASHED, 2000);
    }
    free(m);
}
