/*
 * batch.c — the parent side of a batch: plan the tasks, set up the output
 * folder, the journal and the workers' command line, run the tasks
 * (batch_exec.c: the event loop; batch_slots.c: one worker slot each), and
 * report.
 *
 * Outputs are never modified in place: each attempt's output is staged in
 * --out-dir (core/staged_output, ".<name>.rp-tmp-<pid>-XXXXXX/<name>") and
 * only a complete, closed file is committed over the final path, so a
 * failed, crashed, timed-out or interrupted task leaves nothing there.
 * Before anything runs, leftovers of earlier batches killed outright (their
 * pid gone) are swept from --out-dir.
 *
 * Journal: every attempt appends one record, fsynced before the attempt
 * counts (batch_journal.c); --resume skips the outputs whose latest whole
 * record says done, whose file exists and that the same kind, options and
 * unchanged input made (batch_resume.c).
 *
 * Stopping: the progress callback returning 1 stops handing out tasks
 * (running ones finish and are put in place); returning 2 or more kills the
 * workers at once and removes their staged outputs. Either way the run ends
 * with RP_INTERRUPTED, after the summary.
 *
 * Bounds: one task message (8 KiB) in flight per worker; per task a few
 * hundred bytes of state; open files: two per worker in the parent (socket)
 * plus the journal.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch_run.h"
#include "clock.h"
#include "error.h"
#include "proc.h"
#include "staged_output.h"
#include "worker_path.h"

enum {
    WORKER_MEMORY_ESTIMATE_MIB = 512, /* GDAL cache share + warp buffer + baseline */
};

/* ---- sizing ---------------------------------------------------------- */

int rp_batch_default_workers(int cpus, uint64_t memory) {
    int n = cpus > 0 ? cpus : 1;
    if (memory > 0) {
        uint64_t by_memory = memory / 4 * 3 / ((uint64_t)WORKER_MEMORY_ESTIMATE_MIB << 20);
        if (by_memory < 1)
            by_memory = 1;
        if (by_memory < (uint64_t)n)
            n = (int)by_memory;
    }
    return n > RP_BATCH_MAX_WORKERS ? RP_BATCH_MAX_WORKERS : n;
}

rp_batch_worker_setup rp_batch_worker_share(int workers, int cpus, uint64_t memory) {
    rp_batch_worker_setup s = {1, 0};
    if (workers < 1)
        workers = 1;
    if (cpus > workers)
        s.gdal_threads = cpus / workers;
    if (memory > 0) {
        uint64_t share = memory / 4 / (uint64_t)workers; /* a quarter of memory for caches */
        uint64_t lo = (uint64_t)16 << 20, hi = (uint64_t)1 << 30;
        s.cache_bytes = (long long)(share < lo ? lo : share > hi ? hi : share);
    }
    return s;
}

/* ---- files ------------------------------------------------------------- */

static rp_status make_dirs(const char *path, rp_error *err) {
    char *p = strdup(path);
    if (!p)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    rp_status st = RP_OK;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            st = rp_error_set(err, RP_WRITE, "cannot create output folder %s: %s", p,
                              strerror(errno));
            break;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    free(p);
    struct stat sb;
    if (st == RP_OK && (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)))
        st = rp_error_set(err, RP_WRITE, "--out-dir %s is not a folder", path);
    if (st == RP_OK && access(path, W_OK | X_OK) != 0)
        st = rp_error_set(err, RP_WRITE, "cannot write in %s: %s", path, strerror(errno));
    return st;
}

/* An output that is an input of the batch (the same file after resolving
 * links: its own input when --out-dir is the input folder and no --suffix,
 * or another task's, as a_s.tif is for a.tif with --suffix _s in the input
 * folder) would be written over before or while it is read: refused up
 * front. Inputs are stat'ed once and sorted by (device, inode). */
typedef struct file_id {
    dev_t dev;
    ino_t ino;
    size_t task;
} file_id;

static int by_file_id(const void *a, const void *b) {
    const file_id *x = a, *y = b;
    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    return (x->ino > y->ino) - (x->ino < y->ino);
}

static rp_status check_not_inputs(const rp_batch_plan *plan, rp_error *err) {
    file_id *ids = malloc((plan->n ? plan->n : 1) * sizeof *ids);
    if (!ids)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    size_t n = 0;
    struct stat sb;
    for (size_t t = 0; t < plan->n; t++)
        if (stat(plan->inputs[t], &sb) == 0 && S_ISREG(sb.st_mode))
            ids[n++] = (file_id){sb.st_dev, sb.st_ino, t};
    qsort(ids, n, sizeof *ids, by_file_id);
    rp_status st = RP_OK;
    for (size_t t = 0; st == RP_OK && t < plan->n; t++) {
        if (stat(plan->outputs[t], &sb) != 0)
            continue;
        file_id key = {sb.st_dev, sb.st_ino, 0};
        const file_id *hit = n ? bsearch(&key, ids, n, sizeof *ids, by_file_id) : NULL;
        if (hit && hit->task == t)
            st = rp_error_set(err, RP_USAGE,
                              "%s would be replaced by its own output: choose another "
                              "--out-dir or a --suffix",
                              plan->inputs[t]);
        else if (hit)
            st = rp_error_set(err, RP_USAGE,
                              "the output of %s, %s, is also an input of this batch (%s): "
                              "choose another --out-dir or --suffix, or leave it out of the inputs",
                              plan->inputs[t], plan->outputs[t], plan->inputs[hit->task]);
    }
    free(ids);
    return st;
}

/* ---- setup and report ------------------------------------------------------ */

static rp_status build_worker_argv(batch_run *r, int workers, int cpus, uint64_t memory,
                                   rp_error *err) {
    rp_batch_worker_setup share = rp_batch_worker_share(workers, cpus, memory);
    const rp_batch_options *o = r->o;
    size_t n = 6 + (size_t)o->nconfig * 3 + 1 + (size_t)o->ntool_args + 1;
    r->worker_argv = calloc(n, sizeof *r->worker_argv);
    if (!r->worker_argv)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    char num[3][32];
    snprintf(num[0], sizeof num[0], "%ld", (long)getpid());
    snprintf(num[1], sizeof num[1], "%d", share.gdal_threads);
    snprintf(num[2], sizeof num[2], "%lld", share.cache_bytes);
    size_t k = 0;
    const char *fixed[] = {"rasterpool", "__batch-worker", num[0], o->kind->name, num[1], num[2]};
    for (size_t i = 0; i < 6; i++)
        r->worker_argv[k++] = strdup(fixed[i]);
    for (int i = 0; i < o->nconfig; i++) {
        r->worker_argv[k++] = strdup("--config");
        r->worker_argv[k++] = strdup(o->config[2 * i]);
        r->worker_argv[k++] = strdup(o->config[2 * i + 1]);
    }
    r->worker_argv[k++] = strdup("--");
    for (int i = 0; i < o->ntool_args; i++)
        r->worker_argv[k++] = strdup(o->tool_args[i]);
    for (size_t i = 0; i < k; i++)
        if (!r->worker_argv[i])
            return rp_error_set(err, RP_NOMEM, "out of memory");
    return RP_OK;
}

static rp_status open_journal(batch_run *r, rp_error *err) {
    const rp_batch_options *o = r->o;
    if (o->log_path) {
        r->journal_path = strdup(o->log_path);
    } else {
        size_t n = strlen(o->out_dir) + 64;
        if ((r->journal_path = malloc(n)) && o->shard.count > 0)
            snprintf(r->journal_path, n, "%s/rasterpool-batch.shard-%d-of-%d.jsonl", o->out_dir,
                     o->shard.index, o->shard.count);
        else if (r->journal_path)
            snprintf(r->journal_path, n, "%s/rasterpool-batch.jsonl", o->out_dir);
    }
    if (!r->journal_path)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    rp_status checked = rp_batch_check_journal_path(&r->plan, r->journal_path, err);
    if (checked != RP_OK)
        return checked;
    rp_batch_fingerprint_inputs(r);
    if (o->resume) {
        rp_status st = rp_batch_resume(r, err);
        if (st != RP_OK)
            return st;
    }
    r->journal = rp_journal_open(r->journal_path, err);
    return r->journal ? RP_OK : RP_WRITE;
}

static void print_summary(const batch_run *r, double seconds, bool interrupted) {
    FILE *log = r->o->log;
    if (!log)
        return;
    size_t listed = 0;
    for (size_t t = 0; t < r->plan.n; t++) {
        if (r->tasks[t].state != TASK_FAILED)
            continue;
        if (listed++ == 0)
            fprintf(log, "rasterpool: failed tasks:\n");
        fprintf(log, "  %s: %s\n", r->plan.inputs[t],
                r->tasks[t].error ? r->tasks[t].error : "failed");
    }
    size_t not_started = 0;
    for (size_t t = 0; t < r->plan.n; t++)
        not_started += r->tasks[t].state == TASK_PENDING || r->tasks[t].state == TASK_ELSEWHERE;
    if (r->o->quiet && !listed && !not_started && !interrupted)
        return; /* -q: a run where everything is done needs no summary */
    fprintf(log, "rasterpool: batch %s: %zu done, %zu failed", r->o->kind->name, r->done,
            r->failed);
    if (r->skipped)
        fprintf(log, ", %zu skipped (done before)", r->skipped);
    if (not_started)
        fprintf(log, ", %zu not started", not_started);
    fprintf(log, " of %zu; %zu attempt%s (%zu retr%s), %d worker%s, %.1f s%s; journal %s\n",
            r->plan.n, r->attempts, r->attempts == 1 ? "" : "s", r->retried,
            r->retried == 1 ? "y" : "ies", r->nslots, r->nslots == 1 ? "" : "s", seconds,
            interrupted ? "; interrupted" : "", r->journal_path);
    fflush(log);
}

static void release(batch_run *r) {
    for (int i = 0; r->slots && i < r->nslots; i++) {
        if (r->slots[i].proc.pid > 0 || r->slots[i].proc.fd >= 0)
            rp_proc_stop(&r->slots[i].proc, 5000, NULL);
        rp_stage_free(r->slots[i].stage); /* a task still staged: removed */
    }
    free(r->slots);
    for (size_t t = 0; r->tasks && t < r->plan.n; t++) {
        free(r->tasks[t].error);
        free(r->tasks[t].redo);
    }
    free(r->tasks);
    for (size_t i = 0; r->worker_argv && r->worker_argv[i]; i++)
        free(r->worker_argv[i]);
    free(r->worker_argv);
    if (r->journal)
        fclose(r->journal);
    free(r->journal_path);
    rp_batch_plan_free(&r->plan);
}

/* A farmed rank other than 0 takes rank 0's plan and journals through it:
 * it plans nothing, sweeps nothing, opens no journal, and its tasks wait
 * until rank 0 hands them out (TASK_ELSEWHERE). */
static rp_status farm_member_setup(batch_run *r, rp_error *err) {
    rp_status st = r->farm->receive_plan(r->farm->ctx, &r->plan, err);
    if (st == RP_OK && !(r->tasks = calloc(r->plan.n ? r->plan.n : 1, sizeof *r->tasks)))
        st = rp_error_set(err, RP_NOMEM, "out of memory");
    for (size_t t = 0; st == RP_OK && t < r->plan.n; t++)
        r->tasks[t].state = TASK_ELSEWHERE;
    /* the inputs' fingerprints go into this rank's journal records, which
     * --resume compares (the inputs are the same files on every rank) */
    if (st == RP_OK)
        rp_batch_fingerprint_inputs(r);
    return st;
}

RP_API rp_status rp_batch_run(const rp_batch_options *o, rp_batch_report *report, rp_error *err) {
    return rp_batch_run_farm(o, NULL, report, err);
}

/* Everything before the workers start: the plan (or, on a farm's other
 * ranks, rank 0's), the output folder checked and swept, the tasks, the
 * journal and --resume; a farm's rank 0 then hands the plan out. */
static rp_status prepare_tasks(batch_run *r, bool member, rp_error *err) {
    const rp_batch_options *o = r->o;
    rp_status st = member ? farm_member_setup(r, err) : rp_batch_plan_make(o, &r->plan, err);
    if (st == RP_OK && !member)
        st = rp_batch_plan_shard(&r->plan, &o->shard, err);
    if (st == RP_OK)
        st = make_dirs(o->out_dir, err);
    if (st == RP_OK)
        st = check_not_inputs(&r->plan, err);
    /* shards may run at once on other hosts, whose temporaries' pids look
     * dead here: only an unsharded batch sweeps */
    if (st == RP_OK && o->shard.count == 0 && !member) {
        size_t stale = rp_stage_sweep(o->out_dir);
        if (stale && o->log)
            fprintf(o->log,
                    "rasterpool: removed %zu temporary file(s) of an earlier batch "
                    "that was killed\n",
                    stale);
    }
    if (st == RP_OK && !member && !(r->tasks = calloc(r->plan.n ? r->plan.n : 1, sizeof *r->tasks)))
        st = rp_error_set(err, RP_NOMEM, "out of memory");
    if (st == RP_OK && !member)
        st = open_journal(r, err);
    if (r->farm && r->farm->planned) { /* rank 0: the other ranks wait for this */
        rp_status sent = r->farm->planned(r->farm->ctx, r, st, err);
        if (st == RP_OK)
            st = sent;
    }
    r->todo = r->plan.n - r->skipped;
    return st;
}

/* The worker slots, sized from the machine's share (cgroup files, read
 * once: the pool and each worker's GDAL threads and cache), the tasks
 * to do and the open-file limit. */
static rp_status make_slots(batch_run *r, rp_error *err) {
    const rp_batch_options *o = r->o;
    int cpus = rp_usable_cpus();
    uint64_t memory = rp_usable_memory();
    int workers = o->workers > 0 ? o->workers : rp_batch_default_workers(cpus, memory);
    if ((size_t)workers > r->todo)
        workers = r->todo ? (int)r->todo : 1;
    workers = rp_batch_fit_open_files(workers, o->log);
    r->nslots = workers;
    rp_status st = build_worker_argv(r, workers, cpus, memory, err);
    if (st == RP_OK && !(r->slots = calloc((size_t)workers, sizeof *r->slots)))
        st = rp_error_set(err, RP_NOMEM, "out of memory");
    for (int i = 0; st == RP_OK && i < workers; i++) {
        r->slots[i].proc.fd = -1;
        r->slots[i].task = -1;
    }
    return st;
}

static void fill_report(const batch_run *r, double seconds, rp_batch_report *report) {
    report->tasks = r->plan.n;
    report->done = r->done;
    report->failed = r->failed;
    report->skipped = r->skipped;
    report->attempts = r->attempts;
    report->retried = r->retried;
    report->not_started = r->plan.n - r->done - r->failed - r->skipped;
    report->workers = r->nslots;
    report->seconds = seconds;
}

rp_status rp_batch_run_farm(const rp_batch_options *o, const rp_batch_farm *farm,
                            rp_batch_report *report, rp_error *err) {
    double t0 = rp_monotonic_seconds();
    if (report)
        memset(report, 0, sizeof *report);
    batch_run r;
    memset(&r, 0, sizeof r);
    r.o = o;
    r.farm = farm;
    r.err = err;
    r.program = o->worker_program ? o->worker_program : rp_batch_default_worker();
    bool member = farm && !farm->root;
    rp_status st = prepare_tasks(&r, member, err);
    if (st == RP_OK)
        st = make_slots(&r, err);
    int stopped = 0;
    if (st == RP_OK && (r.todo > 0 || farm)) {
        stopped = rp_batch_exec(&r);
        st = r.fatal;
        if (st != RP_OK)
            rp_batch_kill_all(&r);
    }
    if ((st == RP_OK || stopped) && !member) {
        rp_batch_call_progress(&r);
        print_summary(&r, rp_monotonic_seconds() - t0, stopped != 0);
    }
    if (report)
        fill_report(&r, rp_monotonic_seconds() - t0, report);
    if (st == RP_OK && stopped)
        st = rp_error_set(err, RP_INTERRUPTED, "interrupted");
    else if (st == RP_OK && r.failed)
        st = rp_error_set(err, RP_PARTIAL, "%zu of %zu tasks failed", r.failed, r.plan.n);
    release(&r);
    return st;
}
