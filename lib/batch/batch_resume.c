/*
 * batch_resume.c — what --resume may skip. A task is skipped only when its
 * output exists and the latest whole journal record of that output says
 * done, was written by the same kind of job with the same tool options, from
 * the same input, and that input still has the size and modification time
 * it had then. Anything else that the journal says is done is redone, with
 * its reason kept for the journal ("redo") and -v, and one line on the log
 * counts the redone tasks by reason:
 *   rasterpool: --resume: 3 done before and unchanged (skipped); 2 redone:
 *   2 made with other options
 * Records of an older rasterpool say nothing of options or input: their
 * tasks are redone (the truth is unknown, so no guess). An input that is no
 * local file (/vsicurl/..., a URL) has no fingerprint; its tasks are
 * compared by kind, options and path only.
 *
 * Threads: none (the parent, before any worker starts). Ownership: reasons
 * are malloc'ed into the tasks (freed with them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "batch_run.h"

/* Why a task the journal says is done is redone; REDO_NONE: it is not. */
typedef enum redo_reason {
    REDO_NONE,
    REDO_UNRECORDED, /* an older rasterpool's record: no kind, options, input */
    REDO_KIND,
    REDO_OPTIONS,
    REDO_INPUT_PATH,
    REDO_INPUT_CHANGED,
    REDO_COUNT
} redo_reason;

static const char *const reason_names[REDO_COUNT] = {
    [REDO_UNRECORDED] = "recorded without its options (an older journal)",
    [REDO_KIND] = "made by another kind of job",
    [REDO_OPTIONS] = "made with other options",
    [REDO_INPUT_PATH] = "made from another input",
    [REDO_INPUT_CHANGED] = "input changed since",
};

void rp_batch_fingerprint_inputs(batch_run *r) {
    for (size_t t = 0; t < r->plan.n; t++) {
        struct stat sb;
        rp_batch_fingerprint *fp = &r->tasks[t].input_fp;
        memset(fp, 0, sizeof *fp);
        if (stat(r->plan.inputs[t], &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        fp->known = true;
        fp->size = (int64_t)sb.st_size;
        fp->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + (int64_t)sb.st_mtim.tv_nsec;
    }
}

/* Whether the recorded fingerprint differs from the one now. Inputs that
 * were and are no local file are not compared. */
static bool input_changed(const rp_batch_fingerprint *then, const rp_batch_fingerprint *now) {
    if (then->known != now->known)
        return true;
    return then->known && (then->size != now->size || then->mtime_ns != now->mtime_ns);
}

/* Why task t is redone (REDO_NONE: it is not), with the details for the
 * journal and -v in detail. */
static redo_reason compare(const batch_run *r, size_t t, const rp_journal_entry *e,
                           const char *options, char *detail, size_t cap) {
    const batch_task *task = &r->tasks[t];
    if (!e->kind || !e->options || !e->input) {
        snprintf(detail, cap, "%s", reason_names[REDO_UNRECORDED]);
        return REDO_UNRECORDED;
    }
    if (strcmp(e->kind, r->o->kind->name) != 0) {
        snprintf(detail, cap, "made by batch %s, now batch %s", e->kind, r->o->kind->name);
        return REDO_KIND;
    }
    if (strcmp(e->options, options) != 0) {
        snprintf(detail, cap, "made with options %.1000s, now %.1000s", e->options, options);
        return REDO_OPTIONS;
    }
    if (strcmp(e->input, r->plan.inputs[t]) != 0) {
        snprintf(detail, cap, "made from %.2000s", e->input);
        return REDO_INPUT_PATH;
    }
    if (input_changed(&e->input_fp, &task->input_fp)) {
        const rp_batch_fingerprint *a = &e->input_fp, *b = &task->input_fp;
        if (a->known && b->known)
            snprintf(detail, cap,
                     "input changed since: size %lld, modified at %.9f s then; size %lld, "
                     "modified at %.9f s now",
                     (long long)a->size, (double)a->mtime_ns / 1e9, (long long)b->size,
                     (double)b->mtime_ns / 1e9);
        else
            snprintf(detail, cap, "input changed since: %s",
                     b->known ? "it is a file now" : "it cannot be examined now");
        return REDO_INPUT_CHANGED;
    }
    return REDO_NONE;
}

static void report(const batch_run *r, size_t skipped, const size_t *counts, size_t bad) {
    FILE *log = r->o->log;
    if (!log)
        return;
    if (bad)
        fprintf(log, "rasterpool: warning: %zu line(s) of journal %s are not records; ignored\n",
                bad, r->journal_path);
    size_t redone = 0;
    for (int k = 1; k < REDO_COUNT; k++)
        redone += counts[k];
    if (!redone)
        return;
    fprintf(log,
            "rasterpool: --resume: %zu done before and unchanged (skipped); %zu redone:", skipped,
            redone);
    const char *sep = " ";
    for (int k = 1; k < REDO_COUNT; k++) {
        if (counts[k]) {
            fprintf(log, "%s%zu %s", sep, counts[k], reason_names[k]);
            sep = ", ";
        }
    }
    fprintf(log, " (the journal records why; -v lists them)\n");
}

rp_status rp_batch_resume(batch_run *r, rp_error *err) {
    rp_journal_done done;
    size_t bad = 0;
    rp_status st = rp_journal_read_done(r->journal_path, &done, &bad, err);
    if (st != RP_OK)
        return st;
    char *options = rp_journal_options_text(r->o->tool_args);
    if (!options) {
        rp_journal_done_free(&done);
        return rp_error_set(err, RP_NOMEM, "out of memory");
    }
    size_t counts[REDO_COUNT] = {0};
    char detail[4600];
    for (size_t t = 0; st == RP_OK && t < r->plan.n; t++) {
        const rp_journal_entry *e = rp_journal_done_find(&done, r->plan.outputs[t]);
        struct stat sb;
        if (!e || stat(r->plan.outputs[t], &sb) != 0 || !S_ISREG(sb.st_mode))
            continue; /* not done: it runs, as any new task */
        redo_reason why = compare(r, t, e, options, detail, sizeof detail);
        if (why == REDO_NONE) {
            r->tasks[t].state = TASK_SKIPPED;
            r->skipped++;
            continue;
        }
        counts[why]++;
        if (!(r->tasks[t].redo = strdup(detail)))
            st = rp_error_set(err, RP_NOMEM, "out of memory");
        else
            rp_batch_log(r, "rasterpool: redo: %s: %s\n", r->plan.inputs[t], detail);
    }
    free(options);
    rp_journal_done_free(&done);
    if (st == RP_OK)
        report(r, r->skipped, counts, bad);
    return st;
}
