/*
 * mpi_init.c — MPI's start and end for the rasterpool program (see
 * rasterpool_mpi.h). MPI is initialised only under an MPI launcher with more
 * than one rank, so that a plain run, and one rank under mpirun, is exactly
 * a plain run (no singleton MPI start-up, no launcher daemons). MPI_THREAD_FUNNELED: the job's
 * threads never call MPI; only the main thread does.
 *
 * rp_mpi_finish agrees on the exit code with a non-blocking broadcast that
 * waits with short sleeps, not MPI's busy polling: ranks that wait for rank
 * 0 (an extract that runs on rank 0 alone) do not take CPU from its threads.
 *
 * rp_mpi_agree gives every rank the job's status, rank 0's, the same way.
 *
 * Threads: the main thread only. Ownership: the process-wide MPI state.
 */
#include <mpi.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpi_farm.h"


static bool started; /* rp_mpi_start called MPI_Init_thread */
static int world_rank, world_size = 1;

static bool launched_by_mpi(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i]))
            return true;
    return false;
}

/* Launched as one rank (the launcher's size variable says 1): nothing to
 * farm, so MPI is not started at all (MPI_Init and MPI_Finalize cost about
 * 0.4 s; a process that never calls MPI_Init is fine under mpirun). */
static bool launched_alone(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && strcmp(v, "1") == 0)
            return true;
    }
    return false;
}

RP_API int rp_mpi_start(int *argc, char ***argv) {
    if (started)
        return world_size;
    if (!launched_by_mpi() || launched_alone())
        return 1;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return 0;
    started = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    return world_size;
}

RP_API int rp_mpi_rank(void) {
    return world_rank;
}

RP_API int rp_mpi_size(void) {
    return world_size;
}

void rp_mpi_wait(MPI_Request *req) {
    struct timespec nap = {0, 2 * 1000 * 1000}; /* 2 ms */
    int done = 0;
    while (MPI_Test(req, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && !done)
        nanosleep(&nap, NULL);
}

RP_API int rp_mpi_finish(int exit_code) {
    if (!started)
        return exit_code;
    int code = exit_code;
    MPI_Request req;
    MPI_Ibcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD, &req);
    rp_mpi_wait(&req);
    MPI_Finalize();
    started = false;
    return code;
}

rp_status rp_mpi_agree(rp_status st, const char *what, rp_error *err) {
    int code = st;
    MPI_Request req;
    MPI_Ibcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD, &req);
    rp_mpi_wait(&req);
    if (code != (int)st)
        rp_error_set(err, (rp_status)code, "the %s ended with status %d on rank 0", what, code);
    return (rp_status)code;
}
