/*
 * mpi_init.c — MPI's start and end for the rasterpool program (see
 * rasterpool_mpi.h). MPI is initialised only under an MPI launcher with more
 * than one rank, so that a plain run, and one rank under mpirun, is exactly
 * a plain run (no singleton MPI start-up, no launcher daemons). MPI_THREAD_FUNNELED: the job's
 * threads never call MPI; only the main thread does. Open MPI and MPICH
 * alike: the launcher is known by its variables (OMPI_COMM_WORLD_SIZE, PMI_SIZE, PMIX_RANK), and
 * a launcher of the other MPI (each process a singleton of one rank, each
 * running the whole job) is refused with a message, not run N times.
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
#include <stdio.h>
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

/* The job's rank count as the launcher's environment states it (Open MPI's
 * mpirun: OMPI_COMM_WORLD_SIZE; MPICH's hydra and Slurm's srun --mpi=pmi2:
 * PMI_SIZE), 0 when it does not say (a PMIx launch sets no size). */
static long launcher_size(void) {
    const char *v = getenv("OMPI_COMM_WORLD_SIZE");
    if (!v)
        v = getenv("PMI_SIZE");
    if (!v)
        return 0;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    return end != v && *end == '\0' && n > 0 ? n : 0;
}

/* Launched as one rank (the launcher's size says 1): nothing to farm, so
 * MPI is not started at all (MPI_Init and MPI_Finalize cost about 0.4 s; a
 * process that never calls MPI_Init is fine under Open MPI's mpirun and
 * MPICH's hydra). */
static bool launched_alone(void) {
    return launcher_size() == 1;
}

static char start_error[512]; /* why rp_mpi_start returned 0 */

/* A launcher of another MPI than the one linked in (mpiexec.mpich running an
 * Open MPI build, or the reverse) starts N processes that each come up as a
 * singleton MPI job of one rank: each would run the whole job into the same
 * outputs. The launcher said N, MPI says 1: that is refused. */
static bool launcher_mismatch(void) {
    long want = launcher_size();
    if (world_size != 1 || want <= 1)
        return false;
    char lib[MPI_MAX_LIBRARY_VERSION_STRING] = "";
    int len = 0;
    MPI_Get_library_version(lib, &len);
    lib[strcspn(lib, ",\n")] = '\0'; /* "Open MPI v4.1.4" / "MPICH Version:\t4.0.2" */
    for (char *c = lib; *c; c++)
        *c = *c == '\t' ? ' ' : *c;
    snprintf(start_error, sizeof start_error,
             "the MPI launcher started %ld ranks, but MPI sees this process alone: the "
             "launcher is not of the MPI this rasterpool was built with (%s); run it with that "
             "MPI's mpirun/mpiexec (docs/cluster.md)",
             want, lib);
    return true;
}

RP_API int rp_mpi_start(int *argc, char ***argv) {
    if (started)
        return world_size;
    if (!launched_by_mpi() || launched_alone())
        return 1;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        snprintf(start_error, sizeof start_error, "MPI_Init failed");
        return 0;
    }
    started = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    if (provided < MPI_THREAD_FUNNELED) /* both Open MPI and MPICH grant it */
        snprintf(start_error, sizeof start_error,
                 "this MPI grants thread level %d, below MPI_THREAD_FUNNELED (%d): "
                 "rasterpool's threads would be unsafe",
                 provided, MPI_THREAD_FUNNELED);
    if (start_error[0] || launcher_mismatch()) {
        MPI_Finalize();
        started = false;
        return 0;
    }
    return world_size;
}

RP_API const char *rp_mpi_start_error(void) {
    return start_error[0] ? start_error : "MPI did not start";
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
