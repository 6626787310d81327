/*
 * points_map.c — maps a CSV points file for both passes (no copy of its
 * pages into buffers: at 10M points, 289 MB, about 0.1 CPU-s a pass),
 * and guards the mapping.
 *
 * The guard. A mapped file that another process truncates underneath makes
 * a read past its new end raise SIGBUS, which a library cannot catch for
 * its caller. So mapping is opt-in for the process (rp_map_points_files:
 * the CLI opts in and handles SIGBUS; library users get pread unless they
 * opt in too), only regular files are mapped, and every mapped range is
 * registered here so a SIGBUS handler can tell, with siginfo's address,
 * that the fault is a points file's (rp_mapped_points_at) and name it. A
 * file changed without shrinking (rewritten in place, appended to) raises
 * no signal: rp_points_check_unchanged compares its size and modification time
 * with those noted when pass 1 opened it (rp_points_note_identity), after
 * pass 1 and before and after pass 2, and fails naming the file. A file
 * replaced by rename does not matter: the mapping keeps the file it was
 * opened on. A file read with pread (not mapped: library callers by
 * default) is checked the same way by its path, since pass 2 opens it
 * again by path: a file edited in place between the passes (same rows, new
 * coordinates) or replaced would otherwise be written out with the values
 * of the points pass 1 read.
 *
 * Threads: rp_map_points_files and rp_mapped_points_at may be called from
 * any thread; the registry is a fixed array of atomic slots (lock-free, so
 * rp_mapped_points_at is async-signal-safe). A mapping belongs to its
 * rp_points (opened by pass 1 on the caller's thread, read by any worker,
 * closed by rp_points_free).
 */
#include "points_map.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rasterpool.h"

enum { MAP_SLOTS = 64 };

typedef struct map_slot {
    _Atomic(uintptr_t) base; /* 0: free */
    _Atomic(uintptr_t) len;
    _Atomic(const char *) name;
} map_slot;

static map_slot slots[MAP_SLOTS];
static atomic_int map_enabled;

struct rp_points_map {
    int fd;
    int slot; /* -1: not registered (all slots taken) */
};

void rp_map_points_files(int enable) {
    atomic_store(&map_enabled, enable != 0);
}

const char *rp_mapped_points_at(const void *addr) {
    uintptr_t a = (uintptr_t)addr;
    for (int k = 0; k < MAP_SLOTS; k++) {
        uintptr_t base = atomic_load(&slots[k].base);
        if (base && a >= base && a - base < atomic_load(&slots[k].len))
            return atomic_load(&slots[k].name);
    }
    return NULL;
}

/* A slot for [base, base + len), or -1 when all are taken. */
static int register_range(const void *base, size_t len, const char *name) {
    for (int k = 0; k < MAP_SLOTS; k++) {
        uintptr_t expected = 0;
        /* claim with a placeholder, then fill in, then publish the base */
        if (atomic_compare_exchange_strong(&slots[k].base, &expected, (uintptr_t)1)) {
            atomic_store(&slots[k].len, (uintptr_t)0);
            atomic_store(&slots[k].name, name);
            atomic_store(&slots[k].len, (uintptr_t)len);
            atomic_store(&slots[k].base, (uintptr_t)base);
            return k;
        }
    }
    return -1;
}

void rp_points_map_open(rp_points *pts, int fd) {
    struct stat st;
    if (!atomic_load(&map_enabled) || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size <= 0 || (uint64_t)st.st_size > SIZE_MAX)
        return;
    struct rp_points_map *m = calloc(1, sizeof *m);
    if (!m)
        return;
    m->fd = dup(fd);
    void *text =
        m->fd < 0 ? MAP_FAILED : mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, m->fd, 0);
    if (text == MAP_FAILED) {
        if (m->fd >= 0)
            close(m->fd);
        free(m);
        return;
    }
    (void)madvise(text, (size_t)st.st_size, MADV_WILLNEED);
    /* without a slot a SIGBUS cannot be told apart: use pread instead */
    m->slot = register_range(text, (size_t)st.st_size, pts->display_name);
    if (m->slot < 0) {
        munmap(text, (size_t)st.st_size);
        close(m->fd);
        free(m);
        return;
    }
    pts->map = m;
    pts->text = text;
    pts->text_len = (uint64_t)st.st_size;
}

void rp_points_note_identity(rp_points *pts, int fd) {
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    pts->identity.known = true;
    pts->identity.dev = st.st_dev;
    pts->identity.ino = st.st_ino;
    pts->identity.size = st.st_size;
    pts->identity.mtime = st.st_mtim;
}

rp_status rp_points_check_unchanged(const rp_points *pts, const char *when, rp_error *err) {
    const rp_file_identity *id = &pts->identity;
    const struct rp_points_map *m = pts->map;
    if (!id->known || (!m && !pts->path))
        return RP_OK;
    struct stat st;
    if ((m ? fstat(m->fd, &st) : stat(pts->path, &st)) != 0)
        return rp_error_set(err, RP_READ, "%s: cannot check the points file %s: %s",
                            pts->display_name, when, strerror(errno));
    if (st.st_dev == id->dev && st.st_ino == id->ino && st.st_size == id->size &&
        st.st_mtim.tv_sec == id->mtime.tv_sec && st.st_mtim.tv_nsec == id->mtime.tv_nsec)
        return RP_OK;
    if (st.st_size != id->size)
        return rp_error_set(err, RP_READ,
                            "%s: the points file changed while being read (found %s: now %lld "
                            "bytes, was %lld); no output written: run again once it is complete",
                            pts->display_name, when, (long long)st.st_size, (long long)id->size);
    return rp_error_set(err, RP_READ,
                        "%s: the points file changed while being read (found %s: modified or "
                        "replaced in place, same size); no output written: run again once it "
                        "is complete",
                        pts->display_name, when);
}

void rp_points_map_test_hook(const rp_points *pts, const char *stage) {
    const char *want = getenv("RASTERPOOL_TEST_TRUNCATE_POINTS");
    if (!want || strcmp(want, stage) != 0 || !pts->path)
        return;
    struct stat st;
    if (stat(pts->path, &st) == 0 && truncate(pts->path, st.st_size / 2) != 0)
        (void)0; /* the test then sees no change: it fails, as it should */
}

void rp_points_map_release(const rp_points *pts, uint64_t begin, uint64_t end) {
    if (!pts->text)
        return;
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t from = (begin + page - 1) / page * page;
    uint64_t to = (end < pts->text_len ? end : pts->text_len) / page * page;
    if (from < to)
        (void)madvise((void *)(pts->text + from), (size_t)(to - from), MADV_DONTNEED);
}

void rp_points_map_close(rp_points *pts) {
    struct rp_points_map *m = pts->map;
    if (!m)
        return;
    if (m->slot >= 0)
        atomic_store(&slots[m->slot].base, (uintptr_t)0);
    munmap((void *)pts->text, (size_t)pts->text_len);
    close(m->fd);
    free(m);
    pts->map = NULL;
    pts->text = NULL;
    pts->text_len = 0;
}
