/*
 * fileio.c — whole reads and writes (see fileio.h). Sizes and offsets are
 * off_t throughout, never long: a points file over 2 GiB is read the same
 * way on a 32-bit target.
 *
 * Threads: every function is safe to call from several threads; pread keeps
 * no file position, so threads may share one descriptor.
 */
#include "fileio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int rp_pread_full(int fd, void *buf, size_t len, off_t offset) {
    char *at = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t got = pread(fd, at + done, len - done, offset + (off_t)done);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return got < 0 ? -1 : 1;
        done += (size_t)got;
    }
    return 0;
}

int rp_fwrite_full(FILE *out, const void *data, size_t len, int (*keep_going)(void *user),
                   void *user) {
    const char *at = data;
    while (len > 0) {
        errno = 0;
        size_t put = fwrite(at, 1, len, out);
        at += put;
        len -= put;
        if (len == 0)
            break;
        if (errno != EINTR) {
            if (errno == 0)
                errno = EIO; /* a stream error that set no errno */
            return -1;
        }
        clearerr(out);
        if (keep_going && !keep_going(user))
            return 1;
    }
    return 0;
}

int rp_regular_file_size(int fd, off_t *size) {
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    *size = st.st_size;
    return 0;
}

char *rp_path_folder(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (dir) {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    return dir;
}
