/*
 * points_csv_pieces.c — pass 1 of a large CSV file in parallel: the data
 * rows are cut into byte pieces, each parsed by a pool worker, and joined in
 * file order, with the same points, bad rows and warnings as reading row by
 * row gives.
 *
 * Where a record starts cannot be known from the middle of a file: a line
 * end may sit inside a quoted field. So each piece begins speculatively
 * just after the first line end at or after its nominal byte (found by the
 * caller), and parses the records that start before the next piece's
 * speculative beginning; it reports `end`, the first record at or after that
 * beginning. The pieces are checked in order: piece k+1 is right when its
 * first record is piece k's `end` (both are then true record starts, and
 * from there the two parses are the same text read the same way).
 * Otherwise piece k+1 and the rest of its wave are thrown away and the next
 * wave starts at piece k's `end`, which is a true record start. Every wave
 * keeps at least its first piece, so the work always moves on; a file
 * without quoted line ends never redoes anything. A piece that began inside
 * a quoted field can also take a closing quote for an opening one and read
 * on towards the end of the file: a record past the length limit is an
 * error only in a piece that begins at a true record start (a wave's
 * first); any other piece is refused instead (its first record matches
 * nothing, so the wave is redone from the true start, where a record that
 * is really too long is told). Within a piece, lines are
 * read as plain lines (one pass over each line's bytes, csv.h) up to the
 * first line that holds a quote, and by the quoted reader from there on.
 *
 * Pieces are size / (8 x threads), between 256 KiB and 2 MiB, and run in
 * waves of two a worker, so memory in flight is bounded by the wave (the
 * pieces' bytes and their points) whatever the file size. Each accepted
 * piece becomes one slice of pass 2, whose ordered output cannot start
 * before its first slice is formatted and whose slots of formatted rows are
 * fresh memory at first: with 8 MiB pieces the 10M-point write phase took
 * 0.283 s, with 2 MiB 0.248 s (9 alternating runs, medians; 4 MiB 0.254,
 * 1 MiB 0.262 s in runs of 7).
 *
 * Threads: workers parse their own piece into their own rp_xy_buf and read
 * only rp_points' columns and delimiter; the file is read in place when it
 * is mapped (pts->text, points_map.c), else with pread on one shared
 * descriptor; a mapped piece's pages leave the resident set once it is
 * parsed (points_map.c). Joining is done by the workers too, in piece order:
 * after parsing, whichever task finds no joiner at work becomes the joiner
 * and appends every parsed piece that is next in order to the caller's
 * rp_xy_buf, notes its slice and prints its warnings, while the others go
 * on parsing (one joiner at a time; `lock` guards the order, the role and
 * where the joined text ends). So the join runs beside the parsing
 * instead of after each wave. Lines are counted relative to each piece's beginning and made
 * absolute when the pieces are joined. Calls only points_buf.c of the
 * points modules.
 */
#include "points_csv_pieces.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fileio.h"
#include "points_map.h"
#include "pool.h"

enum { MIN_PIECE = 256 << 10, MAX_PIECE = 2 << 20, FIRST_MARGIN = 64 << 10 };

typedef struct kept_bad {
    uint64_t line; /* relative to the piece's beginning */
    char why[RP_POINTS_WHY];
} kept_bad;

typedef struct piece {
    uint64_t begin, stop; /* records starting in [begin, stop) are this piece's */
    /* results */
    uint64_t first, end;           /* offsets of the first record and of the next piece's */
    uint64_t first_line, end_line; /* relative lines of those two records */
    bool parsed;                   /* results ready (under the job's lock) */
    bool quote_free;               /* every line was read as a plain line: no '"' */
    bool speculative;              /* begins where a record may not start (not a wave's first) */
    bool refused;                  /* speculative, and ran into a record past the limit */
    rp_xy_buf part;                /* its points */
    kept_bad kept[RP_POINTS_MAX_WARNINGS + 1];
    const char *text; /* its bytes: in the mapped file, or buf */
    char *buf;
    size_t buf_cap;
} piece;

typedef struct pieces_job {
    const rp_points_options *opts;
    rp_points *pts; /* workers read its columns; the joiner adds slices */
    int fd;
    uint64_t size;
    piece *pieces; /* the wave's */
    size_t count;  /* pieces in the wave */
    rp_xy_buf *xy; /* the caller's: the joiner appends to it */
    /* under lock: */
    pthread_mutex_t lock;
    size_t next_join;    /* the wave's first piece not yet joined */
    bool joining;        /* a task holds the joiner's role */
    bool stop_joining;   /* a piece began inside a quoted field, or a join failed */
    uint64_t start;      /* a true record start: where the joined text ends */
    uint64_t start_line; /* the absolute line there */
} pieces_job;

static rp_status read_at(int fd, char *buf, size_t len, uint64_t offset, const rp_points *pts,
                         rp_error *err) {
    int got = rp_pread_full(fd, buf, len, (off_t)offset);
    if (got == 0)
        return RP_OK;
    return rp_error_set(err, RP_READ, "%s: %s", pts->display_name,
                        got < 0 ? strerror(errno) : "the file shrank while being read");
}

/* The piece's next record: its lines are scanned once each (csv.h) until
 * one holds a quote; from that line, a true record start, the quoted reader
 * reads on (made here: *reader), with the same records as reading the whole
 * piece with it. 1, 0 at the end, or -1 when memory runs out. */
static int next_record(rp_csv_lines *lines, rp_csv_reader **reader, rp_csv_record *rec) {
    if (!*reader) {
        int got = rp_csv_lines_next_unquoted(lines, rec);
        if (got != RP_CSV_LINES_QUOTE)
            return got;
        *reader = rp_csv_reader_new_mem(lines->text + lines->pos, lines->len - lines->pos,
                                        lines->delimiter, lines->line, lines->base + lines->pos);
        if (!*reader)
            return -1;
    }
    return rp_csv_read(*reader, rec);
}

/* One pass over the piece's bytes [begin, begin + len). Returns 1 when done,
 * 0 when a record runs past the bytes read (read more and parse again). */
static int parse_piece(const pieces_job *job, piece *p, size_t len, rp_status *rc, rp_error *err) {
    const rp_points *pts = job->pts;
    bool to_eof = p->begin + len >= job->size;
    p->part.n = p->part.nbad = 0;
    p->first = p->end = UINT64_MAX;
    size_t need = (pts->x_field > pts->y_field ? pts->x_field : pts->y_field) + 1;
    rp_csv_field local[16];
    rp_csv_field *fields = need <= 16 ? local : malloc(need * sizeof *fields);
    if (!fields) {
        *rc = rp_error_set(err, RP_NOMEM, "out of memory");
        return 1;
    }
    rp_csv_lines lines;
    rp_csv_lines_init(&lines, p->text, len, pts->delimiter, 0, p->begin);
    rp_csv_lines_set_fields(&lines, fields, need);
    rp_csv_reader *reader = NULL;
    rp_csv_record rec;
    int got;
    while ((got = next_record(&lines, &reader, &rec)) == 1) {
        if (rec.offset >= p->stop) {
            p->end = rec.offset;
            p->end_line = rec.line;
            break;
        }
        if (rec.raw_len >= RP_CSV_MAX_RECORD) { /* the row-by-row reader's limit too */
            if (p->speculative) {
                p->refused = true;
                break;
            }
            *rc = rp_error_set(err, RP_READ,
                               "%s: the record at line %llu is longer than %zu MiB (an "
                               "unclosed quote?)",
                               pts->display_name, (unsigned long long)rec.line,
                               RP_CSV_MAX_RECORD >> 20);
            break;
        }
        if (p->first == UINT64_MAX) {
            p->first = rec.offset;
            p->first_line = rec.line;
        }
        double x = NAN, y = NAN;
        char why[RP_POINTS_WHY];
        bool ok = rp_points_parse_xy(pts, &rec, &x, &y, why);
        if (rp_xy_buf_push(&p->part, ok ? x : NAN, ok ? y : NAN, !ok) != 0) {
            *rc = rp_error_set(err, RP_NOMEM, "out of memory reading points");
            break;
        }
        if (!ok && p->part.nbad <= RP_POINTS_MAX_WARNINGS + 1) {
            kept_bad *k = &p->kept[p->part.nbad - 1];
            k->line = rec.line;
            memcpy(k->why, why, sizeof why);
        }
    }
    p->quote_free = reader == NULL; /* the quoted reader starts at a line with a '"' */
    rp_csv_reader_free(reader);
    if (fields != local)
        free(fields);
    if (*rc == RP_OK && got < 0)
        *rc = rp_error_set(err, RP_NOMEM, "out of memory reading points");
    if (*rc != RP_OK || p->refused)
        return 1;
    if (p->end == UINT64_MAX) { /* the bytes ended before a record at or after stop */
        if (!to_eof)
            return 0;
        p->end = job->size;
    }
    if (p->first == UINT64_MAX) {
        p->first = p->end;
        p->first_line = p->end_line;
    }
    return 1;
}

/* The piece's first want bytes in p->text: in place in the mapped file,
 * else read into p->buf. */
static rp_status piece_text(const pieces_job *job, piece *p, size_t want, rp_error *err) {
    if (job->pts->text) {
        p->text = job->pts->text + p->begin;
        return RP_OK;
    }
    if (want > p->buf_cap) {
        char *grown = realloc(p->buf, want);
        if (!grown)
            return rp_error_set(err, RP_NOMEM, "out of memory");
        p->buf = grown;
        p->buf_cap = want;
    }
    p->text = p->buf;
    return read_at(job->fd, p->buf, want, p->begin, job->pts, err);
}

/* A speculative piece that ran into a record past the limit: no records,
 * and a first record no piece ends at (the joiner stops the wave there). */
static rp_status refuse_piece(piece *p) {
    p->refused = true;
    p->part.n = p->part.nbad = 0;
    p->first = p->end = UINT64_MAX;
    p->first_line = p->end_line = 0;
    return RP_OK;
}

static rp_status parse_whole_piece(const pieces_job *job, piece *p, rp_error *err) {
    uint64_t margin = FIRST_MARGIN;
    p->refused = false;
    for (;;) {
        uint64_t want = p->stop - p->begin + margin;
        if (p->begin + want > job->size)
            want = job->size - p->begin;
        if (want > (uint64_t)MAX_PIECE + RP_CSV_MAX_RECORD) {
            if (p->speculative)
                return refuse_piece(p);
            return rp_error_set(err, RP_READ,
                                "%s: a record near byte %llu is longer than %zu MiB (an "
                                "unclosed quote?)",
                                job->pts->display_name, (unsigned long long)p->stop,
                                RP_CSV_MAX_RECORD >> 20);
        }
        rp_status rc = piece_text(job, p, (size_t)want, err);
        if (rc != RP_OK)
            return rc;
        if (parse_piece(job, p, (size_t)want, &rc, err))
            return rc == RP_OK && p->refused ? refuse_piece(p) : rc;
        margin *= 4;
    }
}

/* Appends an accepted piece to xy, warning about its bad rows with
 * absolute line numbers (line_of_first: the absolute line of its first
 * record), and starts its slice for pass 2. The piece kept the reasons of
 * its first RP_POINTS_MAX_WARNINGS + 1 bad rows: enough for every warning
 * and the note after them, whatever came before. */
static rp_status join_piece(const rp_points_options *opts, rp_points *pts, rp_xy_buf *xy,
                            const piece *p, uint64_t line_of_first, rp_error *err) {
    const rp_xy_buf *part = &p->part;
    size_t bad_before = xy->nbad;
    if ((part->n && rp_points_add_slice(pts, p->first, line_of_first, xy->n, p->quote_free) != 0) ||
        rp_xy_buf_append(xy, part) != 0)
        return rp_error_set(err, RP_NOMEM, "out of memory reading points");
    for (size_t k = 0; k < part->nbad && k <= RP_POINTS_MAX_WARNINGS; k++) {
        char where[32];
        snprintf(where, sizeof where, "%llu",
                 (unsigned long long)(line_of_first + p->kept[k].line - p->first_line));
        rp_points_warn_bad(opts, pts, bad_before + k + 1, where, p->kept[k].why);
    }
    return RP_OK;
}

/* Before the first join: room for the points the whole file likely holds,
 * at the first piece's bytes a row (plus 1/16), so the caller's arrays are
 * not copied into fresh pages again and again as they double. Untouched
 * room costs no memory; a low estimate only means doubling from there. */
static void reserve_estimate(pieces_job *job, const piece *p) {
    if (p->part.n == 0 || p->end <= p->first)
        return;
    double per_row = (double)(p->end - p->first) / (double)p->part.n;
    double rows = (double)(job->size - p->first) / per_row;
    (void)rp_xy_buf_reserve(job->xy, (size_t)(rows + rows / 16) + 1024);
}

/* Called with the lock held: unless a joiner is at work, join the
 * wave's parsed pieces in order, each where the one before ended; a piece
 * that does not (it began inside a quoted field) stops the wave there, and
 * the next wave starts at the true record start reached. */
static rp_status join_ready(pieces_job *job, rp_error *err) {
    rp_status rc = RP_OK;
    if (job->joining)
        return RP_OK; /* the joiner at work will take it */
    job->joining = true;
    while (!job->stop_joining && job->next_join < job->count &&
           job->pieces[job->next_join].parsed) {
        size_t k = job->next_join;
        const piece *p = &job->pieces[k];
        if (k > 0 && p->first != job->pieces[k - 1].end) {
            job->stop_joining = true; /* redo from job->start */
            break;
        }
        pthread_mutex_unlock(&job->lock);
        if (job->xy->n == 0 && job->xy->cap == 0)
            reserve_estimate(job, p);
        /* piece k > 0 begins with piece k - 1's end record, at start_line */
        uint64_t line_of_first = k == 0 ? job->start_line + p->first_line : job->start_line;
        rc = join_piece(job->opts, job->pts, job->xy, p, line_of_first, err);
        pthread_mutex_lock(&job->lock);
        if (rc != RP_OK) {
            job->stop_joining = true;
            break;
        }
        job->start = p->end;
        job->start_line = line_of_first + (p->end_line - p->first_line);
        job->next_join++;
    }
    job->joining = false;
    return rc;
}

/* Task k: parse piece k, then join what is ready in order, so that joining
 * runs beside the parsing of the wave's other pieces. */
static rp_status run_piece(void *vjob, void *state, size_t task, rp_error *err) {
    (void)state;
    pieces_job *job = vjob;
    piece *p = &job->pieces[task];
    rp_status rc = parse_whole_piece(job, p, err);
    if (rc != RP_OK)
        return rc;
    rp_points_map_release(job->pts, p->begin, p->stop); /* the next piece's: its own */
    pthread_mutex_lock(&job->lock);
    p->parsed = true;
    rc = join_ready(job, err);
    pthread_mutex_unlock(&job->lock);
    return rc;
}

/* The first record start at or after `at`, were no line end quoted: just
 * after the first '\n' at or after at - 1. The file's size when none. */
static rp_status speculative_start(int fd, uint64_t at, uint64_t size, const rp_points *pts,
                                   uint64_t *start, rp_error *err) {
    char buf[4096];
    if (pts->text) {
        const char *nl = memchr(pts->text + at - 1, '\n', (size_t)(size - (at - 1)));
        *start = nl ? (uint64_t)(nl - pts->text) + 1 : size;
        return RP_OK;
    }
    for (uint64_t pos = at - 1; pos < size; pos += sizeof buf) {
        size_t len = size - pos < sizeof buf ? (size_t)(size - pos) : sizeof buf;
        rp_status rc = read_at(fd, buf, len, pos, pts, err);
        if (rc != RP_OK)
            return rc;
        const char *nl = memchr(buf, '\n', len);
        if (nl) {
            *start = pos + (uint64_t)(nl - buf) + 1;
            return RP_OK;
        }
    }
    *start = size;
    return RP_OK;
}

rp_status rp_points_csv_pieces(const rp_points_options *opts, rp_points *pts, int fd,
                               uint64_t offset, uint64_t line, uint64_t size, rp_xy_buf *xy,
                               rp_error *err) {
    int threads = rp_pool_threads(opts->pool);
    size_t wave = 2 * (size_t)(threads > 0 ? threads : 1);
    uint64_t piece_bytes = size / (8 * (uint64_t)(threads > 0 ? threads : 1));
    piece_bytes = piece_bytes < MIN_PIECE   ? MIN_PIECE
                  : piece_bytes > MAX_PIECE ? MAX_PIECE
                                            : piece_bytes;
    piece *pieces = calloc(wave, sizeof *pieces);
    if (!pieces)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    pieces_job job = {.opts = opts, .pts = pts, .fd = fd, .size = size, .pieces = pieces, .xy = xy};
    pthread_mutex_init(&job.lock, NULL);
    job.start = offset;    /* a true record start (or a blank line's) */
    job.start_line = line; /* the absolute line there */
    rp_status rc = RP_OK;
    while (rc == RP_OK && job.start < size) {
        /* the wave's pieces: the first at the true start, the others at
         * speculative starts after each nominal piece_bytes */
        size_t count = 0;
        uint64_t begin = job.start;
        while (count < wave && begin < size && rc == RP_OK) {
            pieces[count].begin = begin;
            pieces[count].parsed = false;
            pieces[count].speculative = count > 0;
            uint64_t nominal = begin + piece_bytes;
            uint64_t stop = size;
            if (nominal < size)
                rc = speculative_start(fd, nominal, size, pts, &stop, err);
            pieces[count].stop = stop;
            count++;
            begin = stop;
        }
        if (rc != RP_OK)
            break;
        job.count = count;
        job.next_join = 0;
        job.stop_joining = false;
        rp_pool_job pj = {.ntasks = count,
                          .ctx = &job,
                          .run = run_piece,
                          .progress = opts->progress,
                          .progress_user = opts->progress_user,
                          .progress_message = "reading points"};
        rc = rp_pool_run(opts->pool, &pj, err);
        if (rc == RP_OK && opts->progress &&
            opts->progress((double)job.start / (double)size, "reading points", opts->progress_user))
            rc = rp_error_set(err, RP_INTERRUPTED, "interrupted");
    }
    pthread_mutex_destroy(&job.lock);
    for (size_t k = 0; k < wave; k++) {
        rp_xy_buf_free(&pieces[k].part);
        free(pieces[k].buf);
    }
    free(pieces);
    return rc;
}
