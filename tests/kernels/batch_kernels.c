/*
 * batch_kernels.c — calc kernels for the batch tests, loaded with
 * --kernel batch_kernels.so:crash_or_sleep.
 *   crash_or_sleep  copies its input to the output, except when the first
 *                   input's pixel (0, 0) (read as a byte) is 251: then it
 *                   dereferences NULL (the worker dies of SIGSEGV); or 252:
 *                   then it sleeps for an hour (the task hangs until
 *                   --timeout kills its worker).
 * Threads: stateless.
 */
#include <string.h>
#include <unistd.h>

#include "rasterpool.h"

int crash_or_sleep(const rp_kernel_block *b, void *user);

int crash_or_sleep(const rp_kernel_block *b, void *user) {
    (void)user;
    const rp_kernel_input *in = &b->inputs[0];
    if (b->x_off == 0 && b->y_off == 0) {
        unsigned char first = *(const unsigned char *)in->data;
        if (first == 251) {
            volatile int *nowhere = NULL;
            *nowhere = 1; /* on purpose: the worker must die of SIGSEGV */
        }
        if (first == 252)
            sleep(3600);
    }
    size_t n =
        (size_t)b->width * (size_t)b->height * (size_t)b->out_bands * (size_t)b->out_type_size;
    memcpy(b->out, in->data, n);
    return 0;
}
