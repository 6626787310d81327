/*
 * calc_kernel_guard.c — a kernel that ends the process must not look like
 * a finished job.
 *
 * Kernels run inside the process (a plain function call on a worker
 * thread). One that calls exit() would run the process's exit handlers and
 * end it with the kernel's status, often 0, before the output exists. The
 * guard marks, per thread, the kernel call in progress; an atexit handler
 * (registered once) that finds the exiting thread inside a kernel says so
 * on stderr and ends the process with status 1 (a kernel failure), without
 * running the remaining handlers. exit() runs its handlers on the thread
 * that called it, so a kernel's exit is told apart from the host's own.
 * Not detectable: _exit(), quick_exit(), a signal, or exit() from a thread
 * the kernel started; batch calc runs each task in its own worker process,
 * where those are reported as a crashed task.
 *
 * Threads: the mark is thread-local; registration is pthread_once.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "calc_kernel_guard.h"

typedef struct kernel_call {
    const char *name;
    int x, y, w, h;
} kernel_call;

static _Thread_local const kernel_call *tl_call;
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;

static void on_exit_during_kernel(void) {
    const kernel_call *c = tl_call;
    if (!c)
        return;
    fprintf(stderr,
            "rasterpool: calc: kernel %s called exit() while computing the window at column %d, "
            "row %d (%dx%d); the job did not finish and no output was written (kernels run "
            "inside the rasterpool process: return non-zero with a message to fail a job)\n",
            c->name, c->x, c->y, c->w, c->h);
    fflush(stderr);
    _exit(1);
}

static void register_guard(void) {
    (void)atexit(on_exit_during_kernel);
}

int rp_calc_kernel_guarded_call(rp_kernel_fn fn, const rp_kernel_block *block, void *user,
                                const char *name) {
    pthread_once(&guard_once, register_guard);
    kernel_call c = {name ? name : "(function)", block->x_off, block->y_off, block->width,
                     block->height};
    tl_call = &c;
    int r = fn(block, user);
    tl_call = NULL;
    return r;
}
