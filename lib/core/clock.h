/*
 * clock.h — the one clock rasterpool times things with: monotonic
 * seconds (phase timings, progress rate limits, batch timeouts).
 */
#ifndef RP_CLOCK_H
#define RP_CLOCK_H
#include <time.h>

static inline double rp_monotonic_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
