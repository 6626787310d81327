/*
 * table_internal.h — what the output table's modules share: the
 * description of the table to write. The functions are in table_write.h
 * (the entry points), table_csv.h and table_ogr.h (the two writers) and
 * table_rows.h (the pass-2 row loop both writers use).
 */
#ifndef RP_TABLE_INTERNAL_H
#define RP_TABLE_INTERNAL_H
#include <stdbool.h>
#include <stdio.h>

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

#endif
