/*
 * batch_checks.c — checks a batch makes before any worker starts: that the
 * journal is not one of the batch's files, and that the open-file limit
 * leaves room for the workers.
 *
 * The journal is appended to: a --log that names an output would be
 * replaced by that output when its task commits (the journal lost, and
 * --resume with it); one that names an input would have records appended
 * to a raster. Both are refused. Paths are compared as files: the same
 * inode when both exist, else the same canonical folder and name.
 *
 * Each worker costs the parent one socket for the whole batch (and a second
 * one while it starts); a -j that the open-file limit cannot hold would
 * fail partway with "too many open files". The worker count is lowered to
 * what the limit allows, with a note.
 *
 * Threads: none; the caller's thread.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "batch_run.h"

enum {
    FD_RESERVE = 16, /* the journal, a stage's files and folder while committed, stdio */
};

/* path's folder resolved (links, "..") followed by its name; NULL when the
 * folder does not resolve. The caller frees. */
static char *canonical(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
    char *real = dir ? realpath(dir, NULL) : NULL;
    free(dir);
    if (!real)
        return NULL;
    const char *name = slash ? slash + 1 : path;
    size_t n = strlen(real) + strlen(name) + 2;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s/%s", real, name);
    free(real);
    return out;
}

static bool same_file(const char *a, const char *canon_a, const char *b) {
    struct stat sa, sb;
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    char *canon_b = canonical(b);
    bool same = canon_a && canon_b && strcmp(canon_a, canon_b) == 0;
    free(canon_b);
    return same;
}

rp_status rp_batch_check_journal_path(const rp_batch_plan *plan, const char *journal,
                                      rp_error *err) {
    char *canon = canonical(journal);
    rp_status st = RP_OK;
    for (size_t t = 0; t < plan->n && st == RP_OK; t++) {
        if (same_file(journal, canon, plan->outputs[t]))
            st = rp_error_set(err, RP_USAGE,
                              "--log %s is the output of %s: the journal would be replaced by "
                              "it; choose another --log",
                              journal, plan->inputs[t]);
        else if (same_file(journal, canon, plan->inputs[t]))
            st = rp_error_set(err, RP_USAGE,
                              "--log %s is an input of the batch: records would be appended "
                              "to it; choose another --log",
                              journal);
    }
    free(canon);
    return st;
}

/* Descriptors open now (/proc/self/fd less the listing's own); -1 unknown. */
static long open_descriptors(void) {
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n - 3; /* ".", ".." and the listing's own descriptor */
}

int rp_batch_fit_open_files(int workers, FILE *log) {
    struct rlimit rl;
    long used = open_descriptors();
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || used < 0)
        return workers;
    long room = (long)rl.rlim_cur - used - FD_RESERVE - 1; /* 1: a starting worker's 2nd end */
    if (room >= workers)
        return workers;
    int fit = room < 1 ? 1 : (int)room;
    if (log)
        fprintf(log,
                "rasterpool: note: %d workers lowered to %d: the open-file limit (ulimit -n "
                "%ld) allows no more (each worker holds a socket in this process)\n",
                workers, fit, (long)rl.rlim_cur);
    return fit;
}
