/*
 * mpi_parts.h — a job split over the ranks by a static partition, each
 * rank writing its part of the one CSV output to a temporary file of its
 * own, and rank 0 writing the parts, in rank order, into the output
 * (mpi_parts.c). Used by zonal over MPI (mpi_zonal.c).
 */
#ifndef RP_MPI_PARTS_H
#define RP_MPI_PARTS_H
#include <stddef.h>

#include "mpi_farm.h"

/* A temporary part file ($TMPDIR, else /tmp) named into path; its
 * descriptor (closed by the caller), or -1 with errno. */
int rp_mpi_part_make(char *path, size_t cap);
/* Rank r > 0: its status, then its part (when st is RP_OK or RP_PARTIAL)
 * to rank 0. */
void rp_mpi_part_send(const char *part, rp_status st);
/* Rank 0: its own part (st: its status), then every other rank's, into
 * output_path (NULL or "-": standard output; staged: it appears only when
 * complete). Returns the worst status of all ranks; err names the first
 * failure. `what` names the job in messages. */
rp_status rp_mpi_part_gather(const char *output_path, const char *part, rp_status st,
                             const char *what, rp_error *err);
/* The job's status from rank 0 to every rank (each returns it). */
rp_status rp_mpi_agree(rp_status st, const char *what, rp_error *err);

#endif
