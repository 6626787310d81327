/*
 * mpi_batch.c — a batch over MPI ranks: a task farm with rank 0 as master
 * and journal writer (the shape of TauDEM's and pRPL's MPI farms).
 *
 * Rank 0 plans exactly as a plain batch does (inputs, --shard, resume from
 * the journal, the sweep of dead temporaries) and broadcasts the plan
 * (every input and output path) before any rank starts a task. Every rank,
 * rank 0 included, then runs the plain batch event loop over its own pool
 * of worker processes (lib/batch, through the hooks of rp_batch_farm):
 *   - a rank with an idle worker asks rank 0 for a task (ASK -> TASK), so
 *     fast ranks take more: uneven task times balance out;
 *   - each attempt's journal record goes to rank 0 (RECORD), which appends
 *     it to the one journal and fsyncs it before it answers (ACK): a task
 *     counts as done only once rank 0 has its record on disk, after the
 *     output was put in place, exactly as in a plain batch. So --resume works
 *     on a rerun with any rank count, and a rank that dies loses only the
 *     tasks it had in flight (their records never said done);
 *   - a task's final outcome (FINAL) updates rank 0's counts, summary and
 *     exit status; retries after a crash stay on the rank that saw it;
 *   - a rank whose loop ended says END with its status; rank 0 serves until
 *     every rank has, then all agree on the job's status (MPI_Bcast).
 * Rank 0 serves the others between the turns of its own loop (MPI_Iprobe
 * every 2 ms at most). Worker processes are started with posix_spawn
 * (lib/batch/proc.c), never fork(), which Open MPI warns against.
 *
 * Threads: the caller's (main) thread only: MPI_THREAD_FUNNELED.
 * Ownership: the farm's buffers are its own; the batch_run is lib/batch's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch_run.h"
#include "clock.h"
#include "mpi_farm.h"

typedef struct farm {
    int size;
    int active;      /* root: ranks other than 0 that have not said END */
    rp_status worst; /* root: the worst status a rank ended with */
    char *buf;       /* root: receive buffer */
    size_t cap;      /* its size */
} farm;

/* ---- the plan ------------------------------------------------------------ */

static rp_status farm_planned(void *ctx, batch_run *r, rp_status st, rp_error *err) {
    (void)ctx;
    size_t bytes = 0;
    for (size_t t = 0; st == RP_OK && t < r->plan.n; t++)
        bytes += strlen(r->plan.inputs[t]) + strlen(r->plan.outputs[t]) + 2;
    char *text = st == RP_OK ? malloc(bytes ? bytes : 1) : NULL;
    rp_status sent = st;
    if (st == RP_OK && !text)
        sent = rp_error_set(err, RP_NOMEM, "out of memory");
    if (sent == RP_OK && bytes > INT32_MAX)
        sent = rp_error_set(err, RP_USAGE, "the task list is too long to send to the MPI ranks");
    int64_t head[3] = {sent, sent == RP_OK ? (int64_t)r->plan.n : 0,
                       sent == RP_OK ? (int64_t)bytes : 0};
    MPI_Bcast(head, 3, MPI_INT64_T, 0, MPI_COMM_WORLD);
    if (sent == RP_OK) {
        char *p = text;
        for (size_t t = 0; t < r->plan.n; t++) {
            p = stpcpy(p, r->plan.inputs[t]) + 1;
            p = stpcpy(p, r->plan.outputs[t]) + 1;
        }
        MPI_Bcast(text, (int)bytes, MPI_CHAR, 0, MPI_COMM_WORLD);
    }
    free(text);
    return sent;
}

static rp_status farm_receive_plan(void *ctx, rp_batch_plan *plan, rp_error *err) {
    (void)ctx;
    int64_t head[3];
    MPI_Bcast(head, 3, MPI_INT64_T, 0, MPI_COMM_WORLD);
    if (head[0] != RP_OK)
        return rp_error_set(err, (rp_status)head[0], "rank 0 could not start the batch");
    size_t n = (size_t)head[1], bytes = (size_t)head[2];
    char *text = malloc(bytes ? bytes : 1);
    plan->inputs = calloc(n ? n : 1, sizeof *plan->inputs);
    plan->outputs = calloc(n ? n : 1, sizeof *plan->outputs);
    MPI_Bcast(text ? text : (char[1]){0}, text ? (int)bytes : 0, MPI_CHAR, 0, MPI_COMM_WORLD);
    rp_status st = text && plan->inputs && plan->outputs ? RP_OK : RP_NOMEM;
    const char *p = text;
    for (size_t t = 0; st == RP_OK && t < n; t++, plan->n++) {
        plan->inputs[t] = strdup(p);
        p += strlen(p) + 1;
        plan->outputs[t] = strdup(p);
        p += strlen(p) + 1;
        if (!plan->inputs[t] || !plan->outputs[t])
            st = RP_NOMEM;
    }
    free(text);
    return st == RP_OK ? RP_OK : rp_error_set(err, st, "out of memory");
}

/* ---- rank 0: serving ------------------------------------------------------ */

/* The next task no rank has taken, or -1. */
static long take_task(batch_run *r) {
    if (r->stopping || r->fatal != RP_OK)
        return -1;
    double now = rp_monotonic_seconds();
    for (size_t t = r->next; t < r->plan.n; t++) {
        if (r->tasks[t].state == TASK_PENDING && r->tasks[t].not_before <= now) {
            r->tasks[t].state = TASK_ELSEWHERE;
            return (long)t;
        }
    }
    return -1;
}

/* A journal line from a rank: appended, made durable, acknowledged. */
static void serve_record(farm *f, batch_run *r, int from, int len) {
    int ok = -1;
    if (r && r->journal && fwrite(f->buf, 1, (size_t)len, r->journal) == (size_t)len &&
        fflush(r->journal) == 0 && fsync(fileno(r->journal)) == 0)
        ok = 0;
    if (ok != 0 && r && r->fatal == RP_OK)
        r->fatal = rp_error_set(r->err, RP_WRITE, "cannot append to journal %s", r->journal_path);
    if (ok == 0)
        r->attempts++; /* the summary counts every rank's attempts */
    MPI_Send(&ok, 1, MPI_INT, from, RP_TAG_ACK, MPI_COMM_WORLD);
}

/* A task's outcome on another rank: counted as rank 0 counts its own. */
static void serve_final(farm *f, batch_run *r, int len) {
    int64_t head[2];
    if (!r || len < (int)sizeof head)
        return;
    memcpy(head, f->buf, sizeof head);
    if (head[0] < 0 || (size_t)head[0] >= r->plan.n)
        return;
    batch_task *tk = &r->tasks[head[0]];
    tk->state = head[1] ? TASK_DONE : TASK_FAILED;
    if (head[1]) {
        r->done++;
        return;
    }
    r->failed++;
    free(tk->error);
    tk->error = strndup(f->buf + sizeof head, (size_t)len - sizeof head);
}

static bool grow(farm *f, int len) {
    if ((size_t)len + 1 <= f->cap)
        return true;
    char *b = realloc(f->buf, (size_t)len + 1);
    if (!b)
        return false;
    f->buf = b;
    f->cap = (size_t)len + 1;
    return true;
}

/* Takes one message (its envelope in st) and answers it. r is NULL once
 * rank 0's own batch has ended: then every ASK gets "none left". */
static void serve_one(farm *f, batch_run *r, MPI_Status *st) {
    int len = 0;
    MPI_Get_count(st, MPI_CHAR, &len);
    if (!grow(f, len)) {
        MPI_Abort(MPI_COMM_WORLD, 3); /* out of memory: the job cannot go on */
        return;
    }
    MPI_Recv(f->buf, len, MPI_CHAR, st->MPI_SOURCE, st->MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    f->buf[len] = '\0';
    switch (st->MPI_TAG) {
    case RP_TAG_ASK: {
        int64_t t = r ? take_task(r) : -1;
        MPI_Send(&t, 1, MPI_INT64_T, st->MPI_SOURCE, RP_TAG_TASK, MPI_COMM_WORLD);
        break;
    }
    case RP_TAG_RECORD: serve_record(f, r, st->MPI_SOURCE, len); break;
    case RP_TAG_FINAL: serve_final(f, r, len); break;
    case RP_TAG_END: {
        int code = RP_OK;
        if (len >= (int)sizeof code)
            memcpy(&code, f->buf, sizeof code);
        if (code != RP_OK && code != RP_PARTIAL && f->worst == RP_OK)
            f->worst = (rp_status)code;
        f->active--;
        break;
    }
    default: break;
    }
}

static bool farm_busy(void *ctx, batch_run *r) {
    farm *f = ctx;
    int flag = 1;
    while (f->active > 0) {
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
        if (!flag)
            break;
        serve_one(f, r, &st);
    }
    return f->active > 0;
}

/* After rank 0's batch ended (normally every other rank has said END by
 * then; after a failure on rank 0 they are told there is nothing left). */
static void serve_until_all_ended(farm *f) {
    while (f->active > 0) {
        MPI_Status st;
        int flag = 0;
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
        if (flag) {
            serve_one(f, NULL, &st);
        } else {
            struct timespec nap = {0, 2 * 1000 * 1000};
            nanosleep(&nap, NULL);
        }
    }
}

/* ---- the other ranks --------------------------------------------------- */

static long farm_next(void *ctx, batch_run *r) {
    (void)ctx;
    if (r->stopping)
        return -1;
    int64_t t = -1;
    char none = 0;
    MPI_Send(&none, 0, MPI_CHAR, 0, RP_TAG_ASK, MPI_COMM_WORLD);
    MPI_Recv(&t, 1, MPI_INT64_T, 0, RP_TAG_TASK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    return (long)t;
}

static rp_status farm_journal(void *ctx, batch_run *r, const rp_journal_record *rec,
                              rp_error *err) {
    (void)ctx;
    (void)r;
    size_t len = 0;
    char *line = rp_journal_format(rec, &len);
    if (!line)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    int ok = -1;
    MPI_Send(line, (int)len, MPI_CHAR, 0, RP_TAG_RECORD, MPI_COMM_WORLD);
    MPI_Recv(&ok, 1, MPI_INT, 0, RP_TAG_ACK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    free(line);
    return ok == 0 ? RP_OK : rp_error_set(err, RP_WRITE, "rank 0 could not write the journal");
}

static void farm_finished(void *ctx, batch_run *r, size_t t, bool ok) {
    (void)ctx;
    const char *error = r->tasks[t].error && !ok ? r->tasks[t].error : "";
    size_t elen = strlen(error);
    char *msg = malloc(16 + elen);
    if (!msg)
        return; /* rank 0 then counts it as not started: --resume redoes it */
    int64_t head[2] = {(int64_t)t, ok};
    memcpy(msg, head, sizeof head);
    memcpy(msg + sizeof head, error, elen);
    MPI_Send(msg, (int)(sizeof head + elen), MPI_CHAR, 0, RP_TAG_FINAL, MPI_COMM_WORLD);
    free(msg);
}

/* ---- the job -------------------------------------------------------------- */

static rp_status run_root(const rp_batch_options *o, farm *f, rp_batch_report *report,
                          rp_error *err) {
    rp_batch_farm hooks = {
        .ctx = f, .root = true, .poll_ms = 2, .planned = farm_planned, .busy = farm_busy};
    f->active = f->size - 1;
    rp_status st = rp_batch_run_farm(o, &hooks, report, err);
    serve_until_all_ended(f);
    if ((st == RP_OK || st == RP_PARTIAL) && f->worst != RP_OK)
        st = rp_error_set(err, f->worst, "a rank could not run its tasks (see its message)");
    return st;
}

static rp_status run_other(const rp_batch_options *o, farm *f, rp_batch_report *report,
                           rp_error *err) {
    rp_batch_options quiet = *o; /* one progress bar and summary: rank 0's */
    quiet.progress = NULL;
    rp_batch_farm hooks = {.ctx = f,
                           .receive_plan = farm_receive_plan,
                           .next = farm_next,
                           .journal = farm_journal,
                           .finished = farm_finished};
    rp_status st = rp_batch_run_farm(&quiet, &hooks, report, err);
    int code = st;
    MPI_Send(&code, (int)sizeof code, MPI_CHAR, 0, RP_TAG_END, MPI_COMM_WORLD);
    return st;
}

RP_API rp_status rp_mpi_batch_run(const rp_batch_options *opts, rp_batch_report *report,
                                  rp_error *err) {
    if (rp_mpi_size() <= 1)
        return rp_batch_run(opts, report, err);
    farm f = {.size = rp_mpi_size()};
    rp_status st =
        rp_mpi_rank() == 0 ? run_root(opts, &f, report, err) : run_other(opts, &f, report, err);
    free(f.buf);
    int code = st; /* the job's status, rank 0's word */
    MPI_Request req;
    MPI_Ibcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD, &req);
    rp_mpi_wait(&req);
    if (rp_mpi_rank() != 0 && code != (int)st)
        rp_error_set(err, (rp_status)code, "the batch ended with status %d on rank 0", code);
    return (rp_status)code;
}
