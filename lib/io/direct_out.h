/*
 * direct_out.h — one ordered stream of output bytes written to a regular
 * file with O_DIRECT (past the page cache) in aligned chunks, or through
 * the caller's FILE* where that cannot be done.
 */
#ifndef RP_DIRECT_OUT_H
#define RP_DIRECT_OUT_H
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The alignment of a direct write's buffer, length and file offset (4096
 * covers 512- and 4096-byte sectors), the bytes of one write, and the
 * buffers of the stream: one being filled, the others full and waiting
 * for the chunk writer (or free). */
#define RP_DIRECT_ALIGN 4096
#define RP_DIRECT_CHUNK ((size_t)4 << 20)
#define RP_DIRECT_BUFFERS 4

typedef struct rp_direct_out {
    FILE *out;                     /* the caller's stream: used when `direct` is off */
    int fd;                        /* fileno(out) while direct */
    int fd_flags;                  /* its flags before O_DIRECT was set */
    bool direct;                   /* writing with O_DIRECT */
    char *buf;                     /* RP_DIRECT_CHUNK bytes, aligned: being filled */
    size_t len;                    /* bytes in buf not yet written */
    int (*keep_going)(void *user); /* asked after a signal interrupts a write */
    void *user;
    /* the chunk writer's thread (direct_out.c): full chunks are written
     * there, in order, while the caller fills the next buffer */
    char *ring[RP_DIRECT_BUFFERS]; /* ring[filling] is buf; the `queued` before it are full */
    size_t filling;
    pthread_t writer;
    bool has_writer;       /* the thread runs */
    bool no_writer;        /* it could not be started: chunks written in place */
    pthread_mutex_t lock;  /* guards the four below */
    pthread_cond_t change; /* a chunk handed over, written, or the end */
    size_t queued;         /* full chunks handed over, not yet written */
    bool stop;             /* the thread ends once idle */
    int result;            /* the first failed write's: -1, errno in result_errno */
    int result_errno;
} rp_direct_out;

/* Starts the stream on out. Direct when may_direct (the caller's own file:
 * never a descriptor it shares, such as standard output, whose open file
 * would keep O_DIRECT for later writers if the process died mid-stream),
 * out is a regular file opened for
 * writing without O_APPEND, its position (after flushing out) is a
 * multiple of RP_DIRECT_ALIGN, the file system is a local disk's (ext4,
 * XFS, Btrfs, F2FS; any other only with RASTERPOOL_DIRECT_WRITE=1) and takes
 * O_DIRECT, and RASTERPOOL_DIRECT_WRITE is not "0"; else every write goes to out as
 * rp_fwrite_full's. Never fails: a stream that cannot be direct is not. */
void rp_direct_out_begin(rp_direct_out *d, FILE *out, bool may_direct,
                         int (*keep_going)(void *user), void *user);

/* Appends len bytes to the stream. Returns 0; -1 on a write error (errno
 * set; a direct chunk's error shows at the next full chunk or at the end);
 * 1 when keep_going said stop after a signal. */
int rp_direct_out_write(rp_direct_out *d, const void *data, size_t len);

/* With write_rest, writes what is left (the last, unaligned bytes without
 * O_DIRECT); either way gives the descriptor its flags back and releases
 * the buffer. Returns as rp_direct_out_write (0 without write_rest). */
int rp_direct_out_end(rp_direct_out *d, bool write_rest);

#endif
