/*
 * table_csv.c — the output table as CSV text.
 *
 * A CSV input row is copied byte for byte, padded with empty fields when it
 * is shorter than the header (so values always land under their own
 * column names), and the values are appended with the input's delimiter. A
 * vector input row becomes x, y and its fields.
 *
 * CSV input is read again in slices that the pool's workers format in
 * parallel and write in order themselves (see "slices" below), so the
 * writing overlaps the formatting. Vector input, and CSV that cannot be
 * read again by offset, go row by row on the caller's thread, through
 * table_rows.c's loop.
 */
#include "table_csv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ogr_api.h>

#include "direct_out.h"
#include "error.h"
#include "fileio.h"
#include "points_map.h"
#include "pool.h"
#include "table_rows.h"
#include "valfmt.h"

enum { MAX_ROW_WARNINGS = 10 };

/* A growable byte buffer for one output row. */
typedef struct row_buffer {
    char *data;
    size_t len, cap;
    bool failed;
} row_buffer;

/* Room for n more bytes; false (and b->failed) when memory runs out. */
static bool reserve(row_buffer *b, size_t n) {
    if (b->len + n <= b->cap)
        return !b->failed;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n)
        cap *= 2;
    char *grown = realloc(b->data, cap);
    if (!grown) {
        b->failed = true;
        return false;
    }
    b->data = grown;
    b->cap = cap;
    return !b->failed;
}

static void put_bytes(row_buffer *b, const char *s, size_t n) {
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static void put_char(row_buffer *b, char c) {
    put_bytes(b, &c, 1);
}

static void put_string(row_buffer *b, const char *s) {
    put_bytes(b, s, strlen(s));
}

/* s as one CSV field, quoted when it holds the delimiter, a quote or a line
 * end. */
static void put_field(row_buffer *b, const char *s, char delimiter) {
    if (!strchr(s, delimiter) && !strpbrk(s, "\"\n\r")) {
        put_string(b, s);
        return;
    }
    put_char(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            put_char(b, '"');
        put_char(b, *s);
    }
    put_char(b, '"');
}

/* Whether name is a field of the vector input or a value/status column. */
static bool csv_name_taken(const rp_table_spec *spec, const char *name) {
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(spec->points->layer);
    for (int f = 0; f < OGR_FD_GetFieldCount(defn); f++)
        if (strcasecmp(OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, f)), name) == 0)
            return true;
    for (int c = 0; c < spec->ncolumns; c++)
        if (strcasecmp(spec->columns[c].name, name) == 0 ||
            (spec->with_status && strcasecmp(spec->columns[c].status_name, name) == 0))
            return true;
    return false;
}

/* The name of a vector input's point column (base "x" or "y") in CSV
 * output: base, or base_2, base_3, ... when the layer has a field of that
 * name (a layer with x and y fields), with a note, as value columns are
 * renamed. */
static void point_column_name(const rp_table_spec *spec, const char *base, char *out, size_t cap) {
    snprintf(out, cap, "%s", base);
    for (int k = 2; csv_name_taken(spec, out); k++)
        snprintf(out, cap, "%s_%d", base, k);
    if (strcmp(out, base) != 0 && spec->log)
        fprintf(spec->log,
                "rasterpool: the input already has a field '%s': the point's %s column is "
                "'%s'\n",
                base, base, out);
}

static void put_header(row_buffer *b, const rp_table_spec *spec, char d) {
    const rp_points *pts = spec->points;
    if (pts->is_csv) {
        put_bytes(b, pts->header, pts->header_len);
    } else {
        OGRFeatureDefnH defn = OGR_L_GetLayerDefn(pts->layer);
        char name[64];
        point_column_name(spec, "x", name, sizeof name);
        put_field(b, name, d);
        put_char(b, d);
        point_column_name(spec, "y", name, sizeof name);
        put_field(b, name, d);
        for (int f = 0; f < OGR_FD_GetFieldCount(defn); f++) {
            put_char(b, d);
            put_field(b, OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, f)), d);
        }
    }
    for (int c = 0; c < spec->ncolumns; c++) {
        put_char(b, d);
        put_field(b, spec->columns[c].name, d);
        if (spec->with_status) {
            put_char(b, d);
            put_field(b, spec->columns[c].status_name, d);
        }
    }
    put_char(b, '\n');
}

static void put_vector_row(row_buffer *b, const rp_points *pts, OGRFeatureH feat, size_t i,
                           char d) {
    char num[RP_VALFMT_MAX];
    if (!pts->bad[i]) {
        put_bytes(b, num, rp_format_double(num, pts->x[i]));
        put_char(b, d);
        put_bytes(b, num, rp_format_double(num, pts->y[i]));
    } else {
        put_char(b, d);
    }
    OGRFeatureDefnH defn = OGR_F_GetDefnRef(feat);
    for (int f = 0; f < OGR_FD_GetFieldCount(defn); f++) {
        put_char(b, d);
        if (OGR_F_IsFieldSetAndNotNull(feat, f))
            put_field(b, OGR_F_GetFieldAsString(feat, f), d);
    }
}

/* The row's values, each formatted straight into the buffer (room for
 * RP_VALFMT_MAX bytes is made first: the formatters may write that far). */
static void put_values(row_buffer *b, const rp_table_spec *spec, size_t i, char d) {
    for (int c = 0; c < spec->ncolumns; c++) {
        const rp_value_column *col = &spec->columns[c];
        if (!reserve(b, 1 + RP_VALFMT_MAX))
            return;
        b->data[b->len++] = d;
        if (col->status[i] == RP_POINT_OK)
            b->len += rp_format_value(b->data + b->len, col->band.value_type,
                                      col->values + i * (size_t)col->band.type_size);
        if (spec->with_status) {
            put_char(b, d);
            put_string(b, rp_point_status_name((rp_point_status)col->status[i]));
        }
    }
    put_char(b, '\n');
}

/* After a signal interrupted a write: go on unless the caller's progress
 * function says stop. */
static int keep_writing(void *vspec) {
    const rp_table_spec *spec = vspec;
    return !spec->progress || spec->progress(0, "writing", spec->progress_user) == 0;
}

/* RP_WRITE: the output cannot be written (errno says why) near row. */
static rp_status write_error(const rp_table_spec *spec, size_t row, rp_error *err) {
    return rp_error_set(err, RP_WRITE, "%s: cannot write the output (row %zu): %s",
                        spec->name ? spec->name : "standard output", row, strerror(errno));
}

/* Writes the whole buffer. A signal that interrupts a write to a pipe is
 * the caller's to judge (progress): stop with RP_INTERRUPTED, or go on. */
static rp_status write_all(FILE *out, const char *data, size_t len, const rp_table_spec *spec,
                           size_t row, rp_error *err) {
    int put = rp_fwrite_full(out, data, len, keep_writing, (void *)spec);
    if (put > 0)
        return rp_error_set(err, RP_INTERRUPTED, "interrupted");
    return put < 0 ? write_error(spec, row, err) : RP_OK;
}

/* A row longer than the header: its values cannot line up with their
 * names. Said for the first few (in row order). */
static void warn_long_row(const rp_table_spec *spec, uint64_t line, size_t nfields, size_t *count) {
    const rp_points *pts = spec->points;
    if (spec->log && *count < MAX_ROW_WARNINGS)
        fprintf(spec->log,
                "rasterpool: %s:%llu: the row has %zu fields, the header %zu: its values "
                "follow its last field\n",
                pts->display_name, (unsigned long long)line, nfields, pts->header_fields);
    (*count)++;
}

/* After the last row: the total, when there were more than were shown. */
static void total_long_rows(const rp_table_spec *spec, size_t count) {
    if (spec->log && count > MAX_ROW_WARNINGS)
        fprintf(spec->log, "rasterpool: %s: %zu rows are longer than the header in all\n",
                spec->points->display_name, count);
}

/* A CSV input row byte for byte, then its values. */
static void put_csv_row(row_buffer *b, const rp_table_spec *spec, const rp_csv_record *rec,
                        size_t i, char d) {
    const rp_points *pts = spec->points;
    put_bytes(b, rec->raw, rec->raw_len);
    if (rec->open_quote)
        put_char(b, '"'); /* close it, or the values would sit inside it */
    for (size_t k = rec->nfields; k < pts->header_fields; k++)
        put_char(b, d);
    put_values(b, spec, i, d);
}

/* ---------------------------------------------------------------------------
 * CSV input: slices formatted in parallel, written in order.
 *
 * Pass 1 noted where every slice of rows starts. One pool job runs a task a
 * slice, in slice order: the task takes its slice's bytes in place when the
 * file is mapped (points_map.c; checked unchanged before and after), else
 * reads them with pread (the file, or the spool of standard input), splits them with a memory CSV
 * reader and formats the rows into a slot of a ring of 2 x threads slots
 * (slice s in slot s % ring). Then whichever task finds no writer at work
 * becomes the writer: it writes every formatted slice that is next in
 * order (with the warnings about its long rows), then frees their slots
 * and goes back to formatting. So the one ordered stream of writes runs
 * beside the formatting instead of after it, and no thread waits for a
 * writer. A task whose slot still holds an unwritten slice (ring - 1
 * slices ahead of the writer) waits for it: memory is bounded by the ring,
 * whatever the number of points. Output bytes do not depend on the thread
 * count.
 *
 * Locking: `lock` guards next_write, the slots' ready flags, writing and
 * failed; a slot's buffers belong to its slice's task until ready, then to
 * the writer until written. At one thread the pool runs the tasks inline:
 * each slice is formatted and written at once.
 */

typedef struct slice_out {
    const char *text; /* the slice's bytes: in the mapped file, or in */
    char *in;         /* a copy of them, read with pread */
    size_t in_cap;
    row_buffer out;   /* its formatted rows */
    bool ready;       /* formatted, not yet written */
    size_t long_rows; /* rows longer than the header */
    uint64_t long_line[MAX_ROW_WARNINGS];
    size_t long_fields[MAX_ROW_WARNINGS];
} slice_out;

typedef struct slice_job {
    const rp_table_spec *spec;
    rp_direct_out out; /* the output stream (direct_out.c), the writer's */
    const char *text;  /* the mapped file, or NULL: read fd */
    int fd;            /* read with pread only: shared by the workers */
    uint64_t text_end; /* where the last slice ends */
    bool inline_pool;  /* one thread: tasks run on the caller's thread */
    size_t ring;
    slice_out *outs; /* the ring of slots */
    pthread_mutex_t lock;
    pthread_cond_t written;  /* next_write moved on, or failed */
    size_t next_write;       /* the first slice not yet written */
    bool writing;            /* a task holds the writer's role */
    bool failed;             /* a task failed: the others stop */
    size_t long_rows;        /* the writer's count, in row order */
    atomic_bool interrupted; /* the caller's progress asked to stop */
} slice_job;

static rp_status read_slice(const slice_job *job, slice_out *o, uint64_t begin, size_t len,
                            rp_error *err) {
    if (job->text) {
        o->text = job->text + begin;
        return RP_OK;
    }
    if (len > o->in_cap) {
        char *grown = realloc(o->in, len);
        if (!grown)
            return rp_error_set(err, RP_NOMEM, "out of memory");
        o->in = grown;
        o->in_cap = len;
    }
    o->text = o->in;
    int got = rp_pread_full(job->fd, o->in, len, (off_t)begin);
    if (got > 0)
        return rp_table_points_changed(job->spec, err);
    if (got < 0)
        return rp_error_set(err, RP_READ, "%s: cannot read the points again: %s",
                            job->spec->points->display_name, strerror(errno));
    return RP_OK;
}

/* The rows of slice s, [row, last), from its text in o->text: the CSV
 * reader's records, or plain lines when the text has no quote. */
typedef struct slice_records {
    rp_csv_reader *reader; /* NULL: plain lines */
    rp_csv_lines plain;
} slice_records;

static int next_slice_record(slice_records *r, rp_csv_record *rec) {
    return r->reader ? rp_csv_read(r->reader, rec) : rp_csv_lines_next(&r->plain, rec);
}

/* Formats the rows of slice s (its text in o->text[0..len)) into o->out. */
static rp_status format_rows(const slice_job *job, slice_out *o, size_t s, size_t len,
                             rp_error *err) {
    const rp_table_spec *spec = job->spec;
    const rp_points *pts = spec->points;
    slice_records recs = {.reader = NULL};
    rp_csv_lines_init(&recs.plain, o->text, len, pts->delimiter, pts->slices[s].line,
                      pts->slices[s].offset);
    if (memchr(o->text, '"', len)) {
        recs.reader = rp_csv_reader_new_mem(o->text, len, pts->delimiter, pts->slices[s].line,
                                            pts->slices[s].offset);
        if (!recs.reader)
            return rp_error_set(err, RP_NOMEM, "out of memory");
    }
    size_t row = pts->slices[s].first_row;
    size_t last = s + 1 < pts->nslices ? pts->slices[s + 1].first_row : pts->n;
    rp_csv_record rec;
    int got;
    while ((got = next_slice_record(&recs, &rec)) == 1 && row < last) {
        if (!rp_points_row_written(pts, row)) {
            row++;
            continue;
        }
        put_csv_row(&o->out, spec, &rec, row++, pts->delimiter);
        if (rec.nfields > pts->header_fields) {
            if (o->long_rows < MAX_ROW_WARNINGS) {
                o->long_line[o->long_rows] = rec.line;
                o->long_fields[o->long_rows] = rec.nfields;
            }
            o->long_rows++;
        }
    }
    rp_csv_reader_free(recs.reader);
    if (got != 0 || row != last)
        return rp_table_points_changed(spec, err);
    return o->out.failed ? rp_error_set(err, RP_NOMEM, "out of memory writing the output") : RP_OK;
}

/* Formats slice s into slot o. */
static rp_status format_slice(const slice_job *job, slice_out *o, size_t s, rp_error *err) {
    const rp_table_spec *spec = job->spec;
    const rp_points *pts = spec->points;
    size_t first_row = pts->slices[s].first_row;
    size_t end_row = s + 1 < pts->nslices ? pts->slices[s + 1].first_row : pts->n;
    o->out.len = 0;
    o->long_rows = 0;
    if (pts->write_range && (end_row <= pts->write_lo || first_row >= pts->write_hi))
        return RP_OK; /* no row of this slice is written (a part of a sharded job) */
    uint64_t begin = pts->slices[s].offset;
    uint64_t end = s + 1 < pts->nslices ? pts->slices[s + 1].offset : job->text_end;
    if (end < begin)
        return rp_table_points_changed(spec, err);
    rp_status rc = read_slice(job, o, begin, (size_t)(end - begin), err);
    if (rc == RP_OK)
        rc = format_rows(job, o, s, (size_t)(end - begin), err);
    rp_points_map_release(pts, begin, end); /* its rows are copied out */
    return rc;
}

/* The descriptor pass 2 reads: the spool, or the file opened again;
 * INT_MAX when the file is mapped (nothing to read). -1 when the points are
 * not a regular file that can be read again by offset. */
static int open_text(const rp_points *pts, uint64_t *text_end, bool *own) {
    off_t size;
    int fd = -1;
    *own = false;
    if (pts->text) { /* mapped: the slices are read in place */
        *text_end = pts->text_len;
        return INT_MAX;
    }
    if (pts->spool) {
        if (fflush(pts->spool) != 0)
            return -1;
        fd = fileno(pts->spool);
        *text_end = pts->spool_len;
        return fd;
    }
    fd = open(pts->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (rp_regular_file_size(fd, &size) != 0) {
        close(fd);
        return -1;
    }
    *own = true;
    *text_end = (uint64_t)size;
    return fd;
}

/* The writer's role: interrupted at the caller's word; on the caller's
 * thread (one thread) it asks the caller itself, as the row writer does. */
static int keep_writing_slices(void *vjob) {
    slice_job *job = vjob;
    if (job->inline_pool)
        return keep_writing((void *)job->spec);
    return !atomic_load(&job->interrupted);
}

/* Writes one formatted slice, with its warnings. Called by the writer only. */
static rp_status write_slice(slice_job *job, slice_out *o, size_t s, rp_error *err) {
    const rp_table_spec *spec = job->spec;
    const rp_points *pts = spec->points;
    for (size_t w = 0; w < o->long_rows && w < MAX_ROW_WARNINGS; w++)
        warn_long_row(spec, o->long_line[w], o->long_fields[w], &job->long_rows);
    if (o->long_rows > MAX_ROW_WARNINGS)
        job->long_rows += o->long_rows - MAX_ROW_WARNINGS;
    if (!job->inline_pool && atomic_load(&job->interrupted))
        return rp_error_set(err, RP_INTERRUPTED, "interrupted");
    int put = rp_direct_out_write(&job->out, o->out.data, o->out.len);
    if (put > 0)
        return rp_error_set(err, RP_INTERRUPTED, "interrupted");
    if (put < 0)
        return write_error(spec, s + 1 < pts->nslices ? pts->slices[s + 1].first_row : pts->n, err);
    return RP_OK;
}

/* Called with the lock held, after slice s was formatted: unless a writer
 * is at work, write every slice that is ready and next in order. */
static rp_status write_ready(slice_job *job, rp_error *err) {
    rp_status rc = RP_OK;
    if (job->writing)
        return RP_OK; /* the writer at work will take it */
    job->writing = true;
    while (!job->failed && job->next_write < job->spec->points->nslices &&
           job->outs[job->next_write % job->ring].ready) {
        size_t s = job->next_write;
        slice_out *o = &job->outs[s % job->ring];
        pthread_mutex_unlock(&job->lock);
        rc = write_slice(job, o, s, err);
        pthread_mutex_lock(&job->lock);
        o->ready = false;
        job->next_write++;
        pthread_cond_broadcast(&job->written);
        if (rc != RP_OK) {
            job->failed = true;
            break;
        }
    }
    job->writing = false;
    return rc;
}

/* Task s: wait for its slot, format slice s into it, then write what is
 * ready in order. */
static rp_status slice_task(void *vjob, void *state, size_t s, rp_error *err) {
    (void)state;
    slice_job *job = vjob;
    slice_out *o = &job->outs[s % job->ring];
    pthread_mutex_lock(&job->lock);
    while (!job->failed && s >= job->next_write + job->ring)
        pthread_cond_wait(&job->written, &job->lock);
    bool give_up = job->failed;
    pthread_mutex_unlock(&job->lock);
    if (give_up)
        return RP_OK; /* the job's error is the failed task's */
    rp_status rc = format_slice(job, o, s, err);
    pthread_mutex_lock(&job->lock);
    if (rc == RP_OK) {
        o->ready = true;
        rc = write_ready(job, err);
    } else {
        job->failed = true;
        pthread_cond_broadcast(&job->written);
    }
    pthread_mutex_unlock(&job->lock);
    return rc;
}

/* The caller's progress, noted for the writer (which runs on a worker). */
static int slices_progress(double fraction, const char *message, void *vjob) {
    slice_job *job = vjob;
    int stop = job->spec->progress(fraction, message, job->spec->progress_user);
    if (stop)
        atomic_store(&job->interrupted, true);
    return stop;
}

/* The header (head) and the slices, through one direct_out.c stream. */
static rp_status write_csv_slices(FILE *out, const rp_table_spec *spec, const row_buffer *head,
                                  int fd, uint64_t text_end, rp_error *err) {
    const rp_points *pts = spec->points;
    rp_status rc = rp_points_map_check(pts, "before writing the output", err);
    if (rc != RP_OK)
        return rc;
    rp_points_map_test_hook(pts, "pass2");
    int threads = rp_pool_threads(spec->pool);
    slice_job job = {.spec = spec,
                     .text = pts->text,
                     .fd = fd,
                     .text_end = text_end,
                     .inline_pool = threads <= 1,
                     .ring = 2 * (size_t)(threads > 0 ? threads : 1)};
    job.outs = calloc(job.ring, sizeof *job.outs);
    if (!job.outs)
        return rp_error_set(err, RP_NOMEM, "out of memory");
    atomic_init(&job.interrupted, false);
    /* standard output is shared with whoever started us: never direct */
    rp_direct_out_begin(&job.out, out, out != stdout, keep_writing_slices, &job);
    int put = rp_direct_out_write(&job.out, head->data, head->len);
    if (put != 0)
        rc = put > 0 ? rp_error_set(err, RP_INTERRUPTED, "interrupted") : write_error(spec, 0, err);
    pthread_mutex_init(&job.lock, NULL);
    pthread_cond_init(&job.written, NULL);
    rp_pool_job pj = {.ntasks = pts->nslices,
                      .ctx = &job,
                      .run = slice_task,
                      .progress = spec->progress ? slices_progress : NULL,
                      .progress_user = &job,
                      .progress_message = "writing"};
    if (rc == RP_OK)
        rc = rp_pool_run(spec->pool, &pj, err);
    put = rp_direct_out_end(&job.out, rc == RP_OK);
    if (rc == RP_OK && put != 0)
        rc = put > 0 ? rp_error_set(err, RP_INTERRUPTED, "interrupted")
                     : write_error(spec, pts->n, err);
    if (rc == RP_OK)
        rc = rp_points_map_check(pts, "after writing the output", err);
    if (rc == RP_OK && job.next_write != pts->nslices) /* cannot happen: every task ran */
        rc = rp_error_set(err, RP_INTERNAL, "%zu of %zu output slices written", job.next_write,
                          pts->nslices);
    total_long_rows(spec, job.long_rows);
    pthread_cond_destroy(&job.written);
    pthread_mutex_destroy(&job.lock);
    for (size_t k = 0; k < job.ring; k++) {
        free(job.outs[k].in);
        free(job.outs[k].out.data);
    }
    free(job.outs);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Row by row: vector input, or CSV that cannot be read again by offset. */
typedef struct row_writer {
    FILE *out;
    const rp_table_spec *spec;
    char delimiter;
    row_buffer b;     /* reused from row to row */
    size_t long_rows; /* rows longer than the header */
} row_writer;

static rp_status write_row(void *vw, size_t i, const rp_csv_record *rec, OGRFeatureH feat,
                           rp_error *err) {
    row_writer *w = vw;
    const rp_table_spec *spec = w->spec;
    w->b.len = 0;
    if (rec) {
        put_csv_row(&w->b, spec, rec, i, w->delimiter);
        if (rec->nfields > spec->points->header_fields)
            warn_long_row(spec, rec->line, rec->nfields, &w->long_rows);
    } else {
        put_vector_row(&w->b, spec->points, feat, i, w->delimiter);
        put_values(&w->b, spec, i, w->delimiter);
    }
    if (w->b.failed)
        return rp_error_set(err, RP_NOMEM, "out of memory writing row %zu", i + 1);
    return write_all(w->out, w->b.data, w->b.len, spec, i + 1, err);
}

static rp_status write_rows(FILE *out, const rp_table_spec *spec, char delimiter, rp_error *err) {
    row_writer w = {.out = out, .spec = spec, .delimiter = delimiter};
    rp_status rc = rp_table_for_each_row(spec, write_row, &w, err);
    total_long_rows(spec, w.long_rows);
    free(w.b.data);
    return rc;
}

rp_status rp_table_write_csv(FILE *out, const rp_table_spec *spec, rp_error *err) {
    rp_points *pts = spec->points;
    char d = pts->is_csv ? pts->delimiter : ',';
    uint64_t text_end = 0;
    bool own_fd = false;
    int fd = pts->is_csv && spec->pool ? open_text(pts, &text_end, &own_fd) : -1;
    row_buffer b = {0};
    if (!pts->write_no_header)
        put_header(&b, spec, d);
    rp_status rc = b.failed ? rp_error_set(err, RP_NOMEM, "out of memory") : RP_OK;
    if (rc == RP_OK && fd < 0) /* row by row: the header first */
        rc = write_all(out, b.data, b.len, spec, 0, err);
    if (rc == RP_OK)
        rc = fd < 0 ? write_rows(out, spec, d, err)
                    : write_csv_slices(out, spec, &b, fd == INT_MAX ? -1 : fd, text_end, err);
    free(b.data);
    if (own_fd)
        close(fd);
    return rc;
}
