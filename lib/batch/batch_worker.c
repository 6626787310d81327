/*
 * batch_worker.c — the worker side of a batch: `rasterpool __batch-worker`.
 *
 * A worker is a fresh process (started by the parent with posix_spawn, see
 * proc.c). Before any I/O it sets its GDAL state: GDAL_NUM_THREADS and
 * the block cache (GDAL_CACHEMAX) to its fair share of the machine, no
 * directory listing on open (sidecars probed by name), and the batch's --config options; then it
 * registers GDAL's drivers, says READY, and runs one task at a time: receive
 * a task message on descriptor RP_WORKER_FD, make the output under the
 * temporary name the parent chose, answer with a result message. It never
 * renames anything: putting an output in place is the parent's decision, so
 * a worker that dies at any moment leaves at most a temporary file, which
 * the parent removes.
 *
 * The worker ignores SIGINT (Ctrl-C is the parent's to handle; the worker is
 * in a process group of its own anyway) and asks the kernel to kill it when
 * the parent dies (PR_SET_PDEATHSIG), so no worker outlives its batch; it
 * also exits when the parent closes the socket.
 *
 * argv: __batch-worker PARENT_PID KIND GDAL_THREADS CACHE_BYTES
 *       [--config KEY VALUE]... -- [TOOL OPTIONS]...
 *
 * Threads: one (GDAL may start its own inside a task).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <gdal.h>

#include "batch_internal.h"
#include "proc.h"

static void worker_fail(const char *what) {
    fprintf(stderr, "rasterpool batch worker %ld: %s\n", (long)getpid(), what);
}

/* The worker's end of the socketpair, seen through the same send/receive
 * calls the parent uses (lib/proc.c). */
static rp_proc parent_link = {0, RP_WORKER_FD};

static bool send_msg(const void *msg, size_t size) {
    return rp_proc_send(&parent_link, msg, size);
}

/* 1: a task; 0: the parent closed the socket (or sent something else). */
static int receive_task(rp_batch_task_msg *task) {
    if (rp_proc_recv(&parent_link, task, sizeof *task) != RP_PROC_MESSAGE ||
        task->magic != RP_BATCH_MAGIC || task->type != RP_MSG_TASK)
        return 0;
    task->input[sizeof task->input - 1] = '\0';
    task->output[sizeof task->output - 1] = '\0';
    return 1;
}

RP_API int rp_batch_worker_main(int argc, const char *const *argv) {
    signal(SIGINT, SIG_IGN);
    if (argc < 6) {
        worker_fail("started without its arguments (this command is for rasterpool itself)");
        return 2;
    }
    long parent = strtol(argv[1], NULL, 10);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != (pid_t)parent) /* the parent died before the line above */
        return 1;
    const rp_batch_kind *kind = rp_batch_kind_find(argv[2]);
    int gdal_threads = atoi(argv[3]);
    long long cache_bytes = atoll(argv[4]);
    if (!kind || gdal_threads < 1 || cache_bytes < 0) {
        worker_fail("bad arguments");
        return 2;
    }
    char threads_text[32];
    snprintf(threads_text, sizeof threads_text, "%d", gdal_threads);
    CPLSetConfigOption("GDAL_NUM_THREADS", threads_text);
    /* No folder listing on open (an input's folder may hold many thousands
     * of files), but sidecars are still probed one by one (YES, not
     * EMPTY_DIR): an input's .aux.xml, .ovr or .msk is read, and writers
     * that reopen their output find its header (ENVI, EHdr, ISCE, PAux:
     * a.hdr beside a.bil). Remote inputs are opened with EMPTY_DIR
     * (batch_kinds.c): each probe would be a network request. */
    bool user_readdir = getenv("GDAL_DISABLE_READDIR_ON_OPEN") != NULL;
    if (!user_readdir)
        CPLSetConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", "YES");
    int i = 5;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 2 < argc) {
            if (strcasecmp(argv[i + 1], "GDAL_DISABLE_READDIR_ON_OPEN") == 0)
                user_readdir = true;
            rp_gdal_config_apply_process(argv + i + 1, 1);
            i += 2;
        }
    }
    rp_batch_kinds_user_set_readdir(user_readdir);
    char **tool_args = (char **)argv + (i < argc ? i + 1 : argc); /* NULL-terminated */
    if (cache_bytes > 0)
        GDALSetCacheMax64(cache_bytes);
    GDALAllRegister();

    rp_batch_result_msg ready;
    memset(&ready, 0, sizeof ready);
    ready.magic = RP_BATCH_MAGIC;
    ready.type = RP_MSG_READY;
    int rc = send_msg(&ready, sizeof ready) ? 0 : 1;

    rp_batch_task_msg *task = calloc(1, sizeof *task); /* 8 KiB: not on the stack */
    rp_batch_result_msg *result = calloc(1, sizeof *result);
    if (!task || !result)
        rc = 1;
    while (rc == 0 && receive_task(task)) {
        memset(result, 0, sizeof *result);
        result->magic = RP_BATCH_MAGIC;
        result->type = RP_MSG_RESULT;
        result->task = task->task;
        result->ok =
            kind->run(tool_args, task->input, task->output, result->error, sizeof result->error);
        if (!send_msg(result, sizeof *result))
            rc = 1;
    }
    free(task);
    free(result);
    GDALDestroyDriverManager();
    return rc;
}
