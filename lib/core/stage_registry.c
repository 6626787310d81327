/*
 * stage_registry.c — the unfinished stage folders of this process, and
 * their removal from a signal handler (rp_remove_staged_outputs).
 *
 * Design: a fixed table of atomic pointers (one a live stage folder's path,
 * a copy the table owns) and a "moving" flag per slot. Adding and removing
 * happen on ordinary threads (strdup, free); the cleanup runs in a signal
 * handler, on any thread, possibly while other threads keep writing, so it
 * takes no lock and calls no allocator or stdio: it reads the table and
 * removes each folder with openat, getdents64, unlinkat and close, all
 * plain system calls (async-signal-safe).
 *
 * Races, and why they are harmless:
 *  - a path freed while the cleanup reads it: the cleanup sets `cleaning`
 *    before it reads any slot, and rp_stage_registry_remove frees a path
 *    only while `cleaning` is clear (sequentially consistent atomics: if the
 *    cleanup saw the pointer, the remover sees the flag). A path not freed
 *    is a leak of a process that is about to end.
 *  - a commit moving members while the cleanup removes the folder (for a
 *    multi-file output, the old files wait in the stage's folder
 *    meanwhile): Dekker's handshake. A commit sets its slot's `moving` and
 *    then reads `cleaning`; the cleanup sets `cleaning` and then reads every
 *    `moving`. At least one sees the other: the commit then moves nothing
 *    (its stage is aborted), or the cleanup backs off (returns -1, clears
 *    `cleaning`) and the caller tries again a moment later.
 *  - a writer thread still creating files in a folder being removed: each
 *    folder is read again until it is empty (a few passes); a file made
 *    after the folder is gone cannot be made (its folder is gone).
 *
 * Threads: any; no lock. Ownership: the table owns its copies of the paths.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rasterpool.h"
#include "stage_registry.h"

enum {
    RP_STAGE_SLOTS = 1024, /* live stages at once (a batch has one a worker) */
    MAX_DEPTH = 6,         /* stage/.rp-old/..., stage/.writer-stage/...: 3 at most */
    PASSES = 4,            /* rereadings of a folder that is still not empty */
};

static _Atomic(char *) slots[RP_STAGE_SLOTS];
static atomic_int moving[RP_STAGE_SLOTS];
static atomic_bool cleaning;

int rp_stage_registry_add(const char *stage_dir) {
    char *copy = strdup(stage_dir);
    if (!copy)
        return -1;
    for (int i = 0; i < RP_STAGE_SLOTS; i++) {
        char *expected = NULL;
        if (atomic_compare_exchange_strong(&slots[i], &expected, copy))
            return i;
    }
    free(copy);
    return -1;
}

void rp_stage_registry_remove(int slot) {
    if (slot < 0 || slot >= RP_STAGE_SLOTS)
        return;
    char *path = atomic_exchange(&slots[slot], NULL);
    if (!atomic_load(&cleaning)) /* else the cleanup may be reading it: leave it */
        free(path);
}

bool rp_stage_registry_begin_move(int slot) {
    if (slot < 0 || slot >= RP_STAGE_SLOTS)
        return true;
    atomic_fetch_add(&moving[slot], 1);
    if (!atomic_load(&cleaning))
        return true;
    atomic_fetch_sub(&moving[slot], 1);
    return false;
}

void rp_stage_registry_end_move(int slot) {
    if (slot >= 0 && slot < RP_STAGE_SLOTS)
        atomic_fetch_sub(&moving[slot], 1);
}

/* ---- removal from a signal handler ----------------------------------------- */

/* One record of getdents64 (the kernel's struct linux_dirent64). */
typedef struct raw_dirent {
    uint64_t ino;
    int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[];
} raw_dirent;

static int is_dot(const char *name) {
    return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/* Removes name (relative to the folder open as parent) and, for a folder,
 * everything in it. Async-signal-safe: system calls only, 1 KiB of stack a
 * level. */
static void remove_at(int parent, const char *name, int depth) {
    if (unlinkat(parent, name, 0) == 0 || errno == ENOENT || depth >= MAX_DEPTH)
        return;
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    for (int pass = 0; pass < PASSES; pass++) {
        _Alignas(8) char buf[1024];
        long n;
        lseek(fd, 0, SEEK_SET);
        while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0)
            for (long off = 0; off < n;) {
                const raw_dirent *d = (const raw_dirent *)(const void *)(buf + off);
                off += d->reclen;
                if (!is_dot(d->name))
                    remove_at(fd, d->name, depth + 1);
            }
        if (unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno != ENOTEMPTY)
            break;
    }
    close(fd);
}

RP_API int rp_remove_staged_outputs(void) {
    int saved = errno; /* a signal handler must leave errno as it was */
    atomic_store(&cleaning, true);
    for (int i = 0; i < RP_STAGE_SLOTS; i++)
        if (atomic_load(&moving[i]) > 0) {
            atomic_store(&cleaning, false);
            errno = saved;
            return -1;
        }
    int removed = 0;
    for (int i = 0; i < RP_STAGE_SLOTS; i++) {
        const char *path = atomic_load(&slots[i]);
        if (path) {
            remove_at(AT_FDCWD, path, 0);
            removed++;
        }
    }
    errno = saved;
    return removed;
}
