/*
 * memhint.c — transparent huge pages for the per-point arrays, on request.
 *
 * At millions of points the arrays (coordinates, the plan's cells and
 * order, the value columns) are hundreds of MB of fresh memory, and the
 * first write to each 4 KiB page is a page fault: 124,000 of them for 10M
 * points. Where the kernel gives huge pages only on request
 * (transparent_hugepage = madvise, the Debian default),
 * madvise(MADV_HUGEPAGE) over an array before it is written makes that
 * 2 MiB a fault. Only the 2 MiB-aligned inside of an array is advised, so
 * nothing outside it changes; memory use does not grow, as these arrays
 * are written whole.
 *
 * Off unless RASTERPOOL_HUGE_PAGES=1. Fewer faults is not less time
 * everywhere: on the virtual machine of bench/ (which hands free memory
 * back to its host), a huge page is taken from the free 2 MiB blocks the
 * host has reclaimed, and the first touch of one costs 1.6-2.2 ns a byte
 * against 0.4 ns for 4 KiB pages, which come from memory freed moments
 * ago (400 MB touched once: 0.69-0.94 s against 0.17 s). A 10M-point
 * extract took 1.42 s with the hint against 1.28 s without when runs were
 * 1.5 s apart (system time 0.63 against 0.35 s), and 1.31 against 1.24 s
 * back to back (medians of 5 and 7 alternating runs). On a machine whose free
 * memory stays its own, huge pages save the faults: hence the switch.
 *
 * Threads: any; the switch is read once (pthread_once).
 */
#include "memhint.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

enum { HUGE_PAGE = 2 << 20 };

static pthread_once_t switch_once = PTHREAD_ONCE_INIT;
static int huge_wanted;

static void read_switch(void) {
    const char *env = getenv("RASTERPOOL_HUGE_PAGES");
    huge_wanted = env && strcmp(env, "1") == 0;
}

void rp_hint_huge(void *p, size_t bytes) {
#ifdef MADV_HUGEPAGE
    if (!p || bytes < 2 * (size_t)HUGE_PAGE)
        return;
    pthread_once(&switch_once, read_switch);
    if (!huge_wanted)
        return;
    uintptr_t begin = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    uintptr_t end = ((uintptr_t)p + bytes) & ~(uintptr_t)(HUGE_PAGE - 1);
    if (end > begin)
        (void)madvise((void *)begin, end - begin, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}
