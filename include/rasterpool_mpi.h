/*
 * rasterpool_mpi.h — rasterpool's jobs over MPI ranks (builds with MPI
 * only: RP_WITH_MPI, on when CMake finds MPI; docs/cluster.md).
 *
 * One program runs as every rank. rp_mpi_start initialises MPI only when
 * an MPI launcher (mpirun, mpiexec, srun with PMI/PMIx) started the process;
 * otherwise nothing changes. Under a launcher with more than one rank, a
 * batch is a task farm: rank 0 plans, hands tasks out one at a time to the
 * ranks that ask (each rank runs its own pool of worker processes), and
 * writes the one journal from the results it receives. Only the calling
 * thread calls MPI (MPI_THREAD_FUNNELED).
 */
#ifndef RASTERPOOL_MPI_H
#define RASTERPOOL_MPI_H
#include "rasterpool.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Initialises MPI when an MPI launcher started this process (it sets
 * OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK) as one of several ranks,
 * before any thread starts. Returns the number of ranks: 1 when not
 * launched by MPI or launched as one rank (by OMPI_COMM_WORLD_SIZE or
 * PMI_SIZE: MPI is then not initialised, the run is a plain run); 0 when
 * MPI_Init failed, MPI grants less than MPI_THREAD_FUNNELED, or MPI sees
 * one rank where the launcher said several (rp_mpi_start_error says
 * which). */
RP_API int rp_mpi_start(int *argc, char ***argv);
/* Why rp_mpi_start returned 0, in words: MPI_Init failed, MPI grants less
 * than MPI_THREAD_FUNNELED, or the launcher started several ranks that MPI
 * sees as one each (a launcher of another MPI than the one rasterpool was
 * built with). Static text. */
RP_API const char *rp_mpi_start_error(void);
/* This process's rank (0 when MPI is not running). */
RP_API int rp_mpi_rank(void);
/* The number of ranks (1 when MPI is not running). */
RP_API int rp_mpi_size(void);
/* rp_batch_run over every rank (every rank calls it with the same options):
 * see above. Every rank returns the same status, the job's: RP_OK when all
 * tasks on all ranks are done, RP_PARTIAL when some failed, another status
 * when a rank could not run (its message on rank 0's err). With one rank
 * it is rp_batch_run. */
RP_API rp_status rp_mpi_batch_run(const rp_batch_options *opts, rp_batch_report *report,
                                  rp_error *err);
/* rp_extract_run over every rank (every rank calls it with the same
 * options): rank 0 reads the points and writes the one output (any
 * format), byte for byte the single-process run's; the points' values are
 * read in tasks (the points of a few blocks) handed out to the ranks that
 * ask, rank 0 included. Every rank returns the job's status. */
RP_API rp_status rp_mpi_extract_run(const rp_extract_options *opts, rp_extract_report *report,
                                    rp_error *err);
/* rp_zonal_run over every rank (every rank calls it with the same options):
 * every rank reads the polygons and plans; rank 0 hands out tasks of the
 * plan's blocks to the ranks that ask (itself included), merges the
 * statistics that come back and writes the one output (any format),
 * byte for byte the single-process run's. --plan runs on rank 0 alone.
 * Every rank returns the job's status. */
RP_API rp_status rp_mpi_zonal_run(const rp_zonal_options *opts, rp_zonal_report *report,
                                  rp_error *err);
/* Ends MPI if rp_mpi_start started it; every rank calls it. Returns rank
 * 0's exit_code on every rank (MPI_Bcast), so that the launcher's exit
 * status is the job's; exit_code itself when MPI is not running. */
RP_API int rp_mpi_finish(int exit_code);

#ifdef __cplusplus
}
#endif
#endif
