/*
 * mpi_farm.h — what the files of lib/mpi/ share: the message tags of the
 * batch task farm (mpi_batch.c), a polite wait and the job's status agreed
 * (mpi_init.c), a polite probe and a rank's outbox of results
 * (mpi_outbox.c).
 */
#ifndef RP_MPI_FARM_H
#define RP_MPI_FARM_H
#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "rasterpool_mpi.h"

/* Messages of the batch farm, rank r <-> rank 0 (mpi_batch.c). */
enum {
    RP_TAG_ASK = 101,    /* r -> 0: a task, please (no payload) */
    RP_TAG_TASK = 102,   /* 0 -> r: int64 task index, -1: none left */
    RP_TAG_RECORD = 103, /* r -> 0: one journal line (text with its newline) */
    RP_TAG_ACK = 104,    /* 0 -> r: int 0: the line is on disk (fsynced); else failed */
    RP_TAG_FINAL = 105,  /* r -> 0: int64 task, int64 ok, then the error text */
    RP_TAG_END = 106,    /* r -> 0: int the rank's rp_status; it asks nothing more */
};

/* The job's status from rank 0 to every rank (each returns it; a rank
 * whose own differs gets rank 0's in err). `what` names the job. */
rp_status rp_mpi_agree(rp_status st, const char *what, rp_error *err);
/* Waits for a request with 2 ms sleeps (not MPI's busy poll). */
void rp_mpi_wait(MPI_Request *req);
/* Waits for a message from source with tag (MPI_ANY_TAG: any) with 1 ms
 * sleeps, not MPI's busy poll (mpi_outbox.c). */
void rp_mpi_probe(int source, int tag, MPI_Status *st);

/* A rank's results in flight to rank 0 (the extract and zonal farms): two,
 * so it reads its next task while one is sent (mpi_outbox.c). */
typedef struct rp_mpi_outbox {
    MPI_Request req[2];
    unsigned char *buf[2];
    size_t cap[2];
    int turn;
    int tag; /* of the results */
} rp_mpi_outbox;
void rp_mpi_outbox_init(rp_mpi_outbox *o, int tag);
/* A buffer of bytes for the next result (waits until its last send is
 * done); MPI_Abort when there is no memory even for the answer. */
unsigned char *rp_mpi_outbox_take(rp_mpi_outbox *o, size_t bytes);
/* Sends the buffer rp_mpi_outbox_take gave (bytes of it) to rank 0. */
void rp_mpi_outbox_send(rp_mpi_outbox *o, size_t bytes);
/* Waits for both sends, frees the buffers. */
void rp_mpi_outbox_free(rp_mpi_outbox *o);

/* Rank 0's tasks in flight: RP_MPI_SLOTS a rank (rank 0's unused), each
 * a task sent (its message kept until MPI has sent it) or free. */
enum { RP_MPI_SLOTS = 2 };
typedef struct rp_mpi_slot {
    MPI_Request req;
    int64_t task;       /* -1: free */
    unsigned char *msg; /* the task's message; owned */
    size_t cap;
} rp_mpi_slot;
rp_mpi_slot *rp_mpi_slots_new(int nranks); /* NULL: out of memory */
void rp_mpi_slots_free(rp_mpi_slot *slots, int nranks);
/* Room for a message of bytes in a free slot (NULL: out of memory). */
unsigned char *rp_mpi_slot_msg(rp_mpi_slot *sl, size_t bytes);
/* Sends the slot's message (bytes) for task to rank r, tag. */
void rp_mpi_slot_send(rp_mpi_slot *sl, int64_t task, size_t bytes, int r, int tag);
/* Rank r's slot of task, freed once its send is done: the task, or -1 when
 * r has no such task in flight. */
int64_t rp_mpi_slot_finish(rp_mpi_slot *slots, int r, int64_t task);
bool rp_mpi_slots_busy(const rp_mpi_slot *slots, int nranks); /* another rank has a task */
/* Rank r failed a task: warned once on log (why), marked dead (no more
 * tasks for it); the caller hands the task out again. */
void rp_mpi_rank_failed(FILE *log, bool *dead, int r, const char *why);

/* Rank 0's buffer for one result at a time. */
typedef struct rp_mpi_inbox {
    unsigned char *buf; /* the message, then a NUL */
    size_t cap;
    bool unreceived; /* the last message could not be received (no memory): still queued */
} rp_mpi_inbox;
/* Receives the probed message (tag) into the inbox: its bytes, or -1 with
 * RP_NOMEM in err (the message is then still waiting). */
int rp_mpi_inbox_recv(rp_mpi_inbox *in, const MPI_Status *probe, int tag, rp_error *err);
void rp_mpi_inbox_free(rp_mpi_inbox *in);

/* A farm as rank 0 runs it (mpi_farm_loop.c): farm is passed to each. */
typedef struct rp_mpi_farm_ops {
    void *farm;
    int result_tag;
    bool (*all_done)(const void *farm);
    rp_status (*receive)(void *farm, const MPI_Status *probe, rp_error *err);
    rp_status (*refill)(void *farm, rp_error *err); /* tasks to every free slot */
    int64_t (*take)(void *farm);                    /* the next task, or -1 */
    rp_status (*run_local)(void *farm, size_t task, rp_error *err);
    rp_status (*progress)(const void *farm, rp_error *err);
    bool (*in_flight)(const void *farm); /* tasks out with other ranks */
    const rp_mpi_inbox *inbox;           /* where receive takes a result in */
} rp_mpi_farm_ops;
/* Until every task is done or an error; then the results in flight are
 * taken in. The first error. */
rp_status rp_mpi_farm_loop(const rp_mpi_farm_ops *ops, rp_error *err);

#endif
