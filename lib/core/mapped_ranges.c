/*
 * mapped_ranges.c — a registry of the input files mapped into memory, so
 * that a SIGBUS handler can tell from siginfo's address which file was
 * truncated underneath a job and name it.
 *
 * Threads: a fixed array of atomic slots: adding and removing are
 * lock-free from any thread, and the lookup is async-signal-safe (atomic
 * loads only). A slot is claimed with a placeholder base, filled in, then
 * published, so a lookup never sees half a registration.
 */
#include "mapped_ranges.h"

#include <stdatomic.h>
#include <stdint.h>

typedef struct range_slot {
    _Atomic(uintptr_t) base; /* 0: free; 1: being filled in */
    _Atomic(uintptr_t) len;
    _Atomic(const char *) name;
    atomic_int kind;
} range_slot;

static range_slot slots[RP_MAPPED_RANGES];

int rp_mapped_ranges_add(const void *base, size_t len, const char *name, int kind) {
    for (int k = 0; k < RP_MAPPED_RANGES; k++) {
        uintptr_t expected = 0;
        if (atomic_compare_exchange_strong(&slots[k].base, &expected, (uintptr_t)1)) {
            atomic_store(&slots[k].len, (uintptr_t)0);
            atomic_store(&slots[k].name, name);
            atomic_store(&slots[k].kind, kind);
            atomic_store(&slots[k].len, (uintptr_t)len);
            atomic_store(&slots[k].base, (uintptr_t)base);
            return k;
        }
    }
    return -1;
}

void rp_mapped_ranges_remove(int slot) {
    if (slot >= 0 && slot < RP_MAPPED_RANGES)
        atomic_store(&slots[slot].base, (uintptr_t)0);
}

const char *rp_mapped_ranges_at(const void *addr, int *kind) {
    uintptr_t a = (uintptr_t)addr;
    for (int k = 0; k < RP_MAPPED_RANGES; k++) {
        uintptr_t base = atomic_load(&slots[k].base);
        if (base > 1 && a >= base && a - base < atomic_load(&slots[k].len)) {
            *kind = atomic_load(&slots[k].kind);
            return atomic_load(&slots[k].name);
        }
    }
    *kind = 0;
    return NULL;
}
