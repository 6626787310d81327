/*
 * batch_run.h — the parent side of a batch, shared by its three stages:
 * batch.c (rp_batch_run: plan, set up, report), batch_exec.c (the event
 * loop) and batch_slots.c (one worker slot: hand out a task, take its result
 * or its death, put the output in place, journal the attempt).
 *
 * Threads: none; everything runs on the caller's thread. Ownership: the
 * batch_run owns its tasks, slots (and their stages and processes), the
 * worker argv and the journal.
 */
#ifndef RP_BATCH_RUN_H
#define RP_BATCH_RUN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "batch_internal.h"
#include "error.h"
#include "proc.h"
#include "staged_output.h"

typedef enum batch_task_state {
    TASK_PENDING,
    TASK_RUNNING,
    TASK_DONE,
    TASK_FAILED,
    TASK_SKIPPED
} batch_task_state;

typedef struct batch_task {
    batch_task_state state;
    int attempts;
    double not_before; /* monotonic seconds: backoff after a crash */
    char *error;       /* the last failure's text (malloc'ed) */
} batch_task;

/* One worker process and the task it runs. */
typedef struct batch_slot {
    rp_proc proc;
    bool ready;      /* said READY: it started, so a death is the task's */
    long task;       /* -1: idle */
    rp_stage *stage; /* the task's output, staged; NULL when idle */
    double started_mono, started_wall, deadline;
} batch_slot;

typedef struct batch_run {
    const rp_batch_options *o;
    rp_batch_plan plan;
    batch_task *tasks;
    batch_slot *slots;
    int nslots;
    char **worker_argv;
    const char *program;
    FILE *journal;
    char *journal_path;
    size_t next; /* tasks before this index are not pending (scan start) */
    size_t done, failed, skipped, attempts, retried, running;
    size_t todo;               /* tasks this run attempts (not skipped) */
    int start_failures;        /* workers that died before READY, in a row */
    bool start_failure_signal; /* the last of them was killed by a signal */
    double start_not_before;   /* monotonic: no worker starts before (backoff) */
    char last_start_failure[192];
    rp_status fatal;
    rp_error *err;
} batch_run;

/* ---- batch_slots.c ----------------------------------------------------- */

/* Starts slot s's worker process. */
rp_status rp_batch_slot_start(batch_run *r, batch_slot *s);
/* Stages task t's output and sends the task to s's worker. */
void rp_batch_slot_dispatch(batch_run *r, batch_slot *s, size_t t);
/* Reads what s's worker sent: READY, a result (the output is put in place
 * or removed, the attempt journaled), or end-of-file (the worker is gone). */
void rp_batch_slot_receive(batch_run *r, batch_slot *s);
/* s's worker ended (died, killed on timeout or on abort) with its task, if
 * any, in flight: the worker is reaped, the output's stage aborted, the
 * attempt journaled and the task retried or failed. */
void rp_batch_slot_gone(batch_run *r, batch_slot *s, rp_attempt_outcome outcome, int grace_ms);
/* Verbose log line on the batch's log. */
void rp_batch_log(const batch_run *r, const char *fmt, ...) RP_PRINTF(2, 3);

/* ---- batch_exec.c ---------------------------------------------------------- */

/* Runs the tasks. Returns 0 when all work ended, 1 when stopped gently
 * (progress returned 1), 2 when aborted (progress returned 2 or more: the
 * workers were killed). A fatal failure is left in r->fatal. */
int rp_batch_exec(batch_run *r);
/* Reports progress; returns what the caller's callback returned. */
int rp_batch_call_progress(batch_run *r);

/* ---- batch_checks.c ---------------------------------------------------- */

/* RP_USAGE when the journal path is an output or an input of the plan. */
rp_status rp_batch_check_journal_path(const rp_batch_plan *plan, const char *journal,
                                      rp_error *err);
/* workers, lowered (with a note on log) to what the open-file limit leaves
 * room for; at least 1. */
int rp_batch_fit_open_files(int workers, FILE *log);
/* Kills every worker at once (their tasks end as interrupted). */
void rp_batch_kill_all(batch_run *r);

#endif
