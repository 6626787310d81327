/*
 * table_internal.h — the output table's two writers (CSV text and OGR
 * datasets) and how a finished output is put in place.
 */
#ifndef RP_TABLE_INTERNAL_H
#define RP_TABLE_INTERNAL_H
#include <stdbool.h>
#include <stdio.h>

#include <gdal.h>
#include <ogr_srs_api.h>

#include "columns.h"
#include "points_internal.h"

typedef struct rp_table_spec {
    const char *name; /* the output as the user named it, for messages */
    rp_points *points;
    const rp_value_column *columns;
    int ncolumns;
    bool with_status;
    OGRSpatialReferenceH srs; /* for vector outputs */
    FILE *log;                /* warnings about malformed rows; may be NULL */
    struct rp_pool *pool;     /* formats CSV rows in parallel; NULL: row by row */
    rp_progress_fn progress;  /* polled while writing; non-zero cancels */
    void *progress_user;
} rp_table_spec;

/* Writes CSV text to out. */
rp_status rp_table_write_csv(FILE *out, const rp_table_spec *spec, rp_error *err);
/* Writes a new dataset at path with driver drv. */
rp_status rp_table_write_ogr(GDALDriverH drv, const char *path, const rp_table_spec *spec,
                             rp_error *err);

/* After each row: every 64k rows reports progress; RP_INTERRUPTED when the
 * caller asked to stop. */
rp_status rp_table_row_written(const rp_table_spec *spec, size_t rows, rp_error *err);
/* After the last row: the second pass must have seen as many rows as the
 * first (last_read is the row reader's final return). */
rp_status rp_table_rows_complete(const rp_table_spec *spec, size_t rows, int last_read,
                                 rp_error *err);

/* Is the output CSV text (stdout, no extension, .csv/.tsv/.txt)? */
bool rp_table_is_text(const char *path);
/* The vector driver that writes files with this path's extension, or NULL. */
GDALDriverH rp_table_driver_for(const char *path);

/* Checks before any work that the output can be written: a known format and
 * a writable folder. path NULL or "-" is standard output. */
rp_status rp_table_check_output(const char *path, rp_error *err);

/* Renames value and status columns whose names the input already uses
 * (or that repeat), appending _2, _3, ...; says so on log. */
rp_status rp_table_unique_names(rp_points *points, rp_value_column *columns, int ncolumns,
                                bool with_status, FILE *log, rp_error *err);

/* Writes the output table (CSV or by extension any OGR format) and puts it
 * in place only when complete. Call rp_table_check_output first (before the
 * job's work, so a bad -o fails at once). */
rp_status rp_table_write(const char *path, const rp_table_spec *spec, rp_error *err);

#endif
