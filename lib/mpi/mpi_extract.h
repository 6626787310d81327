/*
 * mpi_extract.h — what the files of the extract farm share (docs/cluster.md,
 * "extract over MPI"): rank 0 runs the job (points, plan, output) and hands
 * out its points in tasks, grouped by the blocks of the job's first
 * raster (mpi_extract_tasks.c); every rank reads tasks' values as a part
 * of the job (extract_part.h) and rank 0 puts them in place
 * (mpi_extract_farm.c); the other ranks' side and the entry point are in
 * mpi_extract.c.
 */
#ifndef RP_MPI_EXTRACT_H
#define RP_MPI_EXTRACT_H
#include <stddef.h>
#include <stdint.h>

#include "extract_part.h"
#include "mpi_farm.h"

/* Messages of the extract farm, rank 0 <-> rank r. */
enum {
    RP_TAG_XTASK = 111,   /* 0 -> r: int64 task id, then k x and k y (doubles) */
    RP_TAG_XSTOP = 112,   /* 0 -> r: no more tasks (no payload) */
    RP_TAG_XRESULT = 113, /* r -> 0: int64 header (below), then each column's k values,
                             then each column's k statuses; or an error's text */
};
/* The header of a result: task id, status (rp_status), blocks read and
 * failed, then per raster the points that fell on it. */
enum { RP_XRESULT_TASK, RP_XRESULT_STATUS, RP_XRESULT_READ, RP_XRESULT_FAILED, RP_XRESULT_INSIDE };

/* The largest message of the farm (a task's coordinates, a result). */
#define RP_XMSG_MAX_BYTES ((size_t)16 << 20)

/* The tasks: task t is the points idx[first[t] .. first[t + 1]). */
typedef struct rp_xtasks {
    uint32_t *idx;
    size_t *first;
    size_t ntasks;
    size_t npoints; /* in all tasks */
} rp_xtasks;

/* Splits the points that are not bad into tasks of at most max_points:
 * the points of one block of the first raster the points reach go
 * together (a block is split only when it holds more than max_points),
 * blocks in groups of at least 512 x 512 cells, groups in row-major order,
 * about target points a task; then the points off that raster, in input
 * order. */
rp_status rp_xtasks_build(rp_xtasks *t, const rp_extract_setup *s, const double *x, const double *y,
                          const uint8_t *bad, size_t n, OGRSpatialReferenceH points_srs,
                          size_t target, size_t max_points, rp_error *err);
void rp_xtasks_free(rp_xtasks *t);

/* Rank 0: the farm, as the job's execute stage (rp_extract_execute_fn);
 * user is an rp_xfarm_start. */
typedef struct rp_xfarm_start {
    bool started; /* the farm sent the start message */
} rp_xfarm_start;
rp_status rp_mpi_extract_farm(void *user, rp_extract_setup *setup, struct rp_pool *pool,
                              const double *x, const double *y, const uint8_t *bad, size_t n,
                              OGRSpatialReferenceH points_srs, const rp_extract_options *opts,
                              rp_extract_read_stats *stats, rp_error *err);
/* The start message (every rank takes part): the points' CRS as WKT, "" for
 * none; NULL from rank 0: the job ended before its pixels (no farm). On the
 * other ranks, returns the WKT (malloc'd) or NULL for no farm. */
char *rp_mpi_extract_start(const char *wkt);

#endif
