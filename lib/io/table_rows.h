/*
 * table_rows.h — the pass-2 row loop that both table writers run: every
 * input row again, in order, with its index, progress and the check that
 * pass 2 saw exactly the rows of pass 1.
 */
#ifndef RP_TABLE_ROWS_H
#define RP_TABLE_ROWS_H
#include <stddef.h>

#include "csv.h"
#include "table_internal.h"

/* Called once per input row, in order: i is the row's index (0-based), and
 * the row is a CSV record (record non-NULL) or an OGR feature. Both are
 * valid for the call only. RP_OK goes on; anything else stops the loop and
 * is returned. */
typedef rp_status (*rp_table_row_fn)(void *ctx, size_t i, const rp_csv_record *record,
                                     OGRFeatureH feature, rp_error *err);

/* Reads spec->points' rows again (rp_points_rows_*) and calls row_fn on
 * each; every 65,536 rows reports progress ("writing"), and stops with
 * RP_INTERRUPTED when the caller's progress function says so. After the
 * last row, the rows must be as many as pass 1 read: RP_READ ("the points
 * changed while being read") otherwise, or on a read error. */
rp_status rp_table_for_each_row(const rp_table_spec *spec, rp_table_row_fn row_fn, void *ctx,
                                rp_error *err);

/* RP_READ: "NAME: the points changed while being read" (for readers of the
 * rows by other means, such as the CSV writer's slices). */
rp_status rp_table_points_changed(const rp_table_spec *spec, rp_error *err);

#endif
