/*
 * points_csv.h — pass 1 of CSV points read row by row (a file, or standard
 * input spooled for pass 2), and the header every CSV read starts with.
 */
#ifndef RP_POINTS_CSV_H
#define RP_POINTS_CSV_H
#include <stdio.h>
#include <sys/types.h>

#include "csv.h"
#include "points_buf.h"

/* Reads the header: its delimiter (the reader is switched to it), the x/y
 * columns (named by opts or found by name), its text and names for the
 * output; spools it when reading standard input. RP_OK; RP_OPEN (empty,
 * unreadable), RP_USAGE (no x/y columns), RP_INTERRUPTED. */
rp_status rp_points_csv_header(const rp_points_options *opts, rp_points *pts, rp_csv_reader *reader,
                               rp_error *err);

/* Reads the data rows after the header into xy, one by one, noting a slice
 * every RP_POINTS_SLICE_ROWS rows or RP_POINTS_SLICE_BYTES of text
 * (whichever comes first) and spooling standard input. in is the
 * reader's stream, or NULL for a memory reader (progress then comes from
 * the records' offsets); size its size when it is a regular file (for
 * progress), else -1. RP_OK, or an error as rp_points_read's. */
rp_status rp_points_csv_rows(const rp_points_options *opts, rp_points *pts, rp_csv_reader *reader,
                             FILE *in, off_t size, rp_xy_buf *xy, rp_error *err);

#endif
