/*
 * table_csv.h — the output table as CSV text.
 */
#ifndef RP_TABLE_CSV_H
#define RP_TABLE_CSV_H
#include <stdio.h>

#include "table_internal.h"

/* Writes the header and every row as CSV text to out (see table_csv.c for
 * how rows are carried). RP_OK; RP_WRITE, RP_READ (the points changed),
 * RP_NOMEM, RP_INTERRUPTED. */
rp_status rp_table_write_csv(FILE *out, const rp_table_spec *spec, rp_error *err);

#endif
