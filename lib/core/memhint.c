/*
 * memhint.c — transparent huge pages for the per-point arrays.
 *
 * At millions of points the arrays (coordinates, the plan's cells and
 * order, the value columns) are hundreds of MB of fresh memory, and the
 * first write to each 4 KiB page is a page fault: 124,000 of them for 10M
 * points, a large share of the job's system time on a VM. Where the kernel
 * gives huge pages only on request (transparent_hugepage = madvise, the
 * Debian default), madvise(MADV_HUGEPAGE) over an array before it is
 * written makes that 2 MiB a fault. Only the 2 MiB-aligned inside of an
 * array is advised, so nothing outside it changes; memory use does not
 * grow, as these arrays are written whole.
 *
 * Threads: any; no state.
 */
#include "memhint.h"

#include <stdint.h>
#include <sys/mman.h>

enum { HUGE_PAGE = 2 << 20 };

void rp_hint_huge(void *p, size_t bytes) {
#ifdef MADV_HUGEPAGE
    if (!p || bytes < 2 * (size_t)HUGE_PAGE)
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
