/*
 * mpi_farm_loop.c — rank 0's loop of a task farm, shared by the extract
 * and zonal farms (mpi_extract_farm.c, mpi_zonal_farm.c): until every task
 * is done, take in a result when one has come (then hand out more tasks),
 * else read a task itself, else nap 1 ms; report progress after each step.
 * On an error (or once done) the results still in flight are taken in, so
 * that no rank is left blocked on a send. What a task, a result and a
 * refill are is the farm's own (rp_mpi_farm_ops); the inbox that receives
 * a result of any size is shared too.
 *
 * Threads: the main thread only (MPI_THREAD_FUNNELED). Ownership: the
 * inbox owns its buffer (rp_mpi_inbox_free).
 */
#include <stdlib.h>
#include <time.h>

#include "mpi_farm.h"

int rp_mpi_inbox_recv(rp_mpi_inbox *in, const MPI_Status *probe, int tag, rp_error *err) {
    int bytes = 0;
    MPI_Get_count(probe, MPI_BYTE, &bytes);
    in->unreceived = false;
    if ((size_t)bytes + 1 > in->cap) {
        free(in->buf);
        in->cap = (size_t)bytes + 1;
        in->buf = malloc(in->cap);
        if (!in->buf) {
            in->cap = 0;
            in->unreceived = true;
            rp_error_set(err, RP_NOMEM, "out of memory for a result of %d bytes", bytes);
            return -1;
        }
    }
    MPI_Recv(in->buf, bytes, MPI_BYTE, probe->MPI_SOURCE, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    in->buf[bytes] = 0; /* an error text at its end reads as a string */
    return bytes;
}

void rp_mpi_inbox_free(rp_mpi_inbox *in) {
    free(in->buf);
    in->buf = NULL;
    in->cap = 0;
}

rp_status rp_mpi_farm_loop(const rp_mpi_farm_ops *ops, rp_error *err) {
    void *farm = ops->farm;
    rp_status rc = ops->refill(farm, err);
    struct timespec nap = {0, 1000 * 1000};
    while (rc == RP_OK && !ops->all_done(farm)) {
        int flag = 0;
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, ops->result_tag, MPI_COMM_WORLD, &flag, &st);
        if (flag) {
            rc = ops->receive(farm, &st, err);
            if (rc == RP_OK)
                rc = ops->refill(farm, err);
        } else {
            int64_t t = ops->take(farm);
            if (t >= 0)
                rc = ops->run_local(farm, (size_t)t, err);
            else
                nanosleep(&nap, NULL);
        }
        if (rc == RP_OK)
            rc = ops->progress(farm, err);
    }
    rp_error ignored;
    while (ops->in_flight(farm)) {
        MPI_Status st;
        rp_mpi_probe(MPI_ANY_SOURCE, ops->result_tag, &st);
        rp_status got = ops->receive(farm, &st, &ignored);
        /* a result that could not be received stays queued, and one that
         * breaks the protocol leaves its task in flight: nothing else would
         * end this loop. (Other errors, such as --max-memory's, come after
         * the result was taken in: the first error stands.) */
        if (got == RP_INTERNAL || ops->inbox->unreceived)
            MPI_Abort(MPI_COMM_WORLD, 3);
    }
    return rc;
}
