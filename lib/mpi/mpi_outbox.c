/*
 * mpi_outbox.c — what the extract and zonal farms' ranks share: a patient
 * probe (short sleeps, not MPI's busy poll, so a waiting rank leaves the
 * CPU to the threads of others on the node) and the outbox of a rank's
 * results, two in flight, so that it reads its next task while the last
 * result travels.
 *
 * Threads: the main thread only (MPI_THREAD_FUNNELED). Ownership: the
 * outbox owns its two buffers.
 */
#include <stdlib.h>
#include <time.h>

#include "mpi_farm.h"

void rp_mpi_probe(int source, int tag, MPI_Status *st) {
    struct timespec nap = {0, 1000 * 1000}; /* 1 ms */
    int flag = 0;
    while (MPI_Iprobe(source, tag, MPI_COMM_WORLD, &flag, st) == MPI_SUCCESS && !flag)
        nanosleep(&nap, NULL);
}

void rp_mpi_outbox_init(rp_mpi_outbox *o, int tag) {
    *o = (rp_mpi_outbox){{MPI_REQUEST_NULL, MPI_REQUEST_NULL}, {NULL, NULL}, {0, 0}, 0, tag};
}

unsigned char *rp_mpi_outbox_take(rp_mpi_outbox *o, size_t bytes) {
    int k = o->turn;
    o->turn ^= 1;
    MPI_Wait(&o->req[k], MPI_STATUS_IGNORE);
    if (bytes > o->cap[k]) {
        free(o->buf[k]);
        o->buf[k] = malloc(bytes);
        o->cap[k] = o->buf[k] ? bytes : 0;
        if (!o->buf[k])
            MPI_Abort(MPI_COMM_WORLD, 3); /* no room even for the answer */
    }
    return o->buf[k];
}

void rp_mpi_outbox_send(rp_mpi_outbox *o, size_t bytes) {
    int k = o->turn ^ 1;
    MPI_Isend(o->buf[k], (int)bytes, MPI_BYTE, 0, o->tag, MPI_COMM_WORLD, &o->req[k]);
}

void rp_mpi_outbox_free(rp_mpi_outbox *o) {
    /* a real status array, not MPI_STATUSES_IGNORE: MPICH defines that as
     * (MPI_Status *)1, which GCC 12 reports as an overflow (-Werror) */
    MPI_Status done[2];
    MPI_Waitall(2, o->req, done);
    free(o->buf[0]);
    free(o->buf[1]);
    o->buf[0] = o->buf[1] = NULL;
}
