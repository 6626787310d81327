/*
 * table_csv.h — the output table as CSV text.
 */
#ifndef RP_TABLE_CSV_H
#define RP_TABLE_CSV_H
#include <stdbool.h>
#include <stdio.h>

#include "table_internal.h"

/* Writes the header and every row as CSV text to out (see table_csv.c for
 * how rows are carried). staged: out is the program's own staged file (it
 * may be written past the page cache, io/direct_out.c); an output written
 * in place never is, so that an interrupted one still ends on a whole row.
 * RP_OK; RP_WRITE, RP_READ (the points changed), RP_NOMEM, RP_INTERRUPTED. */
rp_status rp_table_write_csv(FILE *out, const rp_table_spec *spec, bool staged, rp_error *err);

#endif
