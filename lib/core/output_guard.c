/*
 * output_guard.c — is an output one of the inputs? Compared by device and
 * inode (stat follows links), so a link to an input, a hard link and any
 * spelling of its path are caught; a name that does not exist yet is no
 * input. The check runs before a job's work: writing over an input that is
 * still being read destroys it (a GeoPackage's other layers, a VRT's
 * source).
 *
 * Threads: any (no state).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "output_guard.h"

bool rp_same_file(const char *a, const char *b) {
    struct stat sa, sb;
    if (!a || !b || stat(a, &sa) != 0 || stat(b, &sb) != 0)
        return false;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

rp_status rp_check_output_not_input(const char *output, const char *const *inputs, size_t n,
                                    rp_error *err) {
    if (!output || strcmp(output, "-") == 0)
        return RP_OK;
    struct stat so;
    /* not there yet: no input; a device or FIFO (/dev/stdout, a terminal
     * that is also standard input) is written, not replaced */
    if (stat(output, &so) != 0 || !S_ISREG(so.st_mode))
        return RP_OK;
    for (size_t i = 0; i < n; i++)
        if (inputs[i] && rp_same_file(output, inputs[i]))
            return rp_error_set(err, RP_USAGE,
                                "%s: is also an input (%s); write the output elsewhere", output,
                                inputs[i]);
    return RP_OK;
}

static bool names_device(const char *path) {
    return strncmp(path, "/dev/", 5) == 0 || strncmp(path, "/proc/", 6) == 0;
}

bool rp_output_is_direct(const char *path) {
    if (!path || !*path)
        return false;
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))
        return true;
    /* /dev/stdout redirected to a regular file stats as that file: the
     * name, or a link's target, tells */
    char hop[PATH_MAX], next[PATH_MAX];
    snprintf(hop, sizeof hop, "%s", path);
    for (int i = 0; i < 40; i++) {
        if (names_device(hop))
            return true;
        ssize_t n = readlink(hop, next, sizeof next - 1);
        if (n <= 0)
            return false;
        next[n] = '\0';
        memcpy(hop, next, (size_t)n + 1);
    }
    return false;
}
