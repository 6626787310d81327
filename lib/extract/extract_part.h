/*
 * extract_part.h — a part of an extract job: the values of all the job's
 * columns at some of its points, for a job split over processes (lib/mpi's
 * farm). A part reads exactly what rp_extract_execute reads for those
 * points (the values of a point do not depend on the others), without the
 * job-level steps: no points file, no output, no --unscale (the whole
 * job's values are unscaled once, where they are gathered), no warnings
 * about the job as a whole (the points that fall on each raster are
 * counted instead: rp_extract_warn_no_points is the caller's).
 */
#ifndef RP_EXTRACT_PART_H
#define RP_EXTRACT_PART_H
#include "extract_internal.h"

typedef struct rp_extract_part {
    rp_extract_setup *job; /* the job's rasters and columns */
    rp_extract_setup view; /* job's, with value arrays for cap points */
    size_t cap;
    struct rp_pool *pool;     /* the job's, or the part's own (owned) */
    OGRSpatialReferenceH srs; /* the points' CRS, or NULL */
    rp_extract_options opts;  /* the job's, --unscale off */
    rp_extract_read_stats stats;
    uint64_t *inside; /* per raster: points planned on it */
    bool owns;        /* job, pool and srs are the part's (rp_extract_part_open) */
} rp_extract_part;

/* A part over a job that is already set up (its pool, its points' CRS):
 * borrows them. */
rp_status rp_extract_part_borrow(rp_extract_part *p, rp_extract_setup *job, struct rp_pool *pool,
                                 OGRSpatialReferenceH points_srs, const rp_extract_options *opts,
                                 rp_error *err);
/* A part of its own: opens the job's rasters and columns as rp_extract_run
 * does, and its pool (of the job's size). Then rp_extract_part_points_crs. */
rp_status rp_extract_part_open(rp_extract_part *p, const rp_extract_options *opts, rp_error *err);
/* The points' CRS, as WKT (NULL or "": --points-crs, or none): a raster the
 * points cannot reach fails its columns (status error), as in the job. */
rp_status rp_extract_part_points_crs(rp_extract_part *p, const char *points_wkt, rp_error *err);
/* Reads every column at k points (x, y in the points' CRS): the values and
 * statuses are then p->view.columns[c].values / .status [0, k). Errors stop
 * the job (out of memory); unreadable blocks are statuses and counts. */
rp_status rp_extract_part_run(rp_extract_part *p, const double *x, const double *y, size_t k,
                              rp_error *err);
/* The bytes of one point's values and statuses over all columns. */
size_t rp_extract_part_point_bytes(const rp_extract_part *p);
/* Frees what the part owns; a zeroed part is a no-op. */
void rp_extract_part_free(rp_extract_part *p);

#endif
