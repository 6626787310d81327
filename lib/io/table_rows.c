/*
 * table_rows.c — the pass-2 row loop of the table writers (see
 * table_rows.h). The writers give a per-row callback and never call back
 * into their dispatcher: table_write.c -> {table_csv.c, table_ogr.c} ->
 * table_rows.c is a DAG.
 *
 * Threads: the caller's thread only.
 */
#include "table_rows.h"

#include "error.h"
#include "points_map.h"
#include "points_read.h"

enum { PROGRESS_EVERY_ROWS = 1 << 16 };

rp_status rp_table_points_changed(const rp_table_spec *spec, rp_error *err) {
    return rp_error_set(err, RP_READ, "%s: the points changed while being read",
                        spec->points->display_name);
}

/* After row `rows`: progress every PROGRESS_EVERY_ROWS rows. */
static rp_status row_done(const rp_table_spec *spec, size_t rows, rp_error *err) {
    if (!spec->progress || rows % PROGRESS_EVERY_ROWS != 0)
        return RP_OK;
    double fraction = (double)rows / (double)spec->points->n;
    if (spec->progress(fraction, "writing", spec->progress_user) != 0)
        return rp_error_set(err, RP_INTERRUPTED, "interrupted");
    return RP_OK;
}

rp_status rp_table_for_each_row(const rp_table_spec *spec, rp_table_row_fn row_fn, void *ctx,
                                rp_error *err) {
    rp_points *pts = spec->points;
    rp_status rc = rp_points_check_unchanged(pts, "before writing the output", err);
    if (rc != RP_OK)
        return rc;
    rp_points_rows *rows = rp_points_rows_begin(pts, err);
    if (!rows)
        return err ? err->code : RP_READ;
    size_t i = 0;
    int got;
    for (;;) {
        const rp_csv_record *record = NULL;
        OGRFeatureH feature = NULL;
        got = rp_points_rows_next(rows, &record, &feature);
        if (got != 1)
            break;
        if (i >= pts->n) { /* more rows than pass 1 read */
            got = -1;
            break;
        }
        if (rp_points_row_written(pts, i))
            rc = row_fn(ctx, i, record, feature, err);
        i++;
        if (rc == RP_OK)
            rc = row_done(spec, i, err);
        if (rc != RP_OK)
            break;
    }
    if (rc == RP_OK && (got < 0 || i != pts->n))
        rc = rp_table_points_changed(spec, err);
    rp_points_rows_end(rows);
    if (rc == RP_OK)
        rc = rp_points_check_unchanged(pts, "after writing the output", err);
    return rc;
}
