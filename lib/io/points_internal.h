/*
 * points_internal.h — reading points: a CSV (fast path) or any OGR vector
 * dataset. Reading happens twice: pass 1 keeps only coordinates (memory is
 * 16 bytes a point, not the rows' text); pass 2 streams the rows again, in
 * the same order, for the output to carry them through. Standard input is
 * spooled to a temporary file during pass 1 so it can be read again.
 */
#ifndef RP_POINTS_INTERNAL_H
#define RP_POINTS_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <gdal.h>
#include <ogr_api.h>

#include "csv.h"
#include "rasterpool.h"

struct rp_pool;

typedef struct rp_points_options {
    const char *path;  /* NULL or "-" for standard input (CSV) */
    const char *x_col; /* NULL: detect */
    const char *y_col;
    const char *layer;       /* OGR layer name; NULL: the first */
    FILE *log;               /* where bad-row warnings go; NULL: nowhere */
    rp_progress_fn progress; /* polled while reading; non-zero cancels */
    void *progress_user;
    struct rp_pool *pool; /* parses a large CSV file in parallel; may be NULL */
} rp_points_options;

/* Where a slice of rows starts in the CSV text that pass 2 reads (the file,
 * or the spool of standard input): pass 2 reads and formats slices in
 * parallel. Read row by row, pass 1 starts a slice every
 * RP_POINTS_SLICE_ROWS rows; read in parallel, one a piece of the file. */
#define RP_POINTS_SLICE_ROWS 65536
typedef struct rp_points_slice {
    uint64_t offset;  /* byte offset of the slice's first record */
    uint64_t line;    /* its line number, for messages */
    size_t first_row; /* index of its first point */
} rp_points_slice;

typedef struct rp_points {
    size_t n;
    double *x, *y; /* as read; NaN for bad rows */
    uint8_t *bad;  /* per point: 1 when the row could not be parsed */
    size_t nbad;
    OGRSpatialReferenceH srs; /* CRS the file declares, or NULL */

    /* how to read the rows again */
    bool is_csv;
    char *display_name; /* for messages: the path or "<stdin>" */
    char *path;
    FILE *spool; /* stdin's copy */
    char delimiter;
    size_t x_field, y_field;
    char *header; /* CSV header line as read (no line end) */
    size_t header_len;
    size_t header_fields;    /* fields in the header */
    char **header_names;     /* their names, unquoted (a CSL list) */
    rp_points_slice *slices; /* CSV: one per RP_POINTS_SLICE_ROWS rows */
    size_t nslices;
    uint64_t spool_len; /* bytes written to the spool so far */
    GDALDatasetH vector;
    OGRLayerH layer;
} rp_points;

/* Pass 1. Fills points; bad rows are warned about on opts->log with their
 * line number and counted. Errors: RP_OPEN (cannot open/read, empty file),
 * RP_USAGE (no x/y columns, unknown layer), RP_INTERRUPTED (progress said
 * stop). */
rp_status rp_points_read(const rp_points_options *opts, rp_points *points, rp_error *err);
void rp_points_free(rp_points *points);

/* Shared by the row-by-row and the parallel CSV readers. */
enum { RP_POINTS_WHY = 160, RP_POINTS_MAX_WARNINGS = 20 };
/* The coordinates of a CSV record; false with the reason (RP_POINTS_WHY
 * bytes) when they cannot be parsed. */
bool rp_points_parse_xy(const rp_points *pts, const rp_csv_record *rec, double *x, double *y,
                        char *why);
/* Appends a point (bad: NaN coordinates, counted in nbad). 0, or -1 when
 * memory runs out. */
int rp_points_push(rp_points *pts, size_t *cap, double x, double y, bool bad);
/* Appends all of part's points (x, y, bad; nbad added). 0, or -1 when
 * memory runs out. */
int rp_points_append(rp_points *pts, size_t *cap, const rp_points *part);
/* "rasterpool: FILE:WHERE: DETAIL" for the bad row numbered `ordinal`
 * (1-based among bad rows) when it is among the first
 * RP_POINTS_MAX_WARNINGS; one note after them. */
void rp_points_warn_bad(const rp_points_options *opts, const rp_points *pts, size_t ordinal,
                        const char *where, const char *detail);
/* Reads exactly len bytes at offset of fd (retrying short reads and
 * signals; safe to share fd between threads). 0, -1 on an error (errno
 * set), 1 when the file ends first. Both the parallel pass 1 and pass 2
 * read the points file this way. */
int rp_points_pread(int fd, char *buf, size_t len, uint64_t offset);
/* Starts a slice at the next point. 0, or -1 when memory runs out. */
int rp_points_add_slice(rp_points *pts, uint64_t offset, uint64_t line);
/* Pass 1 of a CSV file's data rows in parallel pieces (points_csv_pieces.c),
 * from byte `offset` on line `line` (just after the header) to the end.
 * RP_OK, or an error as rp_points_read's. */
rp_status rp_points_read_pieces(const rp_points_options *opts, rp_points *pts, int fd,
                                uint64_t offset, uint64_t line, uint64_t size, rp_error *err);

/* Pass 2: the rows again, in order. */
typedef struct rp_points_rows rp_points_rows;
rp_points_rows *rp_points_rows_begin(rp_points *points, rp_error *err);
/* The next row: a CSV record, or an OGR feature (owned by the iterator,
 * valid until the next call). 1, 0 at the end, -1 on error. */
int rp_points_rows_next(rp_points_rows *rows, const rp_csv_record **record, OGRFeatureH *feature);
void rp_points_rows_end(rp_points_rows *rows);

#endif
