/*
 * memhint.h — hints to the kernel about large arrays.
 */
#ifndef RP_MEMHINT_H
#define RP_MEMHINT_H
#include <stddef.h>

/* With RASTERPOOL_HUGE_PAGES=1 in the environment, asks for transparent
 * huge pages over the 2 MiB-aligned inside of p[0..bytes) (arrays of
 * millions of points, before they are first written): 512 times fewer
 * page faults. Does nothing otherwise (memhint.c says why), for small
 * arrays, NULL, or where the kernel has no such pages. */
void rp_hint_huge(void *p, size_t bytes);

#endif
