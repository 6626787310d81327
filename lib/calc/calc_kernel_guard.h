/* calc_kernel_guard.h — calls a kernel so that an exit() inside it ends the
 * process with status 1 and a message, not with the kernel's status. */
#ifndef RP_CALC_KERNEL_GUARD_H
#define RP_CALC_KERNEL_GUARD_H

#include "rasterpool.h"

/* Returns fn(block, user). name: the kernel's name for the message. */
int rp_calc_kernel_guarded_call(rp_kernel_fn fn, const rp_kernel_block *block, void *user,
                                const char *name);

#endif
