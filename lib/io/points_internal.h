/*
 * points_internal.h — the points' shared types: what pass 1 keeps of the
 * points and how pass 2 finds the rows again. Reading happens twice: pass 1
 * keeps only coordinates (memory is 16 bytes a point, not the rows' text);
 * pass 2 streams the rows again, in the same order, for the output to carry
 * them through. Standard input is spooled to a temporary file during pass 1
 * so it can be read again. The functions are in points_read.h (the entry
 * points) and the pass-1 modules' own headers.
 */
#ifndef RP_POINTS_INTERNAL_H
#define RP_POINTS_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include <gdal.h>
#include <ogr_api.h>

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
 * RP_POINTS_SLICE_ROWS rows or once the slice holds RP_POINTS_SLICE_BYTES
 * of text, whichever comes first (long rows: pass 2's memory stays bounded
 * as for the parallel pieces); read in parallel, one a piece of the file. */
#define RP_POINTS_SLICE_ROWS 65536
#define RP_POINTS_SLICE_BYTES ((uint64_t)8 << 20)
typedef struct rp_points_slice {
    uint64_t offset;  /* byte offset of the slice's first record */
    uint64_t line;    /* its line number, for messages */
    size_t first_row; /* index of its first point */
    bool quote_free;  /* pass 1 read all its lines and found no '"': pass 2 need not look */
} rp_points_slice;

/* What a points file was when pass 1 opened it (points_map.c): pass 2
 * reads it again, and a file changed in between is told, never read as if
 * it were the same. */
typedef struct rp_file_identity {
    bool known; /* a file opened by path (not standard input, not vector) */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} rp_file_identity;

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
    bool wkt;     /* the point is WKT in field x_field (a CSV's WKT/geometry column) */
    char *header; /* CSV header line as read (no line end) */
    size_t header_len;
    size_t header_fields;    /* fields in the header */
    char **header_names;     /* their names, unquoted (a CSL list) */
    rp_points_slice *slices; /* CSV: one per RP_POINTS_SLICE_ROWS rows */
    size_t nslices;
    uint64_t spool_len; /* bytes written to the spool so far */
    /* the CSV file mapped for both passes (points_map.c), or NULL: read
     * with pread */
    const char *text;
    uint64_t text_len;
    struct rp_points_map *map;
    rp_file_identity identity; /* the CSV file's, noted as pass 1 opened it */
    GDALDatasetH vector;
    OGRLayerH layer;

    /* the rows pass 2 writes: [write_lo, write_hi) when write_range (a job
     * run as one shard of several); every row otherwise */
    bool write_range;
    size_t write_lo, write_hi;
    bool write_no_header; /* CSV: no header line (a later part of an MPI job) */
} rp_points;

/* Whether pass 2 writes row i. */
static inline bool rp_points_row_written(const rp_points *pts, size_t i) {
    return !pts->write_range || (i >= pts->write_lo && i < pts->write_hi);
}

/* The folder standard input is spooled to: $TMPDIR, else /tmp
 * (points_read.c). */
const char *rp_points_spool_folder(void);

#endif
