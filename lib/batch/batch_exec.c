/*
 * batch_exec.c — the batch's event loop: tasks to a pool of worker
 * processes, one task in flight per worker.
 *
 * The design is one loop on the caller's thread (no threads: a process pool
 * needs none). Each turn has three phases:
 *   1. dispatch_ready: hand the next ready task (pending, its backoff over)
 *      to each idle slot, starting a worker where the slot has none;
 *   2. poll_workers: wait with poll() on every worker's socket, bounded by
 *      the nearest --timeout deadline and by 200 ms so that Ctrl-C and the
 *      progress bar stay responsive, and take what came back
 *      (batch_slots.c: READY, a result, or a death);
 *   3. reap_timeouts: kill (SIGKILL) the workers whose task passed its
 *      deadline; their tasks are handled as deaths.
 * Before each turn the progress callback runs: returning 1 stops handing out
 * tasks (running ones finish and are put in place); returning 2 or more
 * kills the workers at once, which removes their staged outputs.
 *
 * Threads: none. Ownership: the loop's poll arrays are its own; everything
 * else belongs to the batch_run.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "batch_run.h"
#include "clock.h"

enum {
    MAX_START_FAILURES = 8, /* workers dying before READY, in a row (~7 s of backoff) */
    POLL_MS = 200,          /* the longest wait between progress reports */
};

typedef struct poll_set {
    struct pollfd *fds;
    int *slot_of; /* fds[k] belongs to slots[slot_of[k]] */
    int n;
} poll_set;

int rp_batch_call_progress(batch_run *r) {
    if (!r->o->progress)
        return 0;
    char msg[96];
    snprintf(msg, sizeof msg, "%zu done %zu fail %zu run", r->done, r->failed, r->running);
    double frac = r->todo ? (double)(r->done + r->failed) / (double)r->todo : 1.0;
    return r->o->progress(frac, msg, r->o->progress_user);
}

void rp_batch_kill_all(batch_run *r) {
    for (int i = 0; i < r->nslots; i++)
        if (r->slots[i].proc.pid > 0)
            rp_batch_slot_gone(r, &r->slots[i], RP_ATTEMPT_INTERRUPTED, 0);
}

/* The next task that may start now, or -1. */
static long next_ready_task(batch_run *r, double now) {
    while (r->next < r->plan.n && r->tasks[r->next].state != TASK_PENDING)
        r->next++;
    for (size_t t = r->next; t < r->plan.n; t++)
        if (r->tasks[t].state == TASK_PENDING && r->tasks[t].not_before <= now)
            return (long)t;
    if (r->farm && r->farm->next && !r->farm_exhausted) { /* a task from rank 0 */
        long t = r->farm->next(r->farm->ctx, r);
        if (t >= 0 && (size_t)t < r->plan.n && r->tasks[t].state == TASK_ELSEWHERE)
            return (long)t;
        r->farm_exhausted = true;
    }
    return -1;
}

static bool any_pending(batch_run *r) {
    for (size_t t = r->next; t < r->plan.n; t++)
        if (r->tasks[t].state == TASK_PENDING)
            return true;
    return r->farm && r->farm->next && !r->farm_exhausted;
}

/* Phase 1: every idle slot takes the next ready task. */
static void dispatch_ready(batch_run *r, double now) {
    for (int i = 0; i < r->nslots && r->fatal == RP_OK; i++) {
        batch_slot *s = &r->slots[i];
        if (s->task >= 0 || (s->proc.pid == 0 && now < r->start_not_before))
            continue;
        long t = next_ready_task(r, now);
        if (t < 0)
            break;
        if (s->proc.pid == 0 && rp_batch_slot_start(r, s) != RP_OK) {
            r->fatal = RP_INTERNAL;
            break;
        }
        rp_batch_slot_dispatch(r, s, (size_t)t);
    }
}

/* How long poll may wait: POLL_MS, or less when a deadline is nearer. */
static int poll_timeout_ms(const batch_run *r, double now) {
    int timeout_ms = r->farm && r->farm->poll_ms > 0 ? r->farm->poll_ms : POLL_MS;
    for (int i = 0; i < r->nslots; i++) {
        const batch_slot *s = &r->slots[i];
        if (s->proc.pid == 0 || s->task < 0 || s->deadline == INFINITY)
            continue;
        double left = (s->deadline - now) * 1000.0;
        int ms = left <= 0 ? 0 : (int)ceil(left);
        if (ms < timeout_ms)
            timeout_ms = ms;
    }
    return timeout_ms;
}

/* Phase 2: waits for the workers' messages and takes them. */
static void poll_workers(batch_run *r, poll_set *ps, double now) {
    ps->n = 0;
    for (int i = 0; i < r->nslots; i++) {
        if (r->slots[i].proc.pid == 0)
            continue;
        ps->fds[ps->n] = (struct pollfd){.fd = r->slots[i].proc.fd, .events = POLLIN};
        ps->slot_of[ps->n++] = i;
    }
    int ready = poll(ps->fds, (nfds_t)ps->n, poll_timeout_ms(r, now));
    if (ready < 0 && errno != EINTR) {
        r->fatal = rp_error_set(r->err, RP_INTERNAL, "poll: %s", strerror(errno));
        return;
    }
    for (int k = 0; ready > 0 && k < ps->n && r->fatal == RP_OK; k++)
        if (ps->fds[k].revents)
            rp_batch_slot_receive(r, &r->slots[ps->slot_of[k]]);
}

/* Phase 3: kills the workers whose task ran past --timeout. */
static void reap_timeouts(batch_run *r) {
    double now = rp_monotonic_seconds();
    for (int i = 0; i < r->nslots; i++) {
        batch_slot *s = &r->slots[i];
        if (s->proc.pid > 0 && s->task >= 0 && now >= s->deadline)
            rp_batch_slot_gone(r, s, RP_ATTEMPT_TIMEOUT, 0);
    }
}

/* One turn's checks before any work: 0 go on, 1 all work ended (or a fatal
 * failure), 2 aborted. */
static int turn_start(batch_run *r, bool *stopping) {
    int p = rp_batch_call_progress(r);
    if (p != RP_PROGRESS_CONTINUE && p != RP_PROGRESS_DRAIN) {
        rp_batch_kill_all(r);
        return 2;
    }
    if (p == RP_PROGRESS_DRAIN)
        *stopping = true;
    r->stopping = *stopping;
    bool others = r->farm && r->farm->busy && r->farm->busy(r->farm->ctx, r);
    if (r->running == 0 && (*stopping || !any_pending(r)) && !others)
        return 1;
    if (r->start_failures >= MAX_START_FAILURES) {
        if (r->start_failure_signal) /* killed from outside: the program is fine */
            r->fatal = rp_error_set(r->err, RP_INTERNAL,
                                    "%d workers in a row were killed before they were ready "
                                    "(the last by %s); is something killing them (out of "
                                    "memory, a process limit)?",
                                    r->start_failures, r->last_start_failure);
        else
            r->fatal = rp_error_set(r->err, RP_INTERNAL,
                                    "%d workers in a row ended before they were ready (the "
                                    "last with %s): is %s the rasterpool worker program?",
                                    r->start_failures, r->last_start_failure, r->program);
        return 1;
    }
    return 0;
}

int rp_batch_exec(batch_run *r) {
    poll_set ps = {calloc((size_t)r->nslots, sizeof *ps.fds),
                   calloc((size_t)r->nslots, sizeof *ps.slot_of), 0};
    if (!ps.fds || !ps.slot_of) {
        free(ps.fds);
        free(ps.slot_of);
        r->fatal = rp_error_set(r->err, RP_NOMEM, "out of memory");
        return 0;
    }
    bool stopping = false;
    int result = 0;
    while (r->fatal == RP_OK) {
        int turn = turn_start(r, &stopping);
        if (turn != 0) {
            result = turn == 2 ? 2 : 0;
            break;
        }
        double now = rp_monotonic_seconds();
        if (!stopping)
            dispatch_ready(r, now);
        if (r->fatal != RP_OK)
            break;
        poll_workers(r, &ps, now);
        if (r->fatal == RP_OK)
            reap_timeouts(r);
    }
    free(ps.fds);
    free(ps.slot_of);
    return result == 0 && stopping ? 1 : result;
}
