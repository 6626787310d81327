/*
 * extract_write.c — the last stage of an extract job: the point rows are
 * read again and written with their value columns, in input order, by the
 * table writers (io/table_out.c: CSV, or any OGR vector format, staged and
 * renamed into place); and what the values came to is counted for the
 * report.
 *
 * Threads: the caller's thread; the CSV writer formats slices on the pool.
 */
#include "extract_internal.h"
#include "table_internal.h"
#include "table_write.h"

rp_status rp_extract_write_values(const rp_extract_options *opts, const rp_extract_setup *s,
                                  rp_points *pts, OGRSpatialReferenceH points_srs,
                                  struct rp_pool *pool, rp_error *err) {
    /* the output's CRS is the points' own, or the first raster's */
    rp_table_spec spec = {.name = opts->output_path,
                          .points = pts,
                          .columns = s->columns,
                          .ncolumns = s->ncolumns,
                          .with_status = opts->status_column,
                          .srs = points_srs ? points_srs : s->rasters[0].info.srs,
                          .log = opts->log,
                          .pool = pool,
                          .progress = opts->progress,
                          .progress_user = opts->progress_user};
    return rp_table_write(opts->output_path, &spec, err);
}

void rp_extract_count_statuses(const rp_extract_setup *s, size_t n, rp_extract_report *rep) {
    for (int c = 0; c < s->ncolumns; c++) {
        for (size_t i = 0; i < n; i++) {
            switch (s->columns[c].status[i]) {
            case RP_POINT_OK: rep->values_ok++; break;
            case RP_POINT_NODATA: rep->values_nodata++; break;
            case RP_POINT_OUTSIDE: rep->values_outside++; break;
            default: rep->values_error++; break;
            }
        }
    }
}
