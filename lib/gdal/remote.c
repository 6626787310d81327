/*
 * remote.c — recognising remote rasters and tuning GDAL's network reads.
 *
 * Remote reads cost round trips, not CPU: the jobs keep many reads in
 * flight (that policy is each job's own: extract/extract_exec.c), and this
 * module sets GDAL's options for this kind of work: no directory listing when a
 * remote file is opened (which also stops probing for sidecar files;
 * rp_remote_open), retries with backoff on 429/5xx, keep-alive connections,
 * HTTP/2 multiplexing where the server offers it, and timeouts so that a
 * stalled server fails a block instead of hanging the job.
 *
 * GDAL gives up at once on a connection reset or timed out on the way (it
 * retries only HTTP 429/5xx answers): rasterpool retries remote opens and
 * block reads that failed without an HTTP answer itself, RP_REMOTE_RETRIES
 * times with a doubling delay, after clearing what GDAL remembers of the
 * failed file.
 *
 * Threads: options are set thread-locally (CPLSetThreadLocalConfigOption)
 * on each thread that reads, and only when the user has set no value of
 * their own: the library never changes process-wide GDAL settings. A
 * thread-local flag array remembers which keys this thread set, so that
 * unsetting removes only ours.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cpl_conv.h>
#include <cpl_vsi.h>
#include <gdal.h>

#include "gdal_errors.h"
#include "remote.h"

const char *const rp_remote_defaults[] = {
    /* GDAL retries 429, 500, 502, 503 and 504 answers and dropped
     * connections, doubling the delay each time */
    "GDAL_HTTP_MAX_RETRY",
    "5",
    "GDAL_HTTP_RETRY_DELAY",
    "0.5",
    /* reuse connections; several requests on one HTTP/2 connection */
    "GDAL_HTTP_TCP_KEEPALIVE",
    "YES",
    "GDAL_HTTP_MULTIPLEX",
    "YES",
    /* a stalled server fails the block (after the retries), not the job */
    "GDAL_HTTP_CONNECTTIMEOUT",
    "15",
    "GDAL_HTTP_TIMEOUT",
    "60",
    /* a server that stops sending (accepts and never answers, or drips a
     * byte a minute) fails the request after 10 s under 1 byte/s, however
     * long the total timeout */
    "GDAL_HTTP_LOW_SPEED_TIME",
    "10",
    "GDAL_HTTP_LOW_SPEED_LIMIT",
    "1",
    NULL,
    NULL,
};

enum { NDEFAULTS = sizeof rp_remote_defaults / sizeof rp_remote_defaults[0] / 2 - 1 };

static _Thread_local unsigned char set_by_us[NDEFAULTS];

static bool starts_with(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool is_url(const char *s) {
    return starts_with(s, "http://") || starts_with(s, "https://") || starts_with(s, "ftp://") ||
           starts_with(s, "HTTP://") || starts_with(s, "HTTPS://");
}

bool rp_path_is_remote(const char *path) {
    static const char *const networked[] = {"/vsicurl/",
                                            "/vsicurl?",
                                            "/vsis3/",
                                            "/vsigs/",
                                            "/vsiaz/",
                                            "/vsiadls/",
                                            "/vsioss/",
                                            "/vsiswift/",
                                            "/vsiwebhdfs/",
                                            "/vsicurl_streaming/",
                                            "/vsis3_streaming/",
                                            "/vsigs_streaming/",
                                            "/vsiaz_streaming/",
                                            "/vsioss_streaming/",
                                            "/vsiswift_streaming/",
                                            NULL};
    if (!path)
        return false;
    if (is_url(path))
        return true;
    /* a chain such as /vsizip//vsicurl/http://... is remote too */
    for (int i = 0; networked[i]; i++)
        if (strstr(path, networked[i]))
            return true;
    return false;
}

char *rp_remote_gdal_path(const char *path) {
    if (!is_url(path))
        return strdup(path);
    size_t n = strlen(path);
    char *s = malloc(n + sizeof "/vsicurl/");
    if (s) {
        memcpy(s, "/vsicurl/", sizeof "/vsicurl/" - 1);
        memcpy(s + sizeof "/vsicurl/" - 1, path, n + 1);
    }
    return s;
}

void rp_remote_apply_defaults(bool set) {
    for (int i = 0; i < NDEFAULTS; i++) {
        const char *key = rp_remote_defaults[2 * i];
        if (set && !set_by_us[i] && CPLGetConfigOption(key, NULL) == NULL) {
            CPLSetThreadLocalConfigOption(key, rp_remote_defaults[2 * i + 1]);
            set_by_us[i] = 1;
        } else if (!set && set_by_us[i]) {
            CPLSetThreadLocalConfigOption(key, NULL);
            set_by_us[i] = 0;
        }
    }
}

/* The HTTP status in a GDAL network message ("HTTP error code: 503 - URL",
 * "HTTP response code: 404", "HTTP response code on URL: 0"); 0 when there
 * was no answer, -1 when the message has none. */
static int http_status(const char *msg) {
    if (!strstr(msg, "HTTP error code") && !strstr(msg, "HTTP response code"))
        return -1;
    for (const char *p = strstr(msg, ": "); p; p = strstr(p + 1, ": "))
        if (p[2] >= '0' && p[2] <= '9')
            return atoi(p + 2);
    return -1;
}

bool rp_remote_timed_out(const rp_gdal_capture *cap) {
    const char *texts[] = {cap->http, cap->last};
    for (int i = 0; i < 2; i++)
        if (strstr(texts[i], "timed out") || strstr(texts[i], "too slow") ||
            strstr(texts[i], "Timeout was reached"))
            return true;
    return false;
}

/* A positive number from a GDAL option, else 0. */
static double option_seconds(const char *key) {
    const char *v = CPLGetConfigOption(key, NULL);
    double t = v ? atof(v) : 0;
    return t > 0 ? t : 0;
}

bool rp_remote_stalled(const char *path, const rp_gdal_capture *cap, double seconds) {
    if (!rp_path_is_remote(path) || http_status(cap->http) > 0)
        return false;
    if (rp_remote_timed_out(cap))
        return true;
    /* GDAL 3.6 reports a timed-out range read only at debug level: an
     * attempt that lasted the low-speed window (or the total timeout) and
     * got no answer was cut short by it */
    double low = option_seconds("GDAL_HTTP_LOW_SPEED_TIME");
    double total = option_seconds("GDAL_HTTP_TIMEOUT");
    return (low > 0 && seconds >= 0.9 * low) || (total > 0 && seconds >= 0.9 * total);
}

void rp_remote_reason(const char *path, const rp_gdal_capture *cap, bool stalled, char *buf,
                      size_t n) {
    buf[0] = '\0';
    if (!rp_path_is_remote(path) || http_status(cap->http) > 0)
        return;
    const char *t = cap->http[0] ? cap->http : cap->last;
    if (stalled)
        snprintf(buf, n,
                 "timed out: the server sent nothing for %g s (GDAL_HTTP_LOW_SPEED_TIME) or "
                 "did not finish in %g s (GDAL_HTTP_TIMEOUT)",
                 option_seconds("GDAL_HTTP_LOW_SPEED_TIME"), option_seconds("GDAL_HTTP_TIMEOUT"));
    else if (strstr(t, "resolve"))
        snprintf(buf, n, "DNS: the host name could not be resolved");
    else if (strstr(t, "refused"))
        snprintf(buf, n, "connection refused");
    else if (strstr(t, "reset") || strstr(t, "Recv failure") || strstr(t, "Send failure"))
        snprintf(buf, n, "connection reset");
    else
        snprintf(buf, n, "no HTTP answer (connection reset, closed or timed out)");
}

bool rp_remote_suspect(const char *path, const rp_gdal_capture *cap) {
    return cap->http[0] && http_status(cap->http) <= 0 && rp_path_is_remote(path);
}

bool rp_remote_retry(const char *path, const rp_gdal_capture *cap, int attempt) {
    if (attempt > RP_REMOTE_RETRIES || !rp_path_is_remote(path))
        return false;
    /* GDAL retries 429 and 5xx answers itself, and another HTTP answer
     * (404, 403, ...) is final; what it gives up on at once is a connection
     * reset or timed out on the way, which it often reports only as a
     * short read ("Cannot read TIFF header"). So: any failure of a remote
     * read that did not end with an HTTP answer. */
    if (http_status(cap->http) > 0)
        return false;
    /* a timed-out or too slow request: GDAL has retried timeouts itself,
     * and the server is stalled, not flaky; trying again would multiply
     * the wait (6 x 6 requests of the full timeout) */
    if (rp_remote_timed_out(cap))
        return false;
    /* GDAL remembers a file it failed to reach: forget it before trying again */
    VSICurlPartialClearCache(path);
    double delay = 0.1 * (double)(1 << (attempt - 1));
    struct timespec ts = {(time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9)};
    while (nanosleep(&ts, &ts) != 0)
        ;
    return true;
}

GDALDatasetH rp_remote_open(const char *path, unsigned int flags) {
    if (!rp_path_is_remote(path))
        return GDALOpenEx(path, flags, NULL, NULL, NULL);
    /* Opening a remote file must not list its folder (one request, or
     * thousands on a bucket) nor probe for .aux.xml/.ovr/.msk beside it.
     * Local files keep GDAL's default: their sidecars (masks, overviews)
     * are part of the answer. */
    bool quiet_dir = CPLGetConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", NULL) == NULL;
    if (quiet_dir)
        CPLSetThreadLocalConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR");
    GDALDatasetH ds = NULL;
    rp_gdal_capture cap;
    for (int attempt = 1;; attempt++) {
        rp_gdal_capture_push(&cap);
        ds = GDALOpenEx(path, flags, NULL, NULL, NULL);
        rp_gdal_capture_pop();
        bool suspect = ds && rp_remote_suspect(path, &cap);
        if ((ds && !suspect) || !rp_remote_retry(path, &cap, attempt))
            break;
        if (ds) /* opened, but a read failed on the way: its state may be wrong */
            GDALClose(ds);
        ds = NULL;
    }
    if (ds && rp_remote_suspect(path, &cap)) { /* out of tries: do not trust it */
        GDALClose(ds);
        ds = NULL;
        cap.count++;
        snprintf(cap.last, sizeof cap.last, "network failure while opening [%.400s]", cap.http);
    }
    if (quiet_dir)
        CPLSetThreadLocalConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", NULL);
    if (!ds && cap.count) /* hand the reason on to the caller's handler */
        CPLError(CE_Failure, CPLE_AppDefined, "%s", rp_gdal_capture_text(&cap));
    return ds;
}
