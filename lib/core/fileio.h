/*
 * fileio.h — whole reads and writes over POSIX files: reads at an offset
 * that retry short reads and signals, writes through a FILE* that retry
 * signals, and a regular file's size as off_t (large files: the build sets
 * _FILE_OFFSET_BITS=64).
 */
#ifndef RP_FILEIO_H
#define RP_FILEIO_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Reads exactly len bytes at offset of fd, retrying short reads and
 * interrupted ones (EINTR). Uses pread only, so threads may share fd.
 * Returns 0; -1 on an error (errno set); 1 when the file ends first. */
int rp_pread_full(int fd, void *buf, size_t len, off_t offset);

/* Writes all len bytes to out. When a signal interrupts the write (EINTR),
 * asks keep_going(user) (when given) whether to go on: non-zero goes on.
 * Returns 0; -1 on an error (errno set); 1 when keep_going said stop. */
int rp_fwrite_full(FILE *out, const void *data, size_t len, int (*keep_going)(void *user),
                   void *user);

/* The size of fd when it is a regular file: 0 and *size set; -1 when it is
 * not a regular file or fstat fails. */
int rp_regular_file_size(int fd, off_t *size);

/* The folder part of path ("dir/name.ext" -> "dir", "/name" -> "/",
 * "name" -> "."), malloc'ed; NULL when out of memory. */
char *rp_path_folder(const char *path);

/* After a write to path failed with a reason that does not say why
 * (SQLite's "disk I/O error", "database or disk is full", even "database
 * disk image is malformed" on a full disk): the cause, as errno's text with
 * what shows it, into buf; false when nothing explains it. hint is what
 * the writer's words imply: ENOSPC (its text says the disk is full), EIO
 * (a bare I/O error), or 0. Found, in this order: no space (hint ENOSPC,
 * or under 1 MiB left to this user on path's file system: "No space left
 * on device (N KiB left)"), no free inodes, and the file size limit (path
 * at or within 64 KiB of RLIMIT_FSIZE, or hint EIO with a finite limit:
 * "File too large (the file size limit, ulimit -f, is N bytes)"). Call it
 * before the failed output is removed (that frees the space). */
bool rp_write_failure_reason(const char *path, int hint, char *buf, size_t cap);

#endif
