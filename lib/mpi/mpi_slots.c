/*
 * mpi_slots.c — rank 0's tasks in flight, shared by the extract and zonal
 * farms: RP_MPI_SLOTS a rank, each holding the task it was sent and the
 * message until MPI is done with it; a result names its task, which frees
 * the slot; a rank that fails a task is warned about once and gets no
 * more.
 *
 * Threads: the main thread only (MPI_THREAD_FUNNELED). Ownership: the
 * slots own their messages (rp_mpi_slots_free).
 */
#include <stdlib.h>

#include "mpi_farm.h"

rp_mpi_slot *rp_mpi_slots_new(int nranks) {
    size_t n = (size_t)nranks * RP_MPI_SLOTS;
    rp_mpi_slot *slots = malloc((n ? n : 1) * sizeof *slots);
    for (size_t i = 0; slots && i < n; i++)
        slots[i] = (rp_mpi_slot){MPI_REQUEST_NULL, -1, NULL, 0};
    return slots;
}

void rp_mpi_slots_free(rp_mpi_slot *slots, int nranks) {
    for (int i = 0; slots && i < nranks * RP_MPI_SLOTS; i++)
        free(slots[i].msg);
    free(slots);
}

unsigned char *rp_mpi_slot_msg(rp_mpi_slot *sl, size_t bytes) {
    if (bytes > sl->cap) {
        free(sl->msg);
        sl->msg = malloc(bytes);
        sl->cap = sl->msg ? bytes : 0;
    }
    return sl->msg;
}

void rp_mpi_slot_send(rp_mpi_slot *sl, int64_t task, size_t bytes, int r, int tag) {
    sl->task = task;
    MPI_Isend(sl->msg, (int)bytes, MPI_BYTE, r, tag, MPI_COMM_WORLD, &sl->req);
}

int64_t rp_mpi_slot_finish(rp_mpi_slot *slots, int r, int64_t task) {
    for (int k = 0; task >= 0 && k < RP_MPI_SLOTS; k++) {
        rp_mpi_slot *sl = &slots[r * RP_MPI_SLOTS + k];
        if (sl->task == task) {
            MPI_Wait(&sl->req, MPI_STATUS_IGNORE); /* it was received */
            sl->task = -1;
            return task;
        }
    }
    return -1;
}

bool rp_mpi_slots_busy(const rp_mpi_slot *slots, int nranks) {
    for (int i = RP_MPI_SLOTS; i < nranks * RP_MPI_SLOTS; i++)
        if (slots[i].task >= 0)
            return true;
    return false;
}

void rp_mpi_rank_failed(FILE *log, bool *dead, int r, const char *why) {
    if (!dead[r] && log)
        fprintf(log, "rasterpool: warning: MPI rank %d: %s; its tasks go to the other ranks\n", r,
                why);
    dead[r] = true;
}
