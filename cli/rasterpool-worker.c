/*
 * rasterpool-worker.c — the batch worker program. rp_batch_run starts it
 * (installed as LIBEXECDIR/rasterpool/rasterpool-worker; the library finds
 * it beside itself, see lib/batch/worker_path.c) so that any host process —
 * the rasterpool program, Python, an MPI rank — can run a batch: the host
 * need not be able to act as a worker itself.
 *
 * argv: rasterpool __batch-worker PARENT_PID KIND ... (what rp_batch_run
 * passes); everything after argv[0] goes to rp_batch_worker_main, which
 * sets up GDAL and signals itself. One thread; owns nothing.
 */
#include <stdio.h>
#include <string.h>

#include "rasterpool.h"

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "__batch-worker") != 0) {
        fprintf(stderr,
                "rasterpool-worker %s: the worker program of rasterpool batch, started "
                "by the library (rp_batch_run); not for direct use\n",
                rp_version());
        return 2;
    }
    return rp_batch_worker_main(argc - 1, (const char *const *)argv + 1);
}
