/*
 * points_buf.h — the bottom of the points reader: a growable buffer of
 * coordinates, and what every pass-1 reader (CSV row by row, CSV in
 * parallel pieces, OGR) shares: parsing a record's x/y, noting a slice for
 * pass 2, warning about a bad row, polling for a stop. Calls nothing of
 * the other points modules.
 */
#ifndef RP_POINTS_BUF_H
#define RP_POINTS_BUF_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "csv.h"
#include "points_internal.h"

/* Coordinates as pass 1 reads them: a CSV piece's, or the whole file's
 * before they are handed to rp_points. Zero-initialise; free with
 * rp_xy_buf_free. */
typedef struct rp_xy_buf {
    double *x, *y; /* NaN for bad rows */
    uint8_t *bad;  /* 1 when the row could not be parsed */
    size_t n, nbad, cap;
} rp_xy_buf;

/* Appends a point (bad: counted in nbad). 0, or -1 when memory runs out. */
int rp_xy_buf_push(rp_xy_buf *buf, double x, double y, bool bad);
/* Appends all of part's points. 0, or -1 when memory runs out. */
int rp_xy_buf_append(rp_xy_buf *buf, const rp_xy_buf *part);
/* Room for `points` points in all at once (an estimate made early, so the
 * arrays are not copied as they grow: each copy writes fresh pages). 0, or
 * -1 when memory runs out (the buffer is then unchanged). */
int rp_xy_buf_reserve(rp_xy_buf *buf, size_t points);
/* Frees the arrays and zeroes buf. */
void rp_xy_buf_free(rp_xy_buf *buf);
/* Moves buf's points into pts (which must have none); buf is left empty. */
void rp_xy_buf_move_to(rp_xy_buf *buf, rp_points *pts);

enum { RP_POINTS_WHY = 160, RP_POINTS_MAX_WARNINGS = 20 };
/* The coordinates of a CSV record in pts's x/y columns; false with the
 * reason (RP_POINTS_WHY bytes) when they cannot be parsed. */
bool rp_points_parse_xy(const rp_points *pts, const rp_csv_record *rec, double *x, double *y,
                        char *why);
/* "rasterpool: FILE:WHERE: DETAIL" for the bad row numbered `ordinal`
 * (1-based among bad rows) when it is among the first
 * RP_POINTS_MAX_WARNINGS; one note after them. */
void rp_points_warn_bad(const rp_points_options *opts, const rp_points *pts, size_t ordinal,
                        const char *where, const char *detail);
/* Starts a slice of pass 2 at point first_row; quote_free when every line
 * of it was read and holds no '"' (false: not known). 0, or -1 when memory
 * runs out. */
int rp_points_add_slice(rp_points *pts, uint64_t offset, uint64_t line, size_t first_row,
                        bool quote_free);
/* Every 4096 rows: reports progress (fraction of the input read, 0 when
 * unknown) and returns true when the caller asked to stop. */
bool rp_points_should_stop(const rp_points_options *opts, size_t rows, double fraction);

#endif
