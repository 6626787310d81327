/*
 * batch.c — the parent side of a batch: plan the tasks, run them in a pool
 * of worker processes, put each output in place, keep the journal.
 *
 * The design is one event loop on the caller's thread (no threads: a
 * process pool needs none). Each worker has one task in flight at most. The
 * loop (1) hands the next ready task to each idle worker, (2) waits with
 * poll() on every worker's socket, bounded by the nearest --timeout deadline
 * and by 200 ms so that Ctrl-C and the progress bar stay responsive,
 * (3) handles what came back:
 *   - a result: on success the temporary output is renamed to its final
 *     path (sidecars such as .aux.xml with it); on failure it is removed and
 *     the task is failed with GDAL's text (GDAL errors are not retried: the
 *     same input fails the same way);
 *   - end-of-file: the worker died; it is reaped (waitpid on its pid),
 *     its temporary files are removed, the task is retried after a backoff
 *     (0.5 s, 1 s, 2 s, ... at most 30 s) up to --retries times, and a fresh
 *     worker takes the slot when there is work for it;
 *   - a passed deadline: the worker is killed (SIGKILL) and handled as above.
 * Every attempt appends one journal record (batch_journal.c).
 *
 * Outputs are never modified in place: a task writes
 * DIR/.<name>.rp-tmp-<parent pid>-<task>-<attempt>.<ext>, and only a
 * complete, closed file is renamed over the final path, so a failed, crashed,
 * timed-out or interrupted task leaves nothing there.
 *
 * Stopping: the progress callback returning 1 stops handing out tasks
 * (running ones finish and are put in place); returning 2 or more kills the
 * workers at once and removes their temporaries. Either way the run ends
 * with RP_INTERRUPTED, after the summary.
 *
 * Bounds: one task message (8 KiB) in flight per worker; per task a few
 * hundred bytes of state; open files: two per worker in the parent (socket)
 * plus the journal.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "batch_internal.h"
#include "clock.h"
#include "error.h"
#include "proc.h"
#include "worker_path.h"

enum {
    WORKER_MEMORY_ESTIMATE_MIB = 512, /* GDAL cache share + warp buffer + baseline */
    MAX_START_FAILURES = 3,           /* workers dying before READY, in a row */
};

typedef enum task_state { T_PENDING, T_RUNNING, T_DONE, T_FAILED, T_SKIPPED } task_state;

typedef struct task {
    task_state state;
    int attempts;
    double not_before; /* monotonic seconds: backoff after a crash */
    char *error;       /* the last failure's text (malloc'ed) */
} task;

typedef struct slot {
    rp_proc proc;
    bool ready;
    long task; /* -1: idle */
    char tmp[RP_BATCH_PATH_MAX];
    double started_mono, started_wall, deadline;
} slot;

typedef struct run {
    const rp_batch_options *o;
    rp_batch_plan plan;
    task *tasks;
    slot *slots;
    int nslots;
    char **worker_argv;
    const char *program;
    FILE *journal;
    char *journal_path;
    size_t next; /* tasks before this index are not pending (scan start) */
    size_t done, failed, skipped, attempts, retried, running;
    size_t todo; /* tasks this run attempts (not skipped) */
    int start_failures;
    char last_start_failure[192];
    rp_status fatal;
    rp_error *err;
} run;

static double wall_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

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

/* DIR/.<stem>.rp-tmp-<pid>-<task>-<attempt>.<ext> for DIR/<stem>.<ext> */
static void temp_name(const char *output, size_t task_index, int attempt, char *buf, size_t cap) {
    const char *slash = strrchr(output, '/');
    const char *base = slash ? slash + 1 : output;
    const char *dot = strrchr(base, '.');
    int dir_len = (int)(base - output);
    int stem_len = dot ? (int)(dot - base) : (int)strlen(base);
    snprintf(buf, cap, "%.*s.%.*s.rp-tmp-%ld-%zu-%d%s", dir_len, output, stem_len, base,
             (long)getpid(), task_index, attempt, dot ? dot : "");
}

/* Removes the temporary output and every file made beside it under its name
 * (.aux.xml, .msk, a driver's scratch files) or under a hidden copy of its
 * name (calc's own ".NAME.rasterpool-XXXXXX.tif" staging file). */
static void remove_temporaries(const char *tmp) {
    unlink(tmp);
    const char *slash = strrchr(tmp, '/');
    char dir[RP_BATCH_PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - tmp) : 1, slash ? tmp : ".");
    const char *base = slash ? slash + 1 : tmp;
    size_t blen = strlen(base);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, base, blen) == 0 ||
            (e->d_name[0] == '.' && strncmp(e->d_name + 1, base, blen) == 0)) {
            char path[RP_BATCH_PATH_MAX + 256];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
}

/* An output that is its own input (same file, e.g. --out-dir is the input
 * folder and no --suffix) would be replaced by its conversion: refused. */
static rp_status check_not_inputs(const rp_batch_plan *plan, rp_error *err) {
    for (size_t t = 0; t < plan->n; t++) {
        struct stat in, out;
        if (stat(plan->outputs[t], &out) == 0 && stat(plan->inputs[t], &in) == 0 &&
            in.st_dev == out.st_dev && in.st_ino == out.st_ino)
            return rp_error_set(err, RP_USAGE,
                                "%s would be replaced by its own output: choose another "
                                "--out-dir or a --suffix",
                                plan->inputs[t]);
    }
    return RP_OK;
}

/* Removes what an earlier batch that was killed outright (no chance to
 * clean) left in the output folder: names holding ".rp-tmp-<pid>-" whose
 * process no longer exists. A live pid, even an unrelated one, is left
 * alone. Returns how many files went. */
static size_t sweep_stale_temporaries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t removed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *mark = e->d_name[0] == '.' ? strstr(e->d_name, ".rp-tmp-") : NULL;
        if (!mark)
            continue;
        char *end;
        long pid = strtol(mark + 8, &end, 10);
        if (pid <= 0 || *end != '-' || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char path[RP_BATCH_PATH_MAX + 256];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}

/* Puts a finished output in place: the file, then the sidecars GDAL may
 * have written beside it. */
static bool put_in_place(const char *tmp, const char *output, char *error, size_t cap) {
    if (rename(tmp, output) != 0) {
        snprintf(error, cap, "cannot rename %s to %s: %s", tmp, output, strerror(errno));
        remove_temporaries(tmp);
        return false;
    }
    static const char *const sidecars[] = {".aux.xml", ".msk", ".ovr"};
    for (size_t i = 0; i < sizeof sidecars / sizeof sidecars[0]; i++) {
        char from[RP_BATCH_PATH_MAX + 16], to[RP_BATCH_PATH_MAX + 16];
        snprintf(from, sizeof from, "%s%s", tmp, sidecars[i]);
        snprintf(to, sizeof to, "%s%s", output, sidecars[i]);
        if (access(from, F_OK) == 0)
            rename(from, to);
        else
            unlink(to); /* an old run's sidecar does not describe the new file */
    }
    return true;
}

/* ---- journal and messages ------------------------------------------------- */

static void journal_attempt(run *r, size_t t, const slot *s, const char *outcome, const char *error,
                            const rp_proc_exit *how) {
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
    };
    size_t n = 0;
    char *line = rp_journal_format(&rec, &n);
    bool written = line && fwrite(line, 1, n, r->journal) == n && fflush(r->journal) == 0;
    if (!written && r->fatal == RP_OK) /* a lost record would make --resume lie */
        r->fatal =
            rp_error_set(r->err, line ? RP_WRITE : RP_NOMEM, "cannot write the journal %s: %s",
                         r->journal_path, line ? strerror(errno) : "out of memory");
    free(line);
}

static void set_task_error(task *t, const char *text) {
    free(t->error);
    t->error = strdup(text);
}

static void log_line(const run *r, const char *fmt, ...) RP_PRINTF(2, 3);
static void log_line(const run *r, const char *fmt, ...) {
    if (r->o->info) {
        va_list ap;
        va_start(ap, fmt);
        vfprintf(r->o->info, fmt, ap);
        va_end(ap);
        fflush(r->o->info);
    }
}

/* ---- workers ---------------------------------------------------------- */

static rp_status start_worker(run *r, slot *s) {
    s->ready = false;
    s->task = -1;
    return rp_proc_spawn(&s->proc, r->program, r->worker_argv, r->err);
}

static void finish_task(run *r, size_t t, bool ok) {
    r->tasks[t].state = ok ? T_DONE : T_FAILED;
    if (ok)
        r->done++;
    else
        r->failed++;
}

/* A worker ended (died, killed on timeout or on abort) with task t (or none)
 * in flight. outcome: "crashed", "timeout" or "interrupted". */
static void worker_gone(run *r, slot *s, const char *outcome, int grace_ms) {
    rp_proc_exit how;
    pid_t pid = s->proc.pid;
    rp_proc_stop(&s->proc, grace_ms, &how);
    s->proc.pid = pid; /* for the journal record below */
    long t = s->task;
    char why[160];
    rp_proc_exit_text(&how, why, sizeof why);
    if (!s->ready && strcmp(outcome, "crashed") == 0) {
        /* died before it could take any task: a start failure, not the task's */
        r->start_failures++;
        snprintf(r->last_start_failure, sizeof r->last_start_failure, "%s", why);
        if (t >= 0) {
            r->tasks[t].state = T_PENDING;
            r->tasks[t].attempts--;
            r->attempts--;
            if ((size_t)t < r->next)
                r->next = (size_t)t;
            r->running--;
        }
    } else if (t >= 0) {
        remove_temporaries(s->tmp);
        task *tk = &r->tasks[t];
        char text[RP_BATCH_ERROR_MAX];
        if (strcmp(outcome, "timeout") == 0)
            snprintf(text, sizeof text, "timed out after %g s (worker killed)", r->o->timeout);
        else if (strcmp(outcome, "interrupted") == 0)
            snprintf(text, sizeof text, "interrupted (worker killed)");
        else
            snprintf(text, sizeof text, "worker died: %s", why);
        journal_attempt(r, (size_t)t, s, outcome, text, &how);
        set_task_error(tk, text);
        r->running--;
        if (strcmp(outcome, "interrupted") != 0 && tk->attempts <= r->o->retries) {
            double backoff = 0.5 * pow(2.0, tk->attempts - 1);
            tk->not_before = rp_monotonic_seconds() + (backoff > 30 ? 30 : backoff);
            tk->state = T_PENDING;
            if ((size_t)t < r->next)
                r->next = (size_t)t;
            r->retried++;
            log_line(r, "rasterpool: retrying %s: %s\n", r->plan.inputs[t], text);
        } else {
            finish_task(r, (size_t)t, false);
            log_line(r, "rasterpool: failed: %s: %s\n", r->plan.inputs[t], text);
        }
    }
    s->proc.pid = 0;
    s->task = -1;
    s->ready = false;
}

/* The next task that may start now, or -1. */
static long next_ready_task(run *r, double now) {
    while (r->next < r->plan.n && r->tasks[r->next].state != T_PENDING)
        r->next++;
    for (size_t t = r->next; t < r->plan.n; t++)
        if (r->tasks[t].state == T_PENDING && r->tasks[t].not_before <= now)
            return (long)t;
    return -1;
}

static bool any_pending(run *r) {
    for (size_t t = r->next; t < r->plan.n; t++)
        if (r->tasks[t].state == T_PENDING)
            return true;
    return false;
}

static void dispatch(run *r, slot *s, size_t t) {
    task *tk = &r->tasks[t];
    tk->attempts++;
    r->attempts++;
    temp_name(r->plan.outputs[t], t, tk->attempts, s->tmp, sizeof s->tmp);
    rp_batch_task_msg *m = calloc(1, sizeof *m);
    tk->state = T_RUNNING;
    r->running++;
    s->task = (long)t;
    s->started_mono = rp_monotonic_seconds();
    s->started_wall = wall_now();
    s->deadline = r->o->timeout > 0 ? s->started_mono + r->o->timeout : INFINITY;
    if (!m) {
        r->fatal = rp_error_set(r->err, RP_NOMEM, "out of memory");
        return;
    }
    m->magic = RP_BATCH_MAGIC;
    m->type = RP_MSG_TASK;
    m->task = t;
    snprintf(m->input, sizeof m->input, "%s", r->plan.inputs[t]);
    snprintf(m->output, sizeof m->output, "%s", s->tmp);
    bool sent = rp_proc_send(&s->proc, m, sizeof *m);
    free(m);
    if (!sent) /* it died while idle: handled like any death, and retried */
        worker_gone(r, s, "crashed", 2000);
}

static void handle_message(run *r, slot *s) {
    rp_batch_result_msg *m = calloc(1, sizeof *m);
    if (!m) {
        r->fatal = rp_error_set(r->err, RP_NOMEM, "out of memory");
        return;
    }
    int got = rp_proc_recv(&s->proc, m, sizeof *m);
    if (got == 1 && m->magic == RP_BATCH_MAGIC && m->type == RP_MSG_READY) {
        s->ready = true;
        r->start_failures = 0;
    } else if (got == 1 && m->magic == RP_BATCH_MAGIC && m->type == RP_MSG_RESULT && s->task >= 0 &&
               m->task == (uint64_t)s->task) {
        size_t t = (size_t)s->task;
        m->error[sizeof m->error - 1] = '\0';
        bool ok = m->ok != 0;
        if (ok)
            ok = put_in_place(s->tmp, r->plan.outputs[t], m->error, sizeof m->error);
        else
            remove_temporaries(s->tmp);
        journal_attempt(r, t, s, ok ? "done" : "error", ok ? NULL : m->error, NULL);
        if (!ok)
            set_task_error(&r->tasks[t], m->error[0] ? m->error : "failed");
        finish_task(r, t, ok);
        r->running--;
        s->task = -1;
        if (ok)
            log_line(r, "rasterpool: done: %s -> %s\n", r->plan.inputs[t], r->plan.outputs[t]);
        else
            log_line(r, "rasterpool: failed: %s: %s\n", r->plan.inputs[t], m->error);
    } else {
        /* end-of-file, or a message that is not ours: the worker is gone or
         * broken; either way it is replaced */
        worker_gone(r, s, "crashed", 2000);
    }
    free(m);
}

/* ---- the loop ------------------------------------------------------------ */

static int call_progress(run *r) {
    if (!r->o->progress)
        return 0;
    char msg[96];
    snprintf(msg, sizeof msg, "%zu done %zu fail %zu run", r->done, r->failed, r->running);
    double frac = r->todo ? (double)(r->done + r->failed) / (double)r->todo : 1.0;
    return r->o->progress(frac, msg, r->o->progress_user);
}

static void kill_all(run *r) {
    for (int i = 0; i < r->nslots; i++)
        if (r->slots[i].proc.pid > 0)
            worker_gone(r, &r->slots[i], "interrupted", 0);
}

/* Returns 0 when all work ended, 1 when stopped gently, 2 when aborted. */
static int event_loop(run *r) {
    bool stopping = false;
    struct pollfd *pfd = calloc((size_t)r->nslots, sizeof *pfd);
    int *which = calloc((size_t)r->nslots, sizeof *which);
    if (!pfd || !which) {
        free(pfd);
        free(which);
        r->fatal = rp_error_set(r->err, RP_NOMEM, "out of memory");
        return 0;
    }
    int result = 0;
    while (r->fatal == RP_OK) {
        int p = call_progress(r);
        if (p != RP_PROGRESS_CONTINUE && p != RP_PROGRESS_DRAIN) {
            kill_all(r);
            result = 2;
            break;
        }
        if (p == RP_PROGRESS_DRAIN)
            stopping = true;
        double now = rp_monotonic_seconds();
        bool pending = !stopping && any_pending(r);
        if (r->running == 0 && !pending)
            break;
        if (r->start_failures >= MAX_START_FAILURES) {
            r->fatal = rp_error_set(r->err, RP_INTERNAL,
                                    "workers die as they start (%s): is %s the rasterpool "
                                    "program?",
                                    r->last_start_failure, r->program);
            break;
        }
        for (int i = 0; i < r->nslots && pending && r->fatal == RP_OK; i++) {
            slot *s = &r->slots[i];
            if (s->task >= 0)
                continue;
            long t = next_ready_task(r, now);
            if (t < 0)
                break;
            if (s->proc.pid == 0 && start_worker(r, s) != RP_OK) {
                r->fatal = RP_INTERNAL;
                break;
            }
            dispatch(r, s, (size_t)t);
        }
        if (r->fatal != RP_OK)
            break;
        int timeout_ms = 200;
        int n = 0;
        for (int i = 0; i < r->nslots; i++) {
            slot *s = &r->slots[i];
            if (s->proc.pid == 0)
                continue;
            pfd[n] = (struct pollfd){.fd = s->proc.fd, .events = POLLIN};
            which[n++] = i;
            if (s->task >= 0 && s->deadline < INFINITY) {
                double left = (s->deadline - now) * 1000.0;
                int ms = left <= 0 ? 0 : (int)ceil(left);
                if (ms < timeout_ms)
                    timeout_ms = ms;
            }
        }
        int ready = poll(pfd, (nfds_t)n, timeout_ms);
        if (ready < 0 && errno != EINTR) {
            r->fatal = rp_error_set(r->err, RP_INTERNAL, "poll: %s", strerror(errno));
            break;
        }
        for (int k = 0; ready > 0 && k < n; k++)
            if (pfd[k].revents)
                handle_message(r, &r->slots[which[k]]);
        now = rp_monotonic_seconds();
        for (int i = 0; i < r->nslots; i++) {
            slot *s = &r->slots[i];
            if (s->proc.pid > 0 && s->task >= 0 && now >= s->deadline)
                worker_gone(r, s, "timeout", 0);
        }
    }
    free(pfd);
    free(which);
    if (result == 0 && stopping)
        result = 1;
    return result;
}

/* ---- setup and report ------------------------------------------------------ */

static rp_status build_worker_argv(run *r, int workers, int cpus, uint64_t memory, rp_error *err) {
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

static rp_status open_journal(run *r, rp_error *err) {
    const rp_batch_options *o = r->o;
    if (o->log_path) {
        r->journal_path = strdup(o->log_path);
    } else {
        size_t n = strlen(o->out_dir) + 32;
        if ((r->journal_path = malloc(n)))
            snprintf(r->journal_path, n, "%s/rasterpool-batch.jsonl", o->out_dir);
    }
    if (!r->journal_path)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    if (o->resume) {
        rp_journal_done done;
        size_t bad = 0;
        rp_status st = rp_journal_read_done(r->journal_path, &done, &bad, err);
        if (st != RP_OK)
            return st;
        for (size_t t = 0; t < r->plan.n; t++) {
            struct stat sb;
            if (rp_journal_done_has(&done, r->plan.outputs[t]) &&
                stat(r->plan.outputs[t], &sb) == 0 && S_ISREG(sb.st_mode)) {
                r->tasks[t].state = T_SKIPPED;
                r->skipped++;
            }
        }
        rp_journal_done_free(&done);
        if (bad && o->log)
            fprintf(o->log,
                    "rasterpool: warning: %zu line(s) of journal %s are not records; "
                    "ignored\n",
                    bad, r->journal_path);
    }
    r->journal = fopen(r->journal_path, "ae");
    if (!r->journal)
        return rp_error_set(err, RP_WRITE, "cannot open the journal %s: %s", r->journal_path,
                            strerror(errno));
    return RP_OK;
}

static void print_summary(const run *r, double seconds, bool interrupted) {
    FILE *log = r->o->log;
    if (!log)
        return;
    size_t listed = 0;
    for (size_t t = 0; t < r->plan.n; t++) {
        if (r->tasks[t].state != T_FAILED)
            continue;
        if (listed++ == 0)
            fprintf(log, "rasterpool: failed tasks:\n");
        fprintf(log, "  %s: %s\n", r->plan.inputs[t],
                r->tasks[t].error ? r->tasks[t].error : "failed");
    }
    size_t not_started = 0;
    for (size_t t = 0; t < r->plan.n; t++)
        not_started += r->tasks[t].state == T_PENDING;
    fprintf(log, "rasterpool: batch %s: %zu done, %zu failed", r->o->kind->name, r->done,
            r->failed);
    if (r->skipped)
        fprintf(log, ", %zu skipped (done before)", r->skipped);
    if (not_started)
        fprintf(log, ", %zu not started", not_started);
    fprintf(log, " of %zu; %zu attempts (%zu retries), %d workers, %.1f s%s; journal %s\n",
            r->plan.n, r->attempts, r->retried, r->nslots, seconds,
            interrupted ? "; interrupted" : "", r->journal_path);
    fflush(log);
}

static void release(run *r) {
    for (int i = 0; r->slots && i < r->nslots; i++)
        if (r->slots[i].proc.pid > 0 || r->slots[i].proc.fd >= 0)
            rp_proc_stop(&r->slots[i].proc, 5000, NULL);
    free(r->slots);
    for (size_t t = 0; r->tasks && t < r->plan.n; t++)
        free(r->tasks[t].error);
    free(r->tasks);
    for (size_t i = 0; r->worker_argv && r->worker_argv[i]; i++)
        free(r->worker_argv[i]);
    free(r->worker_argv);
    if (r->journal)
        fclose(r->journal);
    free(r->journal_path);
    rp_batch_plan_free(&r->plan);
}

RP_API rp_status rp_batch_run(const rp_batch_options *o, rp_batch_report *report, rp_error *err) {
    double t0 = rp_monotonic_seconds();
    if (report)
        memset(report, 0, sizeof *report);
    run r;
    memset(&r, 0, sizeof r);
    r.o = o;
    r.err = err;
    r.program = o->worker_program ? o->worker_program : rp_batch_default_worker();
    rp_status st = rp_batch_plan_make(o, &r.plan, err);
    if (st == RP_OK)
        st = make_dirs(o->out_dir, err);
    if (st == RP_OK)
        st = check_not_inputs(&r.plan, err);
    if (st == RP_OK) {
        size_t stale = sweep_stale_temporaries(o->out_dir);
        if (stale && o->log)
            fprintf(o->log,
                    "rasterpool: removed %zu temporary file(s) of an earlier batch "
                    "that was killed\n",
                    stale);
    }
    if (st == RP_OK && !(r.tasks = calloc(r.plan.n, sizeof *r.tasks)))
        st = rp_error_set(err, RP_NOMEM, "out of memory");
    if (st == RP_OK)
        st = open_journal(&r, err);
    r.todo = r.plan.n - r.skipped;
    /* the machine's share, read once (cgroup files): sizes the pool and
     * each worker's GDAL threads and cache */
    int cpus = rp_usable_cpus();
    uint64_t memory = rp_usable_memory();
    int workers = o->workers > 0 ? o->workers : rp_batch_default_workers(cpus, memory);
    if ((size_t)workers > r.todo)
        workers = r.todo ? (int)r.todo : 1;
    r.nslots = workers;
    if (st == RP_OK)
        st = build_worker_argv(&r, workers, cpus, memory, err);
    if (st == RP_OK && !(r.slots = calloc((size_t)workers, sizeof *r.slots)))
        st = rp_error_set(err, RP_NOMEM, "out of memory");
    for (int i = 0; st == RP_OK && i < workers; i++) {
        r.slots[i].proc.fd = -1;
        r.slots[i].task = -1;
    }
    int stopped = 0;
    if (st == RP_OK && r.todo > 0) {
        stopped = event_loop(&r);
        st = r.fatal;
        if (st != RP_OK)
            kill_all(&r);
    }
    if (st == RP_OK || stopped) {
        call_progress(&r);
        print_summary(&r, rp_monotonic_seconds() - t0, stopped != 0);
    }
    if (report) {
        report->tasks = r.plan.n;
        report->done = r.done;
        report->failed = r.failed;
        report->skipped = r.skipped;
        report->attempts = r.attempts;
        report->retried = r.retried;
        report->not_started = r.plan.n - r.done - r.failed - r.skipped;
        report->workers = r.nslots;
        report->seconds = rp_monotonic_seconds() - t0;
    }
    if (st == RP_OK && stopped)
        st = rp_error_set(err, RP_INTERRUPTED, "interrupted");
    else if (st == RP_OK && r.failed)
        st = rp_error_set(err, RP_PARTIAL, "%zu of %zu tasks failed", r.failed, r.plan.n);
    release(&r);
    return st;
}
