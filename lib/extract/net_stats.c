/*
 * net_stats.c — the HTTP requests a job made, for the -v summary: GDAL's
 * own network statistics (/vsicurl/ and the other network file systems
 * count every GET and HEAD they send), turned on and reset when a verbose
 * job starts and read when it ends.
 *
 * Threads: the caller's. GDAL's counters are process-wide: two verbose jobs
 * running at once in one process count each other's requests too, and the
 * statistics stay on for the process once a verbose job has turned them on
 * (GDAL reads CPL_VSIL_NETWORK_STATS_ENABLED once, at the first request).
 * The counts of runs read are rasterpool's own, process-wide the same way
 * (atomics: the readers' workers add to them).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_vsi.h>

#include "net_stats.h"

static atomic_uint_least64_t runs_read, runs_in_place;

void rp_net_stats_count_run(bool in_place) {
    atomic_fetch_add(&runs_read, 1);
    if (in_place)
        atomic_fetch_add(&runs_in_place, 1);
}

void rp_net_stats_begin(void) {
    atomic_store(&runs_read, 0);
    atomic_store(&runs_in_place, 0);
    if (!CPLGetConfigOption("CPL_VSIL_NETWORK_STATS_ENABLED", NULL))
        CPLSetConfigOption("CPL_VSIL_NETWORK_STATS_ENABLED", "YES");
    VSINetworkStatsReset();
}

/* The number after "key": inside the object that starts at `from`, before
 * `end`; 0 when absent. */
static uint64_t json_number(const char *from, const char *end, const char *key) {
    const char *p = strstr(from, key);
    if (!p || (end && p > end))
        return 0;
    p = strchr(p + strlen(key), ':');
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

bool rp_net_stats_read(rp_net_stats *st) {
    memset(st, 0, sizeof *st);
    st->runs = atomic_load(&runs_read);
    st->runs_in_place = atomic_load(&runs_in_place);
    char *json = VSINetworkStatsGetAsSerializedJSON(NULL);
    if (!json)
        return false;
    /* the first "methods" object is the total over every handler and file:
     * {"methods":{"HEAD":{"count":1},"GET":{"count":2,"downloaded_bytes":N}},
     *  "handlers":{...}} */
    const char *methods = strstr(json, "\"methods\"");
    const char *handlers = methods ? strstr(methods, "\"handlers\"") : NULL;
    if (methods) {
        const char *get = strstr(methods, "\"GET\"");
        const char *head = strstr(methods, "\"HEAD\"");
        if (get && (!handlers || get < handlers)) {
            /* GET's object ends at its first '}' */
            const char *close = strchr(get, '}');
            st->get = json_number(get, close, "\"count\"");
            st->bytes = json_number(get, close, "\"downloaded_bytes\"");
        }
        if (head && (!handlers || head < handlers))
            st->head = json_number(head, strchr(head, '}'), "\"count\"");
    }
    VSIFree(json);
    return true;
}
