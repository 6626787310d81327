/*
 * points_read.h — reading points, the entry points: pass 1
 * (rp_points_read: a CSV file, standard input, or any OGR vector dataset)
 * and pass 2 (rp_points_rows_*: the same rows again, in order). The types
 * are in points_internal.h.
 */
#ifndef RP_POINTS_READ_H
#define RP_POINTS_READ_H
#include "csv.h"
#include "points_internal.h"

/* Pass 1. Fills points; bad rows are warned about on opts->log with their
 * line number and counted. Errors: RP_OPEN (cannot open/read, empty file),
 * RP_USAGE (no x/y columns, unknown layer), RP_INTERRUPTED (progress said
 * stop). Call rp_points_free afterwards whatever it returns. */
rp_status rp_points_read(const rp_points_options *opts, rp_points *points, rp_error *err);
void rp_points_free(rp_points *points);

/* Pass 2: the rows again, in order. */
typedef struct rp_points_rows rp_points_rows;
rp_points_rows *rp_points_rows_begin(rp_points *points, rp_error *err);
/* The next row: a CSV record, or an OGR feature (owned by the iterator,
 * valid until the next call). 1, 0 at the end, -1 on error. */
int rp_points_rows_next(rp_points_rows *rows, const rp_csv_record **record, OGRFeatureH *feature);
void rp_points_rows_end(rp_points_rows *rows);

#endif
