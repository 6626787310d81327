/*
 * error.h — filling a caller's rp_error (first failure wins).
 */
#ifndef RP_ERROR_H
#define RP_ERROR_H
#include "rasterpool.h"

#if defined(__GNUC__)
#define RP_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define RP_PRINTF(fmt, args)
#endif

/* Records a failure in err unless one is already there (the first failure is
 * the one the user needs to see). Returns code, so callers can write
 * `return rp_error_set(err, RP_OPEN, "...")`. err may be NULL. */
rp_status rp_error_set(rp_error *err, rp_status code, const char *fmt, ...) RP_PRINTF(3, 4);

#endif
