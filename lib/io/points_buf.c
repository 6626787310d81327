/*
 * points_buf.c — the coordinate buffer and the helpers every pass-1 reader
 * shares (see points_buf.h): the lowest of the points modules, so the
 * readers above it (points_csv.c, points_csv_pieces.c, points_ogr.c) and
 * their dispatcher (points_read.c) form no cycle. A row's point is two
 * decimal fields (the whole field must be the number: "9\09.5" is not 9)
 * or one WKT field (POINT, or a MULTIPOINT of one point).
 *
 * Threads: a buffer belongs to one thread at a time (a parallel piece
 * fills its own); rp_points_parse_xy only reads the shared rp_points, so
 * workers may call it at once. Warnings and slices: the caller's thread.
 */
#include "points_buf.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "memhint.h"
#include "numtext.h"

/* Room for `need` points in all, growing the arrays geometrically. */
static int reserve(rp_xy_buf *buf, size_t need) {
    if (need <= buf->cap)
        return 0;
    size_t c = buf->cap ? buf->cap : 4096;
    while (c < need)
        c *= 2;
    double *nx = realloc(buf->x, c * sizeof *nx);
    if (nx)
        buf->x = nx;
    double *ny = realloc(buf->y, c * sizeof *ny);
    if (ny)
        buf->y = ny;
    uint8_t *nb = realloc(buf->bad, c * sizeof *nb);
    if (nb)
        buf->bad = nb;
    if (!nx || !ny || !nb)
        return -1;
    rp_hint_huge(buf->x, c * sizeof *nx); /* before the new part is written */
    rp_hint_huge(buf->y, c * sizeof *ny);
    buf->cap = c;
    return 0;
}

int rp_xy_buf_push(rp_xy_buf *buf, double x, double y, bool bad) {
    if (reserve(buf, buf->n + 1) != 0)
        return -1;
    buf->x[buf->n] = x;
    buf->y[buf->n] = y;
    buf->bad[buf->n] = bad;
    buf->n++;
    if (bad)
        buf->nbad++;
    return 0;
}

int rp_xy_buf_reserve(rp_xy_buf *buf, size_t points) {
    return reserve(buf, points);
}

int rp_xy_buf_append(rp_xy_buf *buf, const rp_xy_buf *part) {
    if (part->n == 0)
        return 0;
    if (reserve(buf, buf->n + part->n) != 0)
        return -1;
    memcpy(buf->x + buf->n, part->x, part->n * sizeof *part->x);
    memcpy(buf->y + buf->n, part->y, part->n * sizeof *part->y);
    memcpy(buf->bad + buf->n, part->bad, part->n * sizeof *part->bad);
    buf->n += part->n;
    buf->nbad += part->nbad;
    return 0;
}

void rp_xy_buf_free(rp_xy_buf *buf) {
    free(buf->x);
    free(buf->y);
    free(buf->bad);
    memset(buf, 0, sizeof *buf);
}

void rp_xy_buf_move_to(rp_xy_buf *buf, rp_points *pts) {
    pts->x = buf->x;
    pts->y = buf->y;
    pts->bad = buf->bad;
    pts->n = buf->n;
    pts->nbad = buf->nbad;
    memset(buf, 0, sizeof *buf);
}

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

int rp_points_add_slice(rp_points *pts, uint64_t offset, uint64_t line, size_t first_row,
                        bool quote_free) {
    rp_points_slice *grown = realloc(pts->slices, (pts->nslices + 1) * sizeof *grown);
    if (!grown)
        return -1;
    pts->slices = grown;
    grown[pts->nslices].offset = offset;
    grown[pts->nslices].line = line;
    grown[pts->nslices].first_row = first_row;
    grown[pts->nslices].quote_free = quote_free;
    pts->nslices++;
    return 0;
}

bool rp_points_should_stop(const rp_points_options *opts, size_t rows, double fraction) {
    if (!opts->progress || (rows & 0xfff) != 0)
        return false;
    return opts->progress(fraction > 1 ? 1 : fraction, "reading points", opts->progress_user) != 0;
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
    /* the whole field must be the number: a NUL byte inside ("9\09.5")
     * ends the C string early but not the field */
    if (n < sizeof buf && end != s && *end == '\0' && (size_t)(end - buf) < n) {
        snprintf(why, why_cap, "%s coordinate '%.40s' is followed by a NUL byte and more text",
                 axis, s);
        return false;
    }
    if (n >= sizeof buf || end == s || *end != '\0') {
        /* "0,5" with ';' delimiters: say what the likely cause is */
        snprintf(why, why_cap, "%s coordinate '%.40s%s' is not a number%s", axis, s,
                 strlen(s) > 40 ? "..." : "",
                 strchr(s, ',') ? " (a decimal comma? coordinates need a decimal point)" : "");
        return false;
    }
    *out = v;
    return true;
}

static const char *skip_spaces(const char *s) {
    while (isspace((unsigned char)*s))
        s++;
    return s;
}

/* "x y" (and a z or m after them, ignored) inside a WKT point; the end of
 * the coordinates, or NULL. */
static const char *wkt_coords(const char *s, double *x, double *y) {
    char *end;
    *x = strtod(s, &end);
    if (end == s)
        return NULL;
    s = end;
    *y = strtod(s, &end);
    if (end == s)
        return NULL;
    for (int extra = 0; extra < 2; extra++) { /* z, m */
        s = end;
        strtod(s, &end);
        if (end == s)
            break;
    }
    return skip_spaces(end);
}

/* A CSV WKT field: POINT [Z|M|ZM] (x y ...), or a MULTIPOINT of one
 * point ((x y) or x y). */
static bool parse_wkt_point(const rp_csv_record *rec, size_t field, double *x, double *y, char *why,
                            size_t cap) {
    if (field >= rec->nfields) {
        snprintf(why, cap, "WKT geometry missing (the row has %zu fields)", rec->nfields);
        return false;
    }
    char buf[256];
    size_t n = rp_csv_field_text(rec, field, buf, sizeof buf);
    const char *s = skip_spaces(buf);
    bool multi = strncasecmp(s, "MULTIPOINT", 10) == 0;
    if (n >= sizeof buf || memchr(buf, '\0', n) || (!multi && strncasecmp(s, "POINT", 5) != 0)) {
        snprintf(why, cap, "WKT geometry '%.30s%s' is not a point", s, strlen(s) > 30 ? "..." : "");
        return false;
    }
    s = skip_spaces(s + (multi ? 10 : 5));
    while (isalpha((unsigned char)*s) && strncasecmp(s, "EMPTY", 5) != 0)
        s++; /* Z, M, ZM */
    s = skip_spaces(s);
    bool inner = false;
    if (*s == '(') {
        s = skip_spaces(s + 1);
        if (multi && *s == '(') {
            inner = true;
            s++;
        }
        s = wkt_coords(s, x, y);
    } else {
        s = NULL; /* EMPTY or junk */
    }
    if (s && inner && *s == ')')
        s = skip_spaces(s + 1);
    if (s && multi && *s == ',') {
        snprintf(why, cap, "WKT MULTIPOINT has several points (one point a row is read)");
        return false;
    }
    if (!s || *s != ')' || *skip_spaces(s + 1) != '\0') {
        snprintf(why, cap, "WKT geometry '%.30s%s' is not a point with coordinates",
                 skip_spaces(buf), strlen(buf) > 30 ? "..." : "");
        return false;
    }
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
    if (pts->wkt)
        return parse_wkt_point(rec, pts->x_field, x, y, why, RP_POINTS_WHY);
    return parse_coordinate(rec, pts->x_field, "x", x, why, RP_POINTS_WHY) &&
           parse_coordinate(rec, pts->y_field, "y", y, why, RP_POINTS_WHY);
}
