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
    TASK_SKIPPED,
    TASK_ELSEWHERE /* farmed: another MPI rank runs it, or may (rp_batch_farm) */
} batch_task_state;

typedef struct batch_task {
    batch_task_state state;
    int attempts;
    double not_before;             /* monotonic seconds: backoff after a crash */
    char *error;                   /* the last failure's text (malloc'ed) */
    rp_batch_fingerprint input_fp; /* the input before the batch started */
    char *redo;                    /* --resume: why a done task is redone (malloc'ed) */
} batch_task;

/* One worker process and the task it runs. */
typedef struct batch_slot {
    rp_proc proc;
    bool ready;      /* said READY: it started, so a death is the task's */
    long task;       /* -1: idle */
    rp_stage *stage; /* the task's output, staged; NULL when idle */
    double started_mono, started_wall, deadline;
} batch_slot;

struct batch_run;

/* A task farm over MPI ranks (lib/mpi/ fills it; NULL for a plain batch):
 * the hooks by which the event loop takes tasks from, and gives journal
 * records and outcomes to, another process. Rank 0 (root) plans, journals
 * and serves the other ranks through `busy`; the other ranks get the plan
 * and their tasks one at a time from rank 0. Every hook runs on the
 * caller's thread (MPI_THREAD_FUNNELED). */
typedef struct rp_batch_farm {
    void *ctx;
    bool root;
    int poll_ms; /* the event loop's longest wait (root: short, it serves others) */
    /* root: called once set up, whatever happened (st; on failure the plan
     * may be empty): sends the plan to the other ranks. */
    rp_status (*planned)(void *ctx, struct batch_run *r, rp_status st, rp_error *err);
    /* root: serves the other ranks (called each turn); true while any of
     * them is still at work. */
    bool (*busy)(void *ctx, struct batch_run *r);
    /* others: the plan rank 0 made, instead of planning. */
    rp_status (*receive_plan)(void *ctx, rp_batch_plan *plan, rp_error *err);
    /* others: the next task rank 0 hands this rank; -1: none, ever. */
    long (*next)(void *ctx, struct batch_run *r);
    /* others: appends an attempt's record to rank 0's journal, durably. */
    rp_status (*journal)(void *ctx, struct batch_run *r, const rp_journal_record *rec,
                         rp_error *err);
    /* others: task t ended for good (done, or failed with its error). */
    void (*finished)(void *ctx, struct batch_run *r, size_t t, bool ok);
} rp_batch_farm;

typedef struct batch_run {
    const rp_batch_options *o;
    const rp_batch_farm *farm; /* NULL: a plain batch */
    bool farm_exhausted;       /* farm->next said no more */
    bool stopping;             /* draining: no new task starts */
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

/* ---- batch_resume.c ------------------------------------------------------ */

/* Takes each input's fingerprint (stat: size, modification time). */
void rp_batch_fingerprint_inputs(batch_run *r);
/* --resume: skips the tasks whose output exists and whose latest journal
 * record says done, with the same kind, options, input and input
 * fingerprint; the others that the journal says are done are redone, each
 * with its reason (task->redo, the journal's "redo"), and a line on the
 * log counts them by reason. */
rp_status rp_batch_resume(batch_run *r, rp_error *err);

/* ---- batch.c ---------------------------------------------------------- */

/* rp_batch_run, as one rank of a task farm (farm NULL: rp_batch_run). */
rp_status rp_batch_run_farm(const rp_batch_options *o, const rp_batch_farm *farm,
                            rp_batch_report *report, rp_error *err);

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
