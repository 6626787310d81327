/*
 * staged_output.c — stage folders beside the destination, commit by fsync +
 * rename + folder fsync, abort, and the sweeper of dead processes'
 * leftovers. The scheme and its rules are in staged_output.h.
 *
 * A stage knows its members by listing its own folder, not by a list of
 * what the writer said it made: a GDAL driver writes sidecars nobody
 * announces (.aux.xml on close, .prj beside a Shapefile). The folder was
 * made with mkdir on a fresh name, so everything in it is the writer's.
 *
 * Threads: none of its own; no global state but an atomic counter that mixes
 * into the random part of names. Ownership: the stage owns its strings; the
 * caller owns the stage.
 *
 * Size: a little over 600 lines, kept whole on purpose: names, members,
 * commit, the replacement of a multi-file output and the sweep share the
 * stage's private struct and file helpers, and the crash-safety argument
 * (what is on disk after a failure at each step) reads in one place.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"
#include "stage_registry.h"
#include "staged_output.h"

#define TEMP_MARK ".rp-tmp-"
enum { UNIQUE_LEN = 6, OPEN_TRIES = 100 };

struct rp_stage {
    char *dir;        /* the destination's folder ("." when it names none) */
    char *final_path; /* as given */
    char *final_base; /* NAME: the destination's base name */
    char *stage_dir;  /* dir/.NAME.rp-tmp-PID-XXXXXX */
    char *temp_path;  /* stage_dir/NAME */
    bool finished;    /* committed or aborted */
    int slot;         /* in the registry of unfinished stages (-1: none) */
};

/* Sidecars that GDAL appends to a file's whole name; an old one of the
 * destination describes the old file. */
static const char *const appended_sidecars[] = {".aux.xml", ".msk", ".ovr"};

/* ---- names -------------------------------------------------------------- */

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}


static void random_unique(char out[UNIQUE_LEN + 1]) {
    static const char digits[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    static atomic_uint_fast64_t counter;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    /* splitmix64 over time, counter and pid: distinct per call in a process,
     * and unlikely to repeat across processes (EEXIST retries anyway) */
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
                 (atomic_fetch_add(&counter, 1) * 0x9E3779B97F4A7C15u) ^ ((uint64_t)getpid() << 40);
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
    x ^= x >> 31;
    for (int i = 0; i < UNIQUE_LEN; i++, x /= 62)
        out[i] = digits[x % 62];
    out[UNIQUE_LEN] = '\0';
}

static bool unique_is_valid(const char *unique) {
    if (strlen(unique) != UNIQUE_LEN)
        return false;
    for (const char *c = unique; *c; c++)
        if (!(*c == '-' || *c == '_' || (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
              (*c >= 'A' && *c <= 'Z')))
            return false;
    return true;
}

/* Fills the stage's names for one unique part. */
static bool name_stage(rp_stage *s, const char *unique) {
    free(s->stage_dir);
    free(s->temp_path);
    size_t n = strlen(s->final_base) + strlen(TEMP_MARK) + 48;
    char *name = malloc(n);
    /* the folder's name shows at most 200 bytes of NAME, so that a long
     * NAME still fits in a file name (255); the file inside keeps it whole */
    if (name)
        snprintf(name, n, ".%.200s" TEMP_MARK "%ld-%s", s->final_base, (long)getpid(), unique);
    /* NAME's dots become '_' in the folder's name: GDAL takes a path with
     * ".ods", ".xlsx", ".zip" ... inside it for a file in that archive, so
     * the ODS and XLSX writers (which write through /vsizip/) lost their
     * content under ".o.ods.rp-tmp-.../o.ods" */
    for (char *c = name ? name + 1 : NULL; c && *c && strncmp(c, TEMP_MARK, strlen(TEMP_MARK)); c++)
        if (*c == '.')
            *c = '_';
    s->stage_dir = name ? join(s->dir, name) : NULL;
    s->temp_path = s->stage_dir ? join(s->stage_dir, s->final_base) : NULL;
    free(name);
    return s->temp_path != NULL;
}

/* ---- files ---------------------------------------------------------------- */

static int create_exclusive(const char *path) {
    int fd;
    do
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    while (fd < 0 && errno == EINTR);
    if (fd >= 0)
        close(fd);
    return fd < 0 ? -1 : 0;
}

/* Removes a file, or a folder with everything in it. */
static void remove_tree(const char *path) {
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char *child = join(path, e->d_name);
            if (child)
                remove_tree(child);
            free(child);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int sync_one(const char *path, bool is_dir) {
    int fd;
    do
        fd = open(path, O_RDONLY | O_CLOEXEC | (is_dir ? O_DIRECTORY : 0));
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    /* some file systems cannot sync a folder; that is not a write error */
    if (rc != 0 && is_dir && (errno == EINVAL || errno == ENOTSUP))
        rc = 0;
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* fsyncs a file, or a folder and everything in it. */
static int sync_tree(const char *path) {
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return -1;
    if (S_ISLNK(sb.st_mode))
        return 0;
    if (!S_ISDIR(sb.st_mode))
        return sync_one(path, false);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *child = join(path, e->d_name);
        rc = child ? sync_tree(child) : -1;
        free(child);
    }
    closedir(d);
    return rc == 0 ? sync_one(path, true) : rc;
}

/* ---- members -------------------------------------------------------------- */

typedef enum member_kind {
    MEMBER_OUTPUT,  /* NAME: the output itself */
    MEMBER_SIDECAR, /* anything else the writer made */
    MEMBER_NESTED,  /* a hidden ".rp-tmp-" name: a writer's own stage, not output */
} member_kind;

static member_kind classify(const rp_stage *s, const char *name) {
    if (strcmp(name, s->final_base) == 0)
        return MEMBER_OUTPUT;
    if (name[0] == '.' && strstr(name, TEMP_MARK))
        return MEMBER_NESTED;
    return MEMBER_SIDECAR;
}

typedef struct member {
    char *name;
    member_kind kind;
} member;

static void free_members(member *m, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(m[i].name);
    free(m);
}

/* What is in the stage's folder now. Returns false when out of memory or
 * the folder cannot be read. */
static bool list_members(const rp_stage *s, member **out, size_t *count) {
    *out = NULL;
    *count = 0;
    DIR *d = opendir(s->stage_dir);
    if (!d)
        return false;
    member *all = NULL;
    size_t n = 0, cap = 0;
    bool ok = true;
    struct dirent *e;
    while (ok && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            member *grown = realloc(all, ncap * sizeof *grown);
            ok = grown != NULL;
            all = ok ? grown : all;
            cap = ok ? ncap : cap;
        }
        if (ok && (all[n].name = strdup(e->d_name)) != NULL)
            all[n++].kind = classify(s, e->d_name);
        else
            ok = false;
    }
    closedir(d);
    if (!ok) {
        free_members(all, n);
        return false;
    }
    *out = all;
    *count = n;
    return true;
}

/* ---- open ---------------------------------------------------------------- */

static rp_stage *stage_new(const char *final_path) {
    rp_stage *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->slot = -1;
    const char *slash = strrchr(final_path, '/');
    s->final_path = strdup(final_path);
    s->dir = rp_path_folder(final_path);
    s->final_base = strdup(slash ? slash + 1 : final_path);
    if (!s->final_path || !s->dir || !s->final_base) {
        rp_stage_free(s);
        return NULL;
    }
    return s;
}

/* Makes the stage's folder (and the temporary) for one unique part.
 * Returns 0, or an errno value (EEXIST: the name is taken). */
static int reserve(rp_stage *s, const char *unique, unsigned flags) {
    if (!name_stage(s, unique))
        return ENOMEM;
    if (mkdir(s->stage_dir, 0700) != 0)
        return errno;
    if ((flags & RP_STAGE_CREATE) && create_exclusive(s->temp_path) != 0) {
        int saved = errno;
        rmdir(s->stage_dir);
        return saved;
    }
    return 0;
}

static rp_status open_stage(const char *final_path, const char *unique, unsigned flags,
                            rp_stage **stage, rp_error *err) {
    *stage = NULL;
    const char *slash = strrchr(final_path, '/');
    if (!*(slash ? slash + 1 : final_path))
        return rp_error_set(err, RP_WRITE, "%s: names no file", final_path);
    rp_stage *s = stage_new(final_path);
    if (!s)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    int rc = EEXIST;
    for (int i = 0; rc == EEXIST && i < (unique ? 1 : OPEN_TRIES); i++) {
        char drawn[UNIQUE_LEN + 1];
        if (!unique)
            random_unique(drawn);
        rc = reserve(s, unique ? unique : drawn, flags);
    }
    if (rc != 0) {
        rp_status st = rc == ENOMEM
                           ? rp_error_set(err, RP_NOMEM, "out of memory")
                           : rp_error_set(err, RP_WRITE, "%s: cannot write in folder %s: %s",
                                          final_path, s->dir, strerror(rc));
        s->finished = true; /* nothing of ours to remove */
        rp_stage_free(s);
        return st;
    }
    s->slot = rp_stage_registry_add(s->stage_dir); /* -1: the sweep's alone */
    *stage = s;
    return RP_OK;
}

rp_status rp_stage_open(const char *final_path, unsigned flags, rp_stage **stage, rp_error *err) {
    return open_stage(final_path, NULL, flags, stage, err);
}

rp_status rp_stage_open_as(const char *final_path, const char *unique, unsigned flags,
                           rp_stage **stage, rp_error *err) {
    if (!unique || !unique_is_valid(unique)) {
        *stage = NULL;
        return rp_error_set(err, RP_USAGE, "staged output: '%s' is not 6 name characters",
                            unique ? unique : "(null)");
    }
    return open_stage(final_path, unique, flags, stage, err);
}

const char *rp_stage_path(const rp_stage *stage) {
    return stage->temp_path;
}

size_t rp_stage_count(const rp_stage *stage) {
    member *m;
    size_t n, made = 0;
    if (!list_members(stage, &m, &n))
        return 0;
    for (size_t i = 0; i < n; i++)
        made += m[i].kind != MEMBER_NESTED;
    free_members(m, n);
    return made;
}

/* ---- commit and abort --------------------------------------------------------- */

static rp_status move_member(const rp_stage *s, const char *name, rp_error *err) {
    char *from = join(s->stage_dir, name), *to = join(s->dir, name);
    rp_status st = RP_OK;
    if (!from || !to)
        st = rp_error_set(err, RP_NOMEM, "out of memory");
    else if (rename(from, to) != 0)
        st = rp_error_set(err, RP_WRITE, "%s: cannot move the finished output into place: %s", to,
                          strerror(errno));
    free(from);
    free(to);
    return st;
}

static rp_status sync_members(const rp_stage *s, const member *m, size_t n, rp_error *err) {
    for (size_t i = 0; i < n; i++) {
        if (m[i].kind == MEMBER_NESTED)
            continue;
        char *path = join(s->stage_dir, m[i].name);
        int rc = path ? sync_tree(path) : -1;
        int saved = errno;
        free(path);
        if (rc != 0)
            return rp_error_set(err, RP_WRITE, "%s: cannot write the output to disk: %s",
                                s->final_path, strerror(saved));
    }
    return RP_OK;
}

/* Removes NAME.aux.xml (.msk, .ovr) beside the destination when the new
 * output brings none. */
static void drop_old_sidecars(const rp_stage *s, const member *m, size_t n) {
    size_t base_len = strlen(s->final_base);
    for (size_t k = 0; k < sizeof appended_sidecars / sizeof *appended_sidecars; k++) {
        bool brought = false;
        for (size_t i = 0; i < n && !brought; i++)
            brought = m[i].kind == MEMBER_SIDECAR &&
                      strncmp(m[i].name, s->final_base, base_len) == 0 &&
                      strcmp(m[i].name + base_len, appended_sidecars[k]) == 0;
        size_t len = strlen(s->final_path) + strlen(appended_sidecars[k]) + 1;
        char *old = brought ? NULL : malloc(len);
        if (old) {
            snprintf(old, len, "%s%s", s->final_path, appended_sidecars[k]);
            unlink(old);
            free(old);
        }
    }
}

/* ---- replacing an old output of several files ------------------------------
 * The old output's files (and any file a new member's name would replace)
 * are kept in the stage's folder, under BACKUP, while the new members move
 * in: as hard links (the old names stay readable throughout), or moved
 * there where the file system has no hard links. A failed move puts back
 * what moved so far and the old files, so the old output survives whole. */
#define BACKUP ".rp-old"

typedef struct kept {
    char *name;  /* base name in the destination's folder */
    bool moved;  /* moved into BACKUP (no hard link): must come back */
    bool is_new; /* a new member has this name */
} kept;

static bool kept_has(const kept *k, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(k[i].name, name) == 0)
            return true;
    return false;
}

/* The names to keep: old_files in the destination's folder, and every new
 * member's name; each existing one linked (or moved) into BACKUP. */
static rp_status keep_old(rp_stage *s, const member *m, size_t n, const char *const *old,
                          size_t nold, kept **out, size_t *nkept, rp_error *err) {
    kept *k = calloc(n + nold + 1, sizeof *k);
    char *bdir = join(s->stage_dir, BACKUP);
    if (!k || !bdir || mkdir(bdir, 0700) != 0) {
        free(k);
        free(bdir);
        return rp_error_set(err, RP_WRITE, "%s: cannot keep the old output aside: %s",
                            s->final_path, strerror(errno));
    }
    size_t nk = 0;
    rp_status st = RP_OK;
    for (size_t i = 0; st == RP_OK && i < n + nold; i++) {
        const char *name = i < n ? (m[i].kind == MEMBER_NESTED ? NULL : m[i].name) : NULL;
        if (i >= n && old[i - n]) {
            char *dir = rp_path_folder(old[i - n]);
            const char *slash = strrchr(old[i - n], '/');
            bool here = dir && strcmp(dir, s->dir) == 0;
            free(dir);
            name = here ? (slash ? slash + 1 : old[i - n]) : NULL;
        }
        struct stat sb;
        char *from = name && !kept_has(k, nk, name) ? join(s->dir, name) : NULL;
        char *to = from ? join(bdir, name) : NULL;
        if (to && lstat(from, &sb) == 0 && !S_ISDIR(sb.st_mode)) { /* a folder is no output */
            k[nk] = (kept){strdup(name), false, i < n};
            if (link(from, to) != 0)
                k[nk].moved = rename(from, to) == 0;
            if (!k[nk].name || (!k[nk].moved && lstat(to, &sb) != 0))
                st = rp_error_set(err, RP_WRITE, "%s: cannot keep the old %s aside: %s",
                                  s->final_path, name, strerror(errno));
            nk++;
        }
        free(from);
        free(to);
    }
    free(bdir);
    *out = k;
    *nkept = nk;
    return st;
}

/* After a failed move: the first nmoved members go back out of the
 * destination (the old file put back where one was kept), and old files
 * that were moved aside return. */
static void put_back(rp_stage *s, const member *m, size_t nmoved, kept *k, size_t nk) {
    char *bdir = join(s->stage_dir, BACKUP);
    for (size_t i = 0; bdir && i < nmoved; i++) {
        if (m[i].kind == MEMBER_NESTED)
            continue;
        char *dst = join(s->dir, m[i].name), *old = join(bdir, m[i].name);
        struct stat sb;
        if (dst && old && lstat(old, &sb) == 0)
            rename(old, dst);
        else if (dst)
            unlink(dst);
        free(dst);
        free(old);
    }
    for (size_t i = 0; bdir && i < nk; i++) {
        char *dst = join(s->dir, k[i].name), *old = join(bdir, k[i].name);
        struct stat sb;
        if (dst && old && k[i].moved && lstat(old, &sb) == 0)
            rename(old, dst);
        free(dst);
        free(old);
    }
    free(bdir);
}

static void free_kept(kept *k, size_t n) {
    for (size_t i = 0; k && i < n; i++)
        free(k[i].name);
    free(k);
}

/* Moves the members in, the output itself last (order: sidecars as listed,
 * then the output), so m is reordered into that order first. */
static rp_status move_all(rp_stage *s, member *m, size_t n, size_t *nmoved, rp_error *err) {
    for (size_t i = 0; i + 1 < n; i++)
        if (m[i].kind == MEMBER_OUTPUT) {
            member t = m[i];
            m[i] = m[n - 1];
            m[n - 1] = t;
        }
    rp_status st = RP_OK;
    for (*nmoved = 0; st == RP_OK && *nmoved < n; ++*nmoved) {
        if (m[*nmoved].kind == MEMBER_NESTED)
            continue;
        if (m[*nmoved].kind == MEMBER_OUTPUT)
            drop_old_sidecars(s, m, n);
        st = move_member(s, m[*nmoved].name, err);
        if (st != RP_OK)
            break;
    }
    return st;
}

static rp_status commit_members(rp_stage *s, member *m, size_t n, const char *const *old,
                                size_t nold, rp_error *err) {
    bool has_output = false;
    for (size_t i = 0; i < n; i++)
        has_output = has_output || m[i].kind == MEMBER_OUTPUT;
    if (!has_output)
        return rp_error_set(err, RP_WRITE, "%s: the writer made no file", s->final_path);
    rp_status st = sync_members(s, m, n, err);
    /* from here to the end of the moves a signal-time cleanup
     * (stage_registry.c) waits: the old files may be in the stage's folder */
    if (st != RP_OK)
        return st;
    if (!rp_stage_registry_begin_move(s->slot))
        return rp_error_set(err, RP_INTERRUPTED, "%s: interrupted", s->final_path);
    kept *k = NULL;
    size_t nk = 0, nmoved = 0;
    if (nold)
        st = keep_old(s, m, n, old, nold, &k, &nk, err);
    if (st == RP_OK)
        st = move_all(s, m, n, &nmoved, err);
    if (st != RP_OK) {
        put_back(s, m, nold ? nmoved : 0, k, nk);
        free_kept(k, nk);
        rp_stage_registry_end_move(s->slot);
        return st;
    }
    for (size_t i = 0; i < nk; i++) /* old files the new output has no name for */
        if (!k[i].is_new) {
            char *path = join(s->dir, k[i].name);
            if (path && !k[i].moved)
                unlink(path);
            free(path);
        }
    free_kept(k, nk);
    rp_stage_registry_end_move(s->slot);
    remove_tree(s->stage_dir); /* empty, the old files kept, or a writer's own stage */
    s->finished = true;
    rp_stage_registry_remove(s->slot);
    s->slot = -1;
    return rp_stage_sync_folder_of(s->final_path, err);
}

rp_status rp_stage_commit_replacing(rp_stage *stage, const char *const *old_files, size_t nold,
                                    rp_error *err) {
    if (stage->finished)
        return rp_error_set(err, RP_INTERNAL, "%s: staged output already ended", stage->final_path);
    member *m;
    size_t n;
    if (!list_members(stage, &m, &n))
        return rp_error_set(err, RP_WRITE, "%s: cannot read the folder %s: %s", stage->final_path,
                            stage->stage_dir, strerror(errno));
    rp_status st = commit_members(stage, m, n, old_files, nold, err);
    free_members(m, n);
    return st;
}

rp_status rp_stage_commit(rp_stage *stage, rp_error *err) {
    return rp_stage_commit_replacing(stage, NULL, 0, err);
}

void rp_stage_abort(rp_stage *stage) {
    if (!stage || stage->finished)
        return;
    remove_tree(stage->stage_dir);
    stage->finished = true;
    rp_stage_registry_remove(stage->slot);
    stage->slot = -1;
}

void rp_stage_free(rp_stage *stage) {
    if (!stage)
        return;
    if (stage->stage_dir)
        rp_stage_abort(stage);
    free(stage->dir);
    free(stage->final_path);
    free(stage->final_base);
    free(stage->stage_dir);
    free(stage->temp_path);
    free(stage);
}

/* ---- sweeping and syncing ------------------------------------------------- */

/* Does a hidden name record a pid (".rp-tmp-PID-") of a process that is gone? */
static bool owner_is_gone(const char *name) {
    if (name[0] != '.')
        return false;
    for (const char *mark = strstr(name, TEMP_MARK); mark; mark = strstr(mark + 1, TEMP_MARK)) {
        char *end;
        long pid = strtol(mark + strlen(TEMP_MARK), &end, 10);
        if (pid <= 0 || *end != '-' || end == mark + strlen(TEMP_MARK))
            continue;
        if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            return true;
    }
    return false;
}

size_t rp_stage_sweep(const char *dir) {
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t removed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!owner_is_gone(e->d_name))
            continue;
        char *path = join(dir, e->d_name);
        if (path) {
            remove_tree(path);
            struct stat sb;
            removed += lstat(path, &sb) != 0;
        }
        free(path);
    }
    closedir(d);
    return removed;
}

rp_status rp_stage_sync_folder_of(const char *path, rp_error *err) {
    char *dir = rp_path_folder(path);
    if (!dir)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    rp_status st = RP_OK;
    if (sync_one(dir, true) != 0)
        st = rp_error_set(err, RP_WRITE, "cannot sync the folder %s: %s", dir, strerror(errno));
    free(dir);
    return st;
}
