/*
 * points_csv_pieces.h — pass 1 of a large CSV file in parallel pieces.
 */
#ifndef RP_POINTS_CSV_PIECES_H
#define RP_POINTS_CSV_PIECES_H
#include <stdint.h>

#include "points_buf.h"

/* Pass 1 of a CSV file's data rows in parallel pieces on opts->pool, from
 * byte `offset` on line `line` (just after the header) to `size`, read from
 * fd with pread: the same points, bad rows, warnings and slices as reading
 * row by row gives, one slice a piece. RP_OK, or an error as
 * rp_points_read's. */
rp_status rp_points_csv_pieces(const rp_points_options *opts, rp_points *pts, int fd,
                               uint64_t offset, uint64_t line, uint64_t size, rp_xy_buf *xy,
                               rp_error *err);

#endif
