/*
 * mpi_zonal.h — what the files of the zonal farm share (docs/cluster.md,
 * "zonal over MPI"): every rank reads the polygons and builds the same
 * plan; rank 0 hands out groups of the plan's blocks (mpi_zonal_farm.c),
 * the other ranks read them and send back the (polygon, block) pairs'
 * accumulators (mpi_zonal.c), packed bit for bit (mpi_zonal_codec.c).
 */
#ifndef RP_MPI_ZONAL_H
#define RP_MPI_ZONAL_H
#include <stddef.h>
#include <stdint.h>

#include "mpi_farm.h"
#include "zonal_internal.h"

/* Messages of the zonal farm, rank 0 <-> rank r. */
enum {
    RP_TAG_ZTASK = 121,     /* 0 -> r: int64 x RP_ZTASK_N (below) */
    RP_TAG_ZGRIDDONE = 122, /* 0 -> r: the grid's pass is over; int64: value-list bytes held */
    RP_TAG_ZEND = 123,      /* 0 -> r: the job is over (no payload) */
    RP_TAG_ZRESULT = 124,   /* r -> 0: int64 x RP_ZRES_N, then (status RP_OK) a byte per
                               block (1: failed), then the pairs' packed accumulators;
                               or an error's text */
};
/* A task: plan blocks [first, first + count) of grid's pass, whose plan
 * has npairs pairs and hash (rp_zplan_hash): a rank whose plan differs
 * refuses the task. */
enum {
    RP_ZTASK_ID,
    RP_ZTASK_GRID,
    RP_ZTASK_FIRST,
    RP_ZTASK_COUNT,
    RP_ZTASK_NPAIRS,
    RP_ZTASK_HASH,
    RP_ZTASK_N
};
/* A result's header: task id, status, value-list bytes reserved (for
 * rank 0's --max-memory count), accumulators packed. */
enum { RP_ZRES_TASK, RP_ZRES_STATUS, RP_ZRES_LIST_BYTES, RP_ZRES_NACC, RP_ZRES_N };

/* A plan's fingerprint (FNV-1a over its blocks and pairs). */
uint64_t rp_zplan_hash(const zonal_plan *plan);

/* Bytes n accumulators take packed: per accumulator 80 bytes (its eight
 * doubles, cells, nvals), then its 2 x nvals doubles (value, weight). */
size_t rp_zacc_packed_bytes(const zonal_acc *a, size_t n);
/* Packs them into out (rp_zacc_packed_bytes long, any alignment); the
 * doubles are copied as bytes (bit-exact; the ranks share one byte order). */
void rp_zacc_pack(const zonal_acc *a, size_t n, unsigned char *out);
/* Unpacks n accumulators from in (len bytes) into a (zeroed ones); value
 * lists are allocated exactly. RP_INTERNAL when len does not match,
 * RP_NOMEM. */
rp_status rp_zacc_unpack(zonal_acc *a, size_t n, const unsigned char *in, size_t len,
                         rp_error *err);

/* Rank 0's hook: the farm over each grid's blocks (mpi_zonal_farm.c). */
typedef struct rp_zfarm {
    zonal_exec_hook hook; /* first: the hook is the farm */
    int nranks;
    bool *dead;          /* a rank that failed a task: no more tasks, for the job */
    uint64_t *by_rank;   /* blocks decoded by each rank, over the grids */
    size_t tasks_total;  /* over the grids */
    uint64_t blocks_all; /* over the grids */
} rp_zfarm;
rp_status rp_zfarm_init(rp_zfarm *f, rp_error *err);
void rp_zfarm_free(rp_zfarm *f);
/* -v: blocks decoded by each rank. */
void rp_zfarm_print(const rp_zfarm *f, FILE *info);

#endif
