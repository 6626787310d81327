/*
 * direct_out.c — the CSV writer's ordered byte stream, written past the
 * page cache.
 *
 * Why: a buffered write(2) copies every output byte into fresh page-cache
 * pages, CPU work in the writing thread (on the 2-CPU VM of bench/, 384 MB
 * took 0.12 to 1.1 s of system time; most of the 10M-point write phase).
 * With O_DIRECT the device (or the host) reads the bytes from our buffer:
 * the same 384 MB took 0.04 s of system time, and the thread sleeps in the
 * write instead of competing with the formatting threads.
 *
 * The design: bytes are appended to one aligned buffer of RP_DIRECT_CHUNK
 * bytes; each full buffer is one write(2) at an aligned offset. The last
 * bytes (under one chunk, any length) are written at the end with
 * O_DIRECT cleared. A file system that refuses O_DIRECT (fcntl or the
 * first write fails with EINVAL) gets the same bytes at the same offset
 * without it: the output never depends on the path taken. The file's
 * contents are the same either way; only where they are cached differs
 * (after a direct write, a reader of the output reads it from the device).
 *
 * A full chunk is handed to a thread of the stream's own, which writes it
 * while the caller fills the next buffer of a ring of RP_DIRECT_BUFFERS:
 * the formatting threads no longer sleep in the device's write (about 2.5
 * ms a chunk; at 10M points, 92 chunks). The thread writes the chunks in
 * order, one at a time; the caller waits for it only when every other
 * buffer still holds a chunk to write. Output comes in bursts (pass 2
 * hands over one formatted slice of several chunks at a time): with two
 * buffers the caller, a formatting thread, waited at every burst while
 * the writer then sat idle until the next (at 10M points: the caller
 * waiting 0.08-0.14 s, the writer idle 0.07-0.14 s of a 0.3 s phase).
 * The thread blocks every signal (a disk write is not interrupted, and the
 * caller's threads keep taking them); a failed chunk write is returned by
 * the next hand-over or by the end. When
 * the thread or its buffers cannot be had, chunks are written on the
 * caller's thread as before: the same bytes either way.
 *
 * Threads: one caller at a time (the caller's ordering) plus the chunk
 * writer; `lock` guards the hand-over (queued, stop, result); the
 * descriptor's O_DIRECT flag changes only on the writer's side while it
 * runs (after it is joined, on the caller's).
 * Ownership: the buffers and the thread are the stream's, freed and joined
 * by rp_direct_out_end; the FILE* and its descriptor stay the caller's.
 */
#define _GNU_SOURCE
#include "direct_out.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "fileio.h"

/* O_DIRECT on or off for the stream's descriptor; false when fcntl fails. */
static bool set_direct(rp_direct_out *d, bool on) {
    int flags = on ? d->fd_flags | O_DIRECT : d->fd_flags & ~O_DIRECT;
    if (fcntl(d->fd, F_SETFL, flags) != 0)
        return false;
    d->direct = on;
    return true;
}

/* A local disk file system whose O_DIRECT is the plain one (ext2/3/4,
 * XFS, Btrfs, F2FS). Elsewhere (NFS, Lustre, CIFS, FUSE, overlay, ZFS,
 * tmpfs) O_DIRECT means other things, from uncached synchronous network
 * writes to nothing at all: those get buffered writes unless
 * RASTERPOOL_DIRECT_WRITE=1 asks for direct ones. */
static bool local_disk_fs(int fd) {
    static const unsigned long kinds[] = {0xEF53UL, 0x58465342UL, 0x9123683EUL, 0xF2F52010UL};
    struct statfs fs;
    if (fstatfs(fd, &fs) != 0)
        return false;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if ((unsigned long)fs.f_type == kinds[i])
            return true;
    return false;
}

/* Whether fd can take the stream's direct writes (see direct_out.h). */
static bool direct_possible(FILE *out, int *fd, int *flags) {
    const char *env = getenv("RASTERPOOL_DIRECT_WRITE");
    if (env && strcmp(env, "0") == 0)
        return false;
    bool forced = env && strcmp(env, "1") == 0;
    if (fflush(out) != 0)
        return false;
    *fd = fileno(out);
    struct stat st;
    if (*fd < 0 || fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    if (!forced && !local_disk_fs(*fd))
        return false;
    *flags = fcntl(*fd, F_GETFL);
    if (*flags < 0 || (*flags & O_APPEND) || (*flags & O_ACCMODE) == O_RDONLY)
        return false;
    off_t at = lseek(*fd, 0, SEEK_CUR);
    return at >= 0 && at % RP_DIRECT_ALIGN == 0;
}

void rp_direct_out_begin(rp_direct_out *d, FILE *out, bool may_direct,
                         int (*keep_going)(void *user), void *user) {
    memset(d, 0, sizeof *d);
    d->out = out;
    d->fd = -1;
    d->keep_going = keep_going;
    d->user = user;
    int fd, flags;
    if (!may_direct || !direct_possible(out, &fd, &flags))
        return;
    void *buf = NULL;
    if (posix_memalign(&buf, RP_DIRECT_ALIGN, RP_DIRECT_CHUNK) != 0)
        return;
    d->fd = fd;
    d->fd_flags = flags & ~O_DIRECT;
    if (!set_direct(d, true)) {
        free(buf);
        d->fd = -1;
        return;
    }
    d->buf = buf;
    d->ring[0] = buf;
}

/* Writes n bytes of p at the descriptor's position. A direct write the
 * file refuses (EINVAL: alignment or a file system without O_DIRECT) is
 * done again without O_DIRECT, as are the rest of the stream's. After a
 * signal, keep_going is asked when ask (the caller's thread), else the
 * write goes on. */
static int write_fd(rp_direct_out *d, const char *p, size_t n, bool ask) {
    while (n > 0) {
        ssize_t put = write(d->fd, p, n);
        if (put > 0) {
            p += put;
            n -= (size_t)put;
            continue;
        }
        if (put < 0 && errno == EINVAL && d->direct) {
            if (!set_direct(d, false))
                return -1;
            continue;
        }
        if (put < 0 && errno == EINTR) {
            if (ask && d->keep_going && !d->keep_going(d->user))
                return 1;
            continue;
        }
        if (put == 0)
            errno = EIO;
        return -1;
    }
    return 0;
}

/* The chunk writer's thread: each chunk handed over, in order, until told
 * to stop; after a failure the later chunks are dropped. */
static void *chunk_writer(void *vd) {
    rp_direct_out *d = vd;
    size_t next = 0; /* the ring's oldest full chunk */
    pthread_mutex_lock(&d->lock);
    for (;;) {
        while (!d->queued && !d->stop)
            pthread_cond_wait(&d->change, &d->lock);
        if (!d->queued)
            break;
        bool failed = d->result != 0;
        const char *chunk = d->ring[next];
        pthread_mutex_unlock(&d->lock);
        int rc = failed ? 0 : write_fd(d, chunk, RP_DIRECT_CHUNK, false);
        int saved = errno;
        pthread_mutex_lock(&d->lock);
        if (rc != 0) {
            d->result = -1;
            d->result_errno = saved;
        }
        next = (next + 1) % RP_DIRECT_BUFFERS;
        d->queued--;
        pthread_cond_broadcast(&d->change);
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

static void free_spares(rp_direct_out *d) {
    for (size_t k = 1; k < RP_DIRECT_BUFFERS; k++) {
        free(d->ring[k]);
        d->ring[k] = NULL;
    }
}

/* Starts the chunk writer (with the ring's other buffers); false when it
 * cannot be had (the chunks are then written on the caller's thread). */
static bool start_writer(rp_direct_out *d) {
    for (size_t k = 1; k < RP_DIRECT_BUFFERS; k++) {
        void *spare = NULL;
        if (posix_memalign(&spare, RP_DIRECT_ALIGN, RP_DIRECT_CHUNK) != 0) {
            free_spares(d);
            return false;
        }
        d->ring[k] = spare;
    }
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->change, NULL);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old); /* the thread starts with all blocked */
    int rc = pthread_create(&d->writer, NULL, chunk_writer, d);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&d->change);
        pthread_mutex_destroy(&d->lock);
        free_spares(d);
        return false;
    }
    d->has_writer = true;
    return true;
}

/* The full buffer to the chunk writer (the next free one of the ring
 * becomes the one filled; the caller waits only when every other buffer
 * still holds a chunk to write), or written here when there is no writer.
 * Returns as rp_direct_out_write. */
static int hand_over(rp_direct_out *d) {
    if (!d->has_writer && (d->no_writer || !start_writer(d))) {
        d->no_writer = true;
        int rc = write_fd(d, d->buf, d->len, true);
        if (rc == 0)
            d->len = 0;
        return rc;
    }
    pthread_mutex_lock(&d->lock);
    while (d->queued == RP_DIRECT_BUFFERS - 1 && d->result == 0)
        pthread_cond_wait(&d->change, &d->lock);
    int rc = d->result;
    if (rc == 0) {
        d->queued++;
        d->filling = (d->filling + 1) % RP_DIRECT_BUFFERS;
        d->buf = d->ring[d->filling];
        pthread_cond_broadcast(&d->change);
    } else {
        errno = d->result_errno;
    }
    pthread_mutex_unlock(&d->lock);
    if (rc == 0)
        d->len = 0;
    return rc;
}

/* Waits for the chunks in flight, ends the writer's thread; returns its
 * result (errno set on -1). */
static int stop_writer(rp_direct_out *d) {
    if (!d->has_writer)
        return 0;
    pthread_mutex_lock(&d->lock);
    d->stop = true;
    pthread_cond_broadcast(&d->change);
    pthread_mutex_unlock(&d->lock);
    pthread_join(d->writer, NULL);
    d->has_writer = false;
    pthread_cond_destroy(&d->change);
    pthread_mutex_destroy(&d->lock);
    if (d->result != 0)
        errno = d->result_errno;
    return d->result;
}

int rp_direct_out_write(rp_direct_out *d, const void *data, size_t len) {
    if (d->fd < 0)
        return rp_fwrite_full(d->out, data, len, d->keep_going, d->user);
    const char *at = data;
    while (len > 0) {
        size_t take = RP_DIRECT_CHUNK - d->len;
        if (take > len)
            take = len;
        memcpy(d->buf + d->len, at, take);
        d->len += take;
        at += take;
        len -= take;
        if (d->len == RP_DIRECT_CHUNK) {
            int rc = hand_over(d);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

int rp_direct_out_end(rp_direct_out *d, bool write_rest) {
    int rc = 0;
    if (d->fd >= 0) {
        rc = stop_writer(d) != 0 && write_rest ? -1 : 0;
        /* the last bytes are not a whole number of sectors */
        if (rc == 0 && d->direct && !set_direct(d, false) && write_rest)
            rc = -1;
        if (rc == 0 && write_rest && d->len > 0)
            rc = write_fd(d, d->buf, d->len, true);
        if (d->direct) {
            int saved = errno;
            set_direct(d, false);
            errno = saved;
        }
    }
    for (size_t k = 0; k < RP_DIRECT_BUFFERS; k++)
        free(d->ring[k]); /* d->buf is one of them */
    memset(d->ring, 0, sizeof d->ring);
    d->buf = NULL;
    d->len = 0;
    d->fd = -1;
    return rc;
}
