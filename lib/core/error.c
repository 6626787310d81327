/*
 * error.c — status codes, their names and texts (one X-macro table in
 * rasterpool.h), and filling a caller-owned rp_error.
 *
 * Threads: stateless; each rp_error belongs to its caller.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

RP_API const char *rp_status_name(rp_status code) {
    switch (code) {
#define RP_STATUS_NAME(name, value, exitcode, text)                                                \
    case RP_##name: return #name;
        RP_STATUS_MAP(RP_STATUS_NAME)
#undef RP_STATUS_NAME
    }
    return "UNKNOWN";
}

RP_API const char *rp_status_text(rp_status code) {
    switch (code) {
#define RP_STATUS_TEXT(name, value, exitcode, text)                                                \
    case RP_##name: return text;
        RP_STATUS_MAP(RP_STATUS_TEXT)
#undef RP_STATUS_TEXT
    }
    return "unknown status";
}

RP_API int rp_status_exit_code(rp_status code) {
    switch (code) {
#define RP_STATUS_EXIT(name, value, exitcode, text)                                                \
    case RP_##name: return exitcode;
        RP_STATUS_MAP(RP_STATUS_EXIT)
#undef RP_STATUS_EXIT
    }
    return 3;
}

RP_API void rp_error_clear(rp_error *err) {
    if (!err)
        return;
    err->code = RP_OK;
    err->message[0] = '\0';
}

rp_status rp_error_set(rp_error *err, rp_status code, const char *fmt, ...) {
    if (!err || err->code != RP_OK)
        return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return code;
}

RP_API const char *rp_point_status_name(rp_point_status s) {
    switch (s) {
    case RP_POINT_OK: return "ok";
    case RP_POINT_NODATA: return "nodata";
    case RP_POINT_OUTSIDE: return "outside";
    case RP_POINT_ERROR: return "error";
    }
    return "error";
}
