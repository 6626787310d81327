/*
 * fault_kernels.c — a calc kernel for the output-fault tests
 * (tests/cli/cli_output_faults.py), loaded with
 * --kernel fault_kernels.so:announce_and_wait --kernel-arg FIFO.
 *   announce_and_wait  on its first call, opens FIFO for writing, writes
 *                      "ready\n" and then waits forever (pause): the test
 *                      reads the line, so it knows the job's output is
 *                      staged (the writer stages it before any window is
 *                      computed), and kills the job with SIGKILL. No sleep,
 *                      no polling.
 * Threads: every caller waits; the first one announces (an atomic flag).
 */
#include <fcntl.h>
#include <stdatomic.h>
#include <unistd.h>

#include "rasterpool.h"

int announce_and_wait(const rp_kernel_block *b, void *user);

int announce_and_wait(const rp_kernel_block *b, void *user) {
    (void)b;
    static atomic_flag announced = ATOMIC_FLAG_INIT;
    if (user && !atomic_flag_test_and_set(&announced)) {
        int fd = open((const char *)user, O_WRONLY);
        if (fd >= 0) {
            (void)!write(fd, "ready\n", 6);
            close(fd);
        }
    }
    for (;;)
        pause();
    return 0;
}
