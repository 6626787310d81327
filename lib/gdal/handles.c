/*
 * handles.c — a worker's bounded LRU of open GDAL datasets.
 *
 * Each worker thread owns one cache (DESIGN.md: one GDAL handle per worker;
 * no handle crosses threads), so there is no locking. Capacity is small, so
 * lookups are a linear scan over paths with a use counter for recency; the
 * bound keeps a job over thousands of files under the open-files limit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_string.h>

#include "gdal_errors.h"
#include "handles.h"
#include "remote.h"

typedef struct handle_slot {
    char *path;
    GDALDatasetH dataset;
    uint64_t last_use;
} handle_slot;

struct rp_handles {
    int capacity;
    int used;
    uint64_t clock;
    handle_slot *slots;
};

rp_handles *rp_handles_new(int capacity) {
    rp_handles *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->capacity = capacity > 0 ? capacity : 1;
    h->slots = calloc((size_t)h->capacity, sizeof *h->slots);
    if (!h->slots) {
        free(h);
        return NULL;
    }
    return h;
}

static void close_slot(handle_slot *slot) {
    if (slot->dataset)
        GDALClose(slot->dataset);
    free(slot->path);
    memset(slot, 0, sizeof *slot);
}

void rp_handles_free(rp_handles *h) {
    if (!h)
        return;
    for (int i = 0; i < h->used; i++)
        close_slot(&h->slots[i]);
    free(h->slots);
    free(h);
}

int rp_handles_open_count(const rp_handles *h) {
    return h->used;
}

void rp_handles_drop(rp_handles *h, const char *path) {
    for (int i = 0; i < h->used; i++) {
        if (strcmp(h->slots[i].path, path) == 0) {
            close_slot(&h->slots[i]);
            h->used--;
            if (i != h->used) { /* keep the slots dense */
                h->slots[i] = h->slots[h->used];
                memset(&h->slots[h->used], 0, sizeof h->slots[h->used]);
            }
            return;
        }
    }
}

GDALDatasetH rp_handles_get(rp_handles *h, const char *path, rp_error *err) {
    h->clock++;
    for (int i = 0; i < h->used; i++) {
        if (strcmp(h->slots[i].path, path) == 0) {
            h->slots[i].last_use = h->clock;
            return h->slots[i].dataset;
        }
    }
    int victim = h->used;
    if (h->used == h->capacity) {
        victim = 0;
        for (int i = 1; i < h->used; i++)
            if (h->slots[i].last_use < h->slots[victim].last_use)
                victim = i;
        close_slot(&h->slots[victim]);
    } else {
        h->used++;
    }
    rp_gdal_capture cap;
    rp_gdal_capture_push(&cap);
    GDALDatasetH ds = rp_remote_open(path, GDAL_OF_RASTER | GDAL_OF_READONLY);
    rp_gdal_capture_pop();
    char *copy = ds ? strdup(path) : NULL;
    if (!ds || !copy) {
        if (ds)
            GDALClose(ds);
        /* keep the slots dense: move the last one into the hole */
        h->used--;
        if (victim != h->used) {
            h->slots[victim] = h->slots[h->used];
            memset(&h->slots[h->used], 0, sizeof h->slots[h->used]);
        }
        char why[768];
        if (!copy && ds)
            rp_error_set(err, RP_NOMEM, "out of memory opening %s", path);
        else
            rp_error_set(err, RP_OPEN, "%s: cannot open: %s", path,
                         rp_gdal_open_failure(path, &cap, why, sizeof why));
        return NULL;
    }
    h->slots[victim].path = copy;
    h->slots[victim].dataset = ds;
    h->slots[victim].last_use = h->clock;
    return ds;
}
