/*
 * gdal_errors.c — capture GDAL's error messages on one thread.
 *
 * GDAL's CPLPushErrorHandlerEx stack is thread-local, so every worker pushes
 * its own capture around its reads and no message crosses threads. The
 * library never installs a process-wide handler (the CLI decides that).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cpl_error.h>

#include "gdal_errors.h"
#include "remote.h"

static void copy_message(char *dst, size_t cap, const char *msg) {
    size_t n = strlen(msg);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, msg, n);
    dst[n] = '\0';
    /* GDAL messages sometimes end with a newline; one line reads better. */
    while (n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == '\r'))
        dst[--n] = '\0';
}

static void CPL_STDCALL capture_handler(CPLErr level, CPLErrorNum num, const char *msg) {
    (void)num;
    rp_gdal_capture *cap = CPLGetErrorHandlerUserData();
    if (!cap || !msg)
        return;
    bool network = strstr(msg, "HTTP") || strstr(msg, "CURL") || strstr(msg, "curl");
    if (network)
        copy_message(cap->http, sizeof cap->http, msg);
    if (level < CE_Failure)
        return;
    if (cap->count == 0)
        copy_message(cap->first, sizeof cap->first, msg);
    if (cap->http[0] && !network)
        snprintf(cap->last, sizeof cap->last, "%.250s [%.250s]", msg, cap->http);
    else
        copy_message(cap->last, sizeof cap->last, msg);
    cap->count++;
    /* the first failure leads, unless it is the network message the last
     * one already carries, or the same text */
    bool first_too = cap->count > 1 && strcmp(cap->first, cap->http) != 0 &&
                     strncmp(cap->first, cap->last, strlen(cap->first)) != 0;
    if (first_too)
        snprintf(cap->text, sizeof cap->text, "%s; %s", cap->first, cap->last);
    else
        snprintf(cap->text, sizeof cap->text, "%s", cap->last);
}

void rp_gdal_capture_reset(rp_gdal_capture *cap) {
    cap->count = 0;
    cap->first[0] = '\0';
    cap->last[0] = '\0';
    cap->http[0] = '\0';
    cap->text[0] = '\0';
}

void rp_gdal_capture_push(rp_gdal_capture *cap) {
    rp_gdal_capture_reset(cap);
    CPLPushErrorHandlerEx(capture_handler, cap);
}

void rp_gdal_capture_pop(void) {
    CPLPopErrorHandler();
}

const char *rp_gdal_capture_text(const rp_gdal_capture *cap) {
    return cap->count ? cap->text : "";
}

const char *rp_gdal_open_failure(const char *path, const rp_gdal_capture *cap, char *buf,
                                 size_t n) {
    const char *gdal = cap->count ? rp_gdal_capture_text(cap) : NULL;
    /* GDAL says "not recognized as a supported file format" when it could
     * not open the file at all (the folder's descriptors ran out, or the
     * file is missing): ask the system. Local paths only; /vsi paths and
     * URLs are GDAL's to explain. */
    if (strncmp(path, "/vsi", 4) != 0 && !strstr(path, "://")) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            if (gdal)
                snprintf(buf, n, "%s [GDAL: %s]", strerror(e), gdal);
            else
                snprintf(buf, n, "%s", strerror(e));
            return buf;
        }
        close(fd);
    }
    /* a remote path that got no HTTP answer: the reason in words first
     * (DNS, connection refused or reset), as for a failed block */
    if (gdal && rp_remote_suspect(path, cap)) {
        char reason[160];
        rp_remote_reason(path, cap, false, reason, sizeof reason);
        if (reason[0]) {
            snprintf(buf, n, "%s [GDAL: %s]", reason, gdal);
            return buf;
        }
    }
    snprintf(buf, n, "%s", gdal ? gdal : "not a raster GDAL can read");
    return buf;
}
