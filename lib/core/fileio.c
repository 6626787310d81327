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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
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

/* path at or within 64 KiB of RLIMIT_FSIZE (or any file, with
 * any_file, when the limit is finite); *limit set when it is. */
static bool at_size_limit(const char *path, bool any_file, unsigned long long *limit) {
    struct rlimit rl;
    struct stat sb;
    if (getrlimit(RLIMIT_FSIZE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return false;
    *limit = (unsigned long long)rl.rlim_cur;
    return any_file || (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
                        (unsigned long long)sb.st_size + 65536 >= *limit);
}

bool rp_write_failure_reason(const char *path, int hint, char *buf, size_t cap) {
    char *folder = rp_path_folder(path);
    struct statvfs vfs;
    bool known = folder && statvfs(folder, &vfs) == 0 && vfs.f_blocks > 0;
    free(folder);
    unsigned long long left = known ? (unsigned long long)vfs.f_bavail * vfs.f_frsize : 0;
    unsigned long long limit = 0;
    if (known && left < (1u << 20))
        snprintf(buf, cap, "%s (%llu KiB left)", strerror(ENOSPC), left >> 10);
    else if (hint == ENOSPC)
        snprintf(buf, cap, "%s", strerror(ENOSPC));
    else if (known && vfs.f_files > 0 && vfs.f_favail == 0)
        snprintf(buf, cap, "%s (no free inodes)", strerror(ENOSPC));
    else if (at_size_limit(path, hint == EIO, &limit))
        snprintf(buf, cap, "%s (the file size limit, ulimit -f, is %llu bytes)", strerror(EFBIG),
                 limit);
    else
        return false;
    return true;
}
