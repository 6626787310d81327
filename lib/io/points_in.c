/*
 * points_in.c — points from a CSV file, standard input, or an OGR dataset.
 *
 * Pass 1 (rp_points_read) keeps coordinates only. CSV goes through the
 * streaming record reader (csv.c) and numparse.cc (strtod for what is not a
 * plain decimal); the x/y columns are found by
 * name (x/y, lon/lat, longitude/latitude, easting/northing, any case) unless
 * named. A row whose coordinates cannot be parsed is kept as a point with NaN
 * coordinates and flagged bad, and a warning names FILE:LINE. Vector data is
 * read with OGR: point geometries only, others are bad rows.
 *
 * Pass 2 (rp_points_rows_*) reads the same rows again: the CSV file reopened
 * (or the spool of standard input), or the OGR layer reset.
 *
 * Threads: the caller's thread only. Ownership: rp_points owns everything it
 * points to, including the OGR dataset and the spool.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_string.h>

#include "crs.h"
#include "gdal_errors.h"
#include "numtext.h"
#include "points_internal.h"
#include "pool.h"

/* A CSV file this much larger than its header is read in parallel pieces
 * (points_csv_pieces.c) when the caller gives a pool of several threads. */
enum { PARALLEL_MIN_BYTES = 1 << 20 };


static const char *const xy_names[][2] = {
    {"x", "y"},     {"lon", "lat"},  {"longitude", "latitude"}, {"easting", "northing"},
    {"lng", "lat"}, {"long", "lat"},
};

static bool field_is(const rp_csv_record *rec, size_t i, const char *name) {
    char buf[256];
    size_t n = rp_csv_field_text(rec, i, buf, sizeof buf);
    if (n >= sizeof buf)
        return false;
    /* tolerate spaces around header names */
    char *s = buf;
    while (*s == ' ')
        s++;
    size_t len = strlen(s);
    while (len > 0 && s[len - 1] == ' ')
        s[--len] = '\0';
    return strcasecmp(s, name) == 0;
}

static long find_field(const rp_csv_record *rec, const char *name) {
    for (size_t i = 0; i < rec->nfields; i++)
        if (field_is(rec, i, name))
            return (long)i;
    return -1;
}

static rp_status find_xy_columns(const rp_points_options *opts, rp_points *pts,
                                 const rp_csv_record *header, rp_error *err) {
    if (opts->x_col || opts->y_col) {
        const char *xn = opts->x_col ? opts->x_col : "x";
        const char *yn = opts->y_col ? opts->y_col : "y";
        long xi = find_field(header, xn), yi = find_field(header, yn);
        if (xi < 0 || yi < 0)
            return rp_error_set(err, RP_USAGE, "%s: no column named '%s' in the header",
                                pts->display_name, xi < 0 ? xn : yn);
        pts->x_field = (size_t)xi;
        pts->y_field = (size_t)yi;
        return RP_OK;
    }
    for (size_t k = 0; k < sizeof xy_names / sizeof xy_names[0]; k++) {
        long xi = find_field(header, xy_names[k][0]), yi = find_field(header, xy_names[k][1]);
        if (xi >= 0 && yi >= 0) {
            pts->x_field = (size_t)xi;
            pts->y_field = (size_t)yi;
            return RP_OK;
        }
    }
    return rp_error_set(err, RP_USAGE,
                        "%s: no x/y columns in the header (looked for x,y / lon,lat / "
                        "longitude,latitude / easting,northing); name them with --x-col and "
                        "--y-col",
                        pts->display_name);
}

/* The header's field names, unquoted. */
static char **header_names(const rp_csv_record *header) {
    char **names = NULL;
    for (size_t i = 0; i < header->nfields; i++) {
        size_t n = rp_csv_field_text(header, i, NULL, 0);
        char *name = malloc(n + 1);
        if (!name)
            break;
        rp_csv_field_text(header, i, name, n + 1);
        names = CSLAddString(names, name);
        free(name);
    }
    return names;
}

/* Appends one point, growing the arrays geometrically. */
/* Room for `need` points in all, growing the arrays geometrically. */
static int reserve_points(rp_points *pts, size_t *cap, size_t need) {
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 4096;
    while (c < need)
        c *= 2;
    double *nx = realloc(pts->x, c * sizeof *nx);
    if (nx)
        pts->x = nx;
    double *ny = realloc(pts->y, c * sizeof *ny);
    if (ny)
        pts->y = ny;
    uint8_t *nb = realloc(pts->bad, c * sizeof *nb);
    if (nb)
        pts->bad = nb;
    if (!nx || !ny || !nb)
        return -1;
    *cap = c;
    return 0;
}

int rp_points_push(rp_points *pts, size_t *cap, double x, double y, bool bad) {
    if (reserve_points(pts, cap, pts->n + 1) != 0)
        return -1;
    pts->x[pts->n] = x;
    pts->y[pts->n] = y;
    pts->bad[pts->n] = bad;
    pts->n++;
    if (bad)
        pts->nbad++;
    return 0;
}

int rp_points_append(rp_points *pts, size_t *cap, const rp_points *part) {
    if (reserve_points(pts, cap, pts->n + part->n) != 0)
        return -1;
    memcpy(pts->x + pts->n, part->x, part->n * sizeof *part->x);
    memcpy(pts->y + pts->n, part->y, part->n * sizeof *part->y);
    memcpy(pts->bad + pts->n, part->bad, part->n * sizeof *part->bad);
    pts->n += part->n;
    pts->nbad += part->nbad;
    return 0;
}

/* "rasterpool: FILE:WHERE: DETAIL" for the first bad rows only. */
void rp_points_warn_bad(const rp_points_options *opts, const rp_points *pts, size_t ordinal,
                        const char *where, const char *detail) {
    if (!opts->log)
        return;
    if (ordinal <= RP_POINTS_MAX_WARNINGS)
        fprintf(opts->log, "rasterpool: %s:%s: %s\n", pts->display_name, where, detail);
    if (ordinal == RP_POINTS_MAX_WARNINGS + 1)
        fprintf(opts->log, "rasterpool: %s: more bad rows follow; only the first %d are shown\n",
                pts->display_name, RP_POINTS_MAX_WARNINGS);
}

/* Parses one coordinate field. Returns false, with the reason in `why`, when
 * it is missing, empty or not a number. "nan" parses, and lands outside the
 * raster. */
static bool parse_coordinate(const rp_csv_record *rec, size_t field, const char *axis, double *out,
                             char *why, size_t why_cap) {
    if (field >= rec->nfields) {
        snprintf(why, why_cap, "%s coordinate missing (the row has %zu fields)", axis,
                 rec->nfields);
        return false;
    }
    const rp_csv_field *f = &rec->fields[field];
    if (!f->quoted && rp_parse_decimal(rec->raw + f->offset, f->length, out))
        return true; /* the common case: a plain decimal, parsed in place */
    char buf[128];
    size_t n = rp_csv_field_text(rec, field, buf, sizeof buf);
    char *s = buf;
    while (isspace((unsigned char)*s))
        s++;
    if (*s == '\0') {
        snprintf(why, why_cap, "%s coordinate empty", axis);
        return false;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno == ERANGE && isinf(v)) {
        snprintf(why, why_cap, "%s coordinate '%.40s' is out of range", axis, s);
        return false;
    }
    while (isspace((unsigned char)*end))
        end++;
    if (n >= sizeof buf || end == s || *end != '\0') {
        snprintf(why, why_cap, "%s coordinate '%.40s%s' is not a number", axis, s,
                 strlen(s) > 40 ? "..." : "");
        return false;
    }
    *out = v;
    return true;
}

bool rp_points_parse_xy(const rp_points *pts, const rp_csv_record *rec, double *x, double *y,
                        char *why) {
    if (rec->open_quote) {
        snprintf(why, RP_POINTS_WHY,
                 "a quoted field is never closed (it runs to the end of "
                 "the file)");
        return false;
    }
    return parse_coordinate(rec, pts->x_field, "x", x, why, RP_POINTS_WHY) &&
           parse_coordinate(rec, pts->y_field, "y", y, why, RP_POINTS_WHY);
}

/* Every 4096 rows: reports progress (fraction of the file read, when its
 * size is known) and returns true when the caller asked to stop. */
static bool should_stop(const rp_points_options *opts, size_t rows, FILE *in, long size) {
    if (!opts->progress || (rows & 0xfff) != 0)
        return false;
    double fraction = 0;
    if (in && size > 0) {
        long at = ftell(in);
        fraction = at > 0 ? (double)at / (double)size : 0;
    }
    return opts->progress(fraction > 1 ? 1 : fraction, "reading points", opts->progress_user) != 0;
}

static long file_size(FILE *in) {
    struct stat st;
    return fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode) ? (long)st.st_size : -1;
}

/* rp_csv_read that goes on after a signal interrupted a read, unless the
 * caller's progress function says stop: then -4. */
static int next_record(rp_csv_reader *reader, rp_csv_record *rec, const rp_points_options *opts) {
    int got;
    while ((got = rp_csv_read(reader, rec)) == -3)
        if (opts->progress && opts->progress(0, "reading points", opts->progress_user))
            return -4;
    return got;
}

/* Standard input's copy, for the second pass. */
static rp_status spool_record(rp_points *pts, const rp_csv_record *rec, rp_error *err) {
    if (!pts->spool)
        return RP_OK;
    if (fwrite(rec->raw, 1, rec->raw_len, pts->spool) != rec->raw_len ||
        fputc('\n', pts->spool) == EOF)
        return rp_error_set(err, RP_WRITE, "cannot spool standard input to a temporary file");
    pts->spool_len += rec->raw_len + 1;
    return RP_OK;
}

/* Before the first row of each slice: where pass 2 finds it. */
static int mark_slice(rp_points *pts, const rp_csv_record *rec) {
    if (pts->n % RP_POINTS_SLICE_ROWS != 0)
        return 0;
    return rp_points_add_slice(pts, pts->spool ? pts->spool_len : rec->offset, rec->line);
}

int rp_points_pread(int fd, char *buf, size_t len, uint64_t offset) {
    size_t done = 0;
    while (done < len) {
        ssize_t got = pread(fd, buf + done, len - done, (off_t)(offset + done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return got < 0 ? -1 : 1;
        done += (size_t)got;
    }
    return 0;
}

int rp_points_add_slice(rp_points *pts, uint64_t offset, uint64_t line) {
    rp_points_slice *grown = realloc(pts->slices, (pts->nslices + 1) * sizeof *grown);
    if (!grown)
        return -1;
    pts->slices = grown;
    grown[pts->nslices].offset = offset;
    grown[pts->nslices].line = line;
    grown[pts->nslices].first_row = pts->n;
    pts->nslices++;
    return 0;
}

/* The header: its delimiter (then the record is split again with it), the
 * x/y columns, its text and names for the output. */
static rp_status read_header(const rp_points_options *opts, rp_points *pts, rp_csv_reader *reader,
                             rp_error *err) {
    rp_csv_record rec;
    int got = next_record(reader, &rec, opts);
    if (got == -4)
        return rp_error_set(err, RP_INTERRUPTED, "interrupted");
    if (got <= 0)
        return rp_error_set(err, RP_OPEN, "%s: %s", pts->display_name,
                            got < 0 ? "cannot read" : "empty file: no header line");
    pts->delimiter = rp_csv_detect_delimiter(rec.raw, rec.raw_len);
    if (pts->delimiter != ',') {
        rp_csv_reader_set_delimiter(reader, pts->delimiter);
        rp_csv_unread(reader);
        if (rp_csv_read(reader, &rec) != 1)
            return rp_error_set(err, RP_READ, "%s: cannot read the header", pts->display_name);
    }
    rp_status rc = find_xy_columns(opts, pts, &rec, err);
    if (rc != RP_OK)
        return rc;
    pts->header_names = header_names(&rec);
    pts->header_fields = rec.nfields;
    pts->header = malloc(rec.raw_len + 1);
    if (!pts->header || !pts->header_names)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    memcpy(pts->header, rec.raw, rec.raw_len);
    pts->header[rec.raw_len] = '\0';
    pts->header_len = rec.raw_len;
    return spool_record(pts, &rec, err);
}

static rp_status read_csv(const rp_points_options *opts, rp_points *pts, FILE *in, rp_error *err) {
    rp_csv_reader *reader = rp_csv_reader_new(in, ',');
    if (!reader)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    rp_status rc = read_header(opts, pts, reader, err);
    size_t cap = 0;
    long size = file_size(in);
    uint64_t data_at = rp_csv_reader_offset(reader);
    if (rc == RP_OK && !pts->spool && opts->pool && rp_pool_threads(opts->pool) > 1 && size > 0 &&
        (uint64_t)size > data_at + PARALLEL_MIN_BYTES) {
        rc = rp_points_read_pieces(opts, pts, fileno(in), data_at, rp_csv_reader_line(reader),
                                   (uint64_t)size, err);
        rp_csv_reader_free(reader);
        return rc;
    }
    uint64_t last_line = 1;
    rp_csv_record rec;
    int got = 0;
    while (rc == RP_OK && (got = next_record(reader, &rec, opts)) == 1) {
        last_line = rec.line;
        if (should_stop(opts, pts->n, in, size)) {
            rc = rp_error_set(err, RP_INTERRUPTED, "interrupted");
            break;
        }
        double x = NAN, y = NAN;
        char why[RP_POINTS_WHY];
        bool ok = rp_points_parse_xy(pts, &rec, &x, &y, why);
        if (mark_slice(pts, &rec) != 0 ||
            rp_points_push(pts, &cap, ok ? x : NAN, ok ? y : NAN, !ok) != 0) {
            rc = rp_error_set(err, RP_NOMEM, "out of memory reading points");
            break;
        }
        if (!ok) {
            char where[32];
            snprintf(where, sizeof where, "%llu", (unsigned long long)rec.line);
            rp_points_warn_bad(opts, pts, pts->nbad, where, why);
        }
        rc = spool_record(pts, &rec, err);
    }
    if (rc == RP_OK && got == -4)
        rc = rp_error_set(err, RP_INTERRUPTED, "interrupted");
    else if (rc == RP_OK && got == -2)
        rc =
            rp_error_set(err, RP_READ,
                         "%s: a record after line %llu is longer than %zu MiB (an unclosed "
                         "quote?)",
                         pts->display_name, (unsigned long long)last_line, RP_CSV_MAX_RECORD >> 20);
    else if (rc == RP_OK && got < 0)
        rc = rp_error_set(err, RP_READ, "%s: read error after line %llu: %s", pts->display_name,
                          (unsigned long long)last_line, strerror(errno));
    rp_csv_reader_free(reader);
    return rc;
}

static rp_status read_vector(const rp_points_options *opts, rp_points *pts, rp_error *err) {
    rp_gdal_capture cap;
    rp_gdal_capture_push(&cap);
    pts->vector = GDALOpenEx(opts->path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    rp_gdal_capture_pop();
    if (!pts->vector)
        return rp_error_set(err, RP_OPEN, "%s: cannot open points: %s", opts->path,
                            cap.count ? rp_gdal_capture_text(&cap)
                                      : "not a CSV file and not vector data GDAL can read");
    pts->layer = opts->layer ? GDALDatasetGetLayerByName(pts->vector, opts->layer)
                             : GDALDatasetGetLayer(pts->vector, 0);
    if (!pts->layer)
        return rp_error_set(err, opts->layer ? RP_USAGE : RP_OPEN, "%s: %s%s%s", opts->path,
                            opts->layer ? "no layer named '" : "no layer",
                            opts->layer ? opts->layer : "", opts->layer ? "'" : "");
    OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(pts->layer);
    pts->srs = rp_crs_clone(srs);
    OGR_L_ResetReading(pts->layer);
    size_t cap_points = 0;
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(pts->layer)) != NULL) {
        if (should_stop(opts, pts->n, NULL, -1)) {
            OGR_F_Destroy(f);
            return rp_error_set(err, RP_INTERRUPTED, "interrupted");
        }
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        bool ok = g && !OGR_G_IsEmpty(g) && wkbFlatten(OGR_G_GetGeometryType(g)) == wkbPoint;
        double x = ok ? OGR_G_GetX(g, 0) : NAN, y = ok ? OGR_G_GetY(g, 0) : NAN;
        if (rp_points_push(pts, &cap_points, x, y, !ok) != 0) {
            OGR_F_Destroy(f);
            return rp_error_set(err, RP_NOMEM, "out of memory reading points");
        }
        if (!ok) {
            char where[48];
            snprintf(where, sizeof where, "feature %lld", (long long)OGR_F_GetFID(f));
            rp_points_warn_bad(opts, pts, pts->nbad, where,
                               !g || OGR_G_IsEmpty(g) ? "no geometry" : "geometry is not a point");
        }
        OGR_F_Destroy(f);
    }
    return RP_OK;
}

static bool has_csv_extension(const char *path) {
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash))
        return false;
    return strcasecmp(dot, ".csv") == 0 || strcasecmp(dot, ".tsv") == 0 ||
           strcasecmp(dot, ".txt") == 0;
}

rp_status rp_points_read(const rp_points_options *opts, rp_points *pts, rp_error *err) {
    memset(pts, 0, sizeof *pts);
    bool from_stdin = !opts->path || strcmp(opts->path, "-") == 0;
    pts->display_name = strdup(from_stdin ? "<stdin>" : opts->path);
    pts->path = from_stdin ? NULL : strdup(opts->path);
    if (!pts->display_name || (!from_stdin && !pts->path))
        return rp_error_set(err, RP_NOMEM, "out of memory");
    if (!from_stdin && !has_csv_extension(opts->path)) {
        pts->is_csv = false;
        return read_vector(opts, pts, err);
    }
    pts->is_csv = true;
    FILE *in = stdin;
    if (from_stdin) {
        pts->spool = tmpfile();
        if (!pts->spool)
            return rp_error_set(err, RP_WRITE,
                                "cannot create a temporary file to hold standard input: %s",
                                strerror(errno));
    } else {
        in = fopen(opts->path, "rb");
        if (!in)
            return rp_error_set(err, RP_OPEN, "%s: cannot open points: %s", opts->path,
                                strerror(errno));
    }
    rp_status rc = read_csv(opts, pts, in, err);
    if (in != stdin)
        fclose(in);
    if (rc == RP_OK && pts->spool && fflush(pts->spool) != 0)
        rc = rp_error_set(err, RP_WRITE, "cannot spool standard input: %s", strerror(errno));
    return rc;
}

void rp_points_free(rp_points *pts) {
    if (!pts)
        return;
    free(pts->x);
    free(pts->y);
    free(pts->bad);
    free(pts->slices);
    free(pts->display_name);
    free(pts->path);
    free(pts->header);
    CSLDestroy(pts->header_names);
    if (pts->spool)
        fclose(pts->spool);
    if (pts->srs)
        OSRDestroySpatialReference(pts->srs);
    if (pts->vector)
        GDALClose(pts->vector);
    memset(pts, 0, sizeof *pts);
}

struct rp_points_rows {
    rp_points *points;
    FILE *in;
    bool own_in;
    rp_csv_reader *reader;
    rp_csv_record record;
    OGRFeatureH feature;
};

rp_points_rows *rp_points_rows_begin(rp_points *pts, rp_error *err) {
    rp_points_rows *rows = calloc(1, sizeof *rows);
    if (!rows) {
        rp_error_set(err, RP_NOMEM, "out of memory");
        return NULL;
    }
    rows->points = pts;
    if (!pts->is_csv) {
        OGR_L_ResetReading(pts->layer);
        return rows;
    }
    if (pts->spool) {
        rows->in = pts->spool;
        rewind(rows->in);
    } else {
        rows->in = fopen(pts->path, "rb");
        rows->own_in = true;
    }
    rows->reader = rows->in ? rp_csv_reader_new(rows->in, pts->delimiter) : NULL;
    rp_csv_record header;
    if (!rows->reader || rp_csv_read(rows->reader, &header) != 1) {
        rp_error_set(err, RP_READ, "%s: cannot read the points again", pts->display_name);
        rp_points_rows_end(rows);
        return NULL;
    }
    return rows;
}

int rp_points_rows_next(rp_points_rows *rows, const rp_csv_record **record, OGRFeatureH *feature) {
    if (rows->points->is_csv) {
        int got = rp_csv_read(rows->reader, &rows->record);
        *record = got == 1 ? &rows->record : NULL;
        return got;
    }
    if (rows->feature)
        OGR_F_Destroy(rows->feature);
    rows->feature = OGR_L_GetNextFeature(rows->points->layer);
    *feature = rows->feature;
    return rows->feature ? 1 : 0;
}

void rp_points_rows_end(rp_points_rows *rows) {
    if (!rows)
        return;
    rp_csv_reader_free(rows->reader);
    if (rows->own_in && rows->in)
        fclose(rows->in);
    if (rows->feature)
        OGR_F_Destroy(rows->feature);
    free(rows);
}
